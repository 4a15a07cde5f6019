"""Faults on a running cluster, and what clients saw: the lab tests test_resilience*.py and the
benchmark test/bench_resilience.py share this.

One run (`run_fault`): the cluster is healthy; a writer, probes and, for a partition, a probe
inside the partitioned node start; the fault is injected; the run holds it until writes
through the entry point have resumed (or for a fixed time, for the etcd faults); the fault is
undone (thaw, heal, restart); the run waits until the cluster is healthy again; then the
checker reads the leader and every replica.

Who writes:
- EntryWriter: one row per transaction through the cluster's entry point (the VIP on 5432 for
  Type B, HAProxy's 5000 behind the keepalived VIP for Type A). The INSERT itself returns the
  node that committed it (its /etc/hostname) and that node's timeline (from the name of its
  current WAL file), so each acknowledgement says who accepted it. Only an INSERT whose
  COMMIT returned counts as acknowledged. Deadlines are the client's own (connect and
  statement, 2 s): a frozen or partitioned server never answers, and a server-side
  statement_timeout would be wrong here: cancelling a commit that waits for its synchronous
  standby acknowledges it to the client (PostgreSQL's "canceling wait for synchronous
  replication": committed locally, maybe not replicated).
- DirectProbes: from the host, an INSERT into their own table (pgha_probe) directly on every
  database node's 5432, five times a second each, 1.5 s deadlines; each success recorded
  the same way.
- NodeProbe (partition only): the same from inside the partitioned node over its unix socket,
  as a client on the old primary's side of the partition would.

Definitions (pure functions below, unit-tested in test/unit/test_resilience_checker.py):
- RTO, write unavailability: the longest gap between consecutive acknowledged commits of the
  writer, from its last acknowledgement before the fault to the end of the run (so an
  interruption while the fault is undone counts too). first_ack: from the fault's injection
  to the first commit acknowledged after it.
- lost: acknowledged ids of the writer that the leader does not have after recovery.
  Allowed: none under synchronous_mode (strict or not, with a synchronous standby at the time
  of the fault: Patroni promotes only it). Asynchronous: what maximum_lag_on_failover lets
  through, plus the WAL of one loop_wait (the leader publishes its WAL position once per
  loop), in commits of the size this run measured (allowed_lost_commits).
- split brain: a node, on one timeline, acknowledged a commit certainly before and another
  certainly after a commit that a different node acknowledged (a1.end < b.start and
  b.end < a2.start): it accepted writes before and after the other did, so both were writable
  at once. A node that is primary again later is on a new timeline, so a fail-back is not
  split brain. Successes of the writer and of every probe count.

What the probes can and cannot see: from the host, nothing reaches a frozen or partitioned
node (its link is down; the host reaches nodes over the bridge), so a partitioned old primary
is seen only by the NodeProbe inside it, and a frozen one by nobody while frozen, and by
every probe again once thawed, before Patroni demotes it. A crashed node accepts nothing.
What a node accepted and then lost to pg_rewind is visible only through the acknowledgements
the probes recorded, not in any table afterwards.
"""
import json
import select
import statistics
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import psycopg2
from psycopg2 import extensions

WRITER_TABLE = "pgha_resilience"
PROBE_TABLE = "pgha_probe"
RUN_DIR = "/var/run/postgresql"        # pgha's paths:run_dir (os_family/Debian.yaml)


# -- pure: definitions ------------------------------------------------------------------------

class Success(NamedTuple):
    """A write acknowledged by `node` on `timeline`, committed between `start` and `end`
    (time.monotonic(), the same clock in the host and in every node)."""
    node: str
    timeline: int
    start: float
    end: float
    source: str            # "writer", "direct", "inside"


def timeline_of(walfile):
    """Timeline of a WAL file name ('00000002000000000000000A' -> 2); 0 when unknown."""
    try:
        return int(walfile[:8], 16)
    except (TypeError, ValueError):
        return 0


def write_unavailability(ack_times, fault_at):
    """(rto, first_ack): the longest gap between consecutive acknowledgements from the last
    one before `fault_at` on (None when none came after it), and the seconds from `fault_at`
    to the first acknowledgement after it (None likewise)."""
    times = sorted(ack_times)
    before = [t for t in times if t <= fault_at]
    after = [t for t in times if t > fault_at]
    if not after:
        return None, None
    series = [before[-1] if before else fault_at] + after
    return max(b - a for a, b in zip(series, series[1:])), after[0] - fault_at


def split_brain(successes):
    """Evidence of two writable primaries: [(a1, b, a2)] where a1 and a2 are successes of one
    node on one timeline, b a success of another node, a1.end < b.start and b.end < a2.start
    (a1 the last such before b, a2 the first after). One item per (node, timeline, b.node)."""
    groups = defaultdict(list)
    by_node = defaultdict(list)
    for s in successes:
        groups[(s.node, s.timeline)].append(s)
        by_node[s.node].append(s)
    evidence = []
    for (node, _), own in sorted(groups.items()):
        first_end = min(a.end for a in own)          # some a1 ends before b starts
        last_start = max(a.start for a in own)       # some a2 starts after b ends
        for other in sorted(set(by_node) - {node}):
            for b in sorted(by_node[other], key=lambda s: s.start):
                if first_end < b.start and b.end < last_start:
                    evidence.append((max((a for a in own if a.end < b.start), key=lambda a: a.end), b,
                                     min((a for a in own if a.start > b.end), key=lambda a: a.start)))
                    break
    return evidence


def handover_gap(successes):
    """Seconds between the last success of one node and the first of the next node to
    succeed, smallest over the run (None with one node): how close two primaries came.
    Negative when their commit windows overlap (which alone proves nothing)."""
    ordered = sorted(successes, key=lambda s: s.start)
    gaps = []
    last = {}
    for s in ordered:
        others = [t for n, t in last.items() if n != s.node]
        if others and s.node not in last:
            gaps.append(s.start - max(others))
        last[s.node] = s.end
    return min(gaps) if gaps else None


def successes_between(successes, start, end, node=None):
    """Successes that certainly committed within [start, end] (on `node` if given)."""
    return [s for s in successes if s.start >= start and s.end <= end and (node is None or s.node == node)]


def allowed_lost_commits(dcs, bytes_per_commit, commits_per_second):
    """Acknowledged commits a failover may lose under Patroni's dynamic configuration `dcs`:
    0 with synchronous_mode; else maximum_lag_on_failover plus one loop_wait of writes at the
    measured rate, in commits of the measured size."""
    if dcs.get("synchronous_mode"):
        return 0
    per_commit = max(float(bytes_per_commit or 0), 1.0)
    return int(dcs.get("maximum_lag_on_failover", 1048576) / per_commit
               + dcs.get("loop_wait", 10) * max(float(commits_per_second or 0), 0.0))


def summary_rows(samples):
    """Benchmark table rows from run summaries ({preset, fault, rto, first_ack, lost,
    split_brain, error}): one per (preset, fault) in first-seen order."""
    grouped = {}
    for s in samples:
        grouped.setdefault((s["preset"], s["fault"]), []).append(s)
    rows = []
    for (preset, fault), runs in grouped.items():
        ok = [r for r in runs if not r.get("error") and r.get("rto") is not None]
        rtos = [r["rto"] for r in ok]
        firsts = [r["first_ack"] for r in ok if r.get("first_ack") is not None]
        rows.append({
            "preset": preset, "fault": fault, "runs": len(runs), "failed": len(runs) - len(ok),
            "rto_median": statistics.median(rtos) if rtos else None,
            "rto_max": max(rtos) if rtos else None,
            "first_ack_median": statistics.median(firsts) if firsts else None,
            "lost": sum(r.get("lost") or 0 for r in ok),
            "split_brain": sum(1 for r in ok if r.get("split_brain")),
        })
    return rows


BASELINE_PRESET = "norm"  # Patroni's own timings, which autobase deploys


def format_table(rows):
    """summary_rows as a Markdown table (the README publishes it as printed). `x norm`: the
    RTO median over the `norm` preset's for the same fault in the same run."""
    def sec(v):
        return "-" if v is None else f"{v:.1f} s"
    baseline = {r["fault"]: r["rto_median"] for r in rows if r["preset"] == BASELINE_PRESET}
    lines = ["| preset | fault | runs | RTO median | RTO max | x norm | first ack (median) | "
             "acknowledged commits lost (total) | split brain (runs) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        runs = f"{r['runs']}" + (f" ({r['failed']} failed)" if r["failed"] else "")
        base = baseline.get(r["fault"])
        ratio = f"{r['rto_median'] / base:.2f}" if base and r["rto_median"] is not None else "-"
        lines.append(f"| {r['preset']} | {r['fault']} | {runs} | {sec(r['rto_median'])} | "
                     f"{sec(r['rto_max'])} | {ratio} | {sec(r['first_ack_median'])} | {r['lost']} | "
                     f"{r['split_brain']} |")
    return "\n".join(lines)


# -- clients with deadlines ---------------------------------------------------------------------

def _wait(conn, deadline):
    """Drive an asynchronous psycopg2 connection until its operation is done or `deadline`
    (time.monotonic()) passes: the client's own timeout, whatever the server does."""
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer before the client's deadline")
        if state == extensions.POLL_READ:
            select.select([conn.fileno()], [], [], left)
        else:
            select.select([], [conn.fileno()], [], left)


def _connect(host, port, user, password, deadline):
    conn = psycopg2.connect(host=host, port=port, dbname="postgres", user=user, password=password,
                            async_=1)
    try:
        _wait(conn, deadline)
    except BaseException:
        conn.close()
        raise
    return conn


def _execute(conn, sql, params, deadline):
    cur = conn.cursor()
    cur.execute(sql, params)
    _wait(conn, deadline)
    return cur.fetchone() if cur.description else None


def _close(conn):
    if conn is not None:
        try:
            conn.close()
        except Exception:  # pylint: disable=broad-except ; already broken
            pass


def _read_only(exc):
    return getattr(exc, "pgcode", None) == "25006"   # read_only_sql_transaction: a replica


# Who committed: the node's name and its timeline (only a primary can run the INSERT)
_HOSTNAME = "rtrim(pg_read_file('/etc/hostname'), E'\\n')"
_COMMITTED_BY = "RETURNING node, pg_walfile_name(pg_current_wal_lsn())"
WRITER_SQL = f"INSERT INTO {WRITER_TABLE} (id, node) VALUES (%s, {_HOSTNAME}) {_COMMITTED_BY}"
PROBE_SQL = f"INSERT INTO {PROBE_TABLE} (node, prober, seq) VALUES ({_HOSTNAME}, %s, %s) {_COMMITTED_BY}"


def create_tables(lab, host):
    from .helpers import query  # pylint: disable=import-outside-toplevel
    query(lab, host, f"CREATE TABLE IF NOT EXISTS {WRITER_TABLE} (id text PRIMARY KEY, node text, "
                     "at timestamptz DEFAULT clock_timestamp())")
    query(lab, host, f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (node text, prober text, seq bigint, "
                     "at timestamptz DEFAULT clock_timestamp())")


class EntryWriter:
    """Commits one row per transaction through `host`:`port` until stopped; see the module
    docstring. acked: [(id, Success)]; errors: [(time, message)]."""

    def __init__(self, lab, host, port=5432, interval=0.01, timeout=2.0, name=None):
        from .helpers import superuser  # pylint: disable=import-outside-toplevel
        self.lab, self.host, self.port = lab, host, port
        self.user, self.password = superuser(lab)
        self.interval, self.timeout = interval, timeout
        self.name = name or f"w{uuid.uuid4().hex[:8]}"
        self.acked = []
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"writer-{self.name}")

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=30)
        return self

    def _run(self):
        conn, seq = None, 0
        while not self._stop.is_set():
            seq += 1
            row = f"{self.name}-{seq}"
            start = time.monotonic()
            try:
                if conn is None:
                    conn = _connect(self.host, self.port, self.user, self.password, start + self.timeout)
                node, walfile = _execute(conn, WRITER_SQL, (row,), time.monotonic() + self.timeout)
                self.acked.append((row, Success(node.strip(), timeline_of(walfile), start,
                                                time.monotonic(), "writer")))
            except Exception as exc:  # pylint: disable=broad-except ; every failure is a data point
                self.errors.append((time.monotonic(), str(exc).strip()[:300]))
                _close(conn)
                conn = None
                time.sleep(0.05)
            time.sleep(self.interval)
        _close(conn)

    def ack_times(self):
        return [s.end for _, s in self.acked]

    def successes(self):
        return [s for _, s in self.acked]

    def acked_since(self, t):
        return [s for _, s in self.acked if s.start > t]


class DirectProbes:
    """From the host, an INSERT into pgha_probe on each of `nodes` ({name: address}) every
    `interval` s; successes: [Success]."""

    def __init__(self, lab, nodes, interval=0.2, timeout=1.5):
        from .helpers import superuser  # pylint: disable=import-outside-toplevel
        self.nodes = dict(nodes)
        self.user, self.password = superuser(lab)
        self.interval, self.timeout = interval, timeout
        self.prober = f"p{uuid.uuid4().hex[:8]}"
        self.successes = []
        self.attempts = defaultdict(int)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n, a), daemon=True, name=f"probe-{n}")
                         for n, a in self.nodes.items()]

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self

    def _run(self, name, address):
        conn, seq = None, 0
        while not self._stop.is_set():
            seq += 1
            start = time.monotonic()
            self.attempts[name] += 1
            try:
                if conn is None:
                    conn = _connect(address, 5432, self.user, self.password, start + self.timeout)
                node, walfile = _execute(conn, PROBE_SQL, (self.prober, seq), time.monotonic() + self.timeout)
                with self._lock:
                    self.successes.append(Success(node.strip(), timeline_of(walfile), start,
                                                  time.monotonic(), "direct"))
            except Exception as exc:  # pylint: disable=broad-except
                if not _read_only(exc):    # a replica's session stays: it may be promoted
                    _close(conn)
                    conn = None
            time.sleep(self.interval)
        _close(conn)


# Runs inside a node with the node's python3 and python3-psycopg2 (Patroni's dependency), as
# the postgres user over the unix socket (pg_hba: local all postgres peer). One JSON line per
# attempt; exits when its stdin closes.
NODE_PROBE_SCRIPT = r"""
import json, os, select, sys, time
import psycopg2
from psycopg2 import extensions
socket_dir, sql, prober, interval, timeout = sys.argv[1:6]
interval, timeout = float(interval), float(timeout)

def wait(conn, deadline):
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer before the client's deadline")
        fd = [conn.fileno()]
        if state == extensions.POLL_READ:
            select.select(fd, [], [], left)
        else:
            select.select([], fd, [], left)

conn, seq, stdin = None, 0, sys.stdin.fileno()
while not (select.select([stdin], [], [], 0)[0] and not os.read(stdin, 1)):
    seq += 1
    t0 = time.monotonic()
    try:
        if conn is None:
            conn = psycopg2.connect(host=socket_dir, dbname="postgres", user="postgres", async_=1)
            wait(conn, t0 + timeout)
        cur = conn.cursor()
        cur.execute(sql, (prober, seq))
        wait(conn, time.monotonic() + timeout)
        node, walfile = cur.fetchone()
        line = {"ok": 1, "node": node.strip(), "wal": walfile, "t0": t0, "t1": time.monotonic()}
    except Exception as exc:
        line = {"ok": 0, "t0": t0, "t1": time.monotonic(), "err": str(exc).strip()[:200]}
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass
        conn = None
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    time.sleep(interval)
"""


class NodeProbe:
    """The probe inside node `name` (see NODE_PROBE_SCRIPT); successes: [Success]."""

    def __init__(self, lab, name, interval=0.2, timeout=1.5):
        self.node = lab.node(name)
        self.interval, self.timeout = interval, timeout
        self.prober = f"i{uuid.uuid4().hex[:8]}"
        self.successes, self.failures, self.other = [], 0, []
        self._proc = None
        self._reader = None

    def start(self):
        import subprocess  # pylint: disable=import-outside-toplevel
        self._proc = self.node.popen(
            ["runuser", "-u", "postgres", "--", "python3", "-c", NODE_PROBE_SCRIPT, RUN_DIR, PROBE_SQL,
             self.prober, str(self.interval), str(self.timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"inside-{self.node.name}")
        self._reader.start()
        return self

    def _read(self):
        for line in self._proc.stdout:
            try:
                data = json.loads(line)
            except ValueError:
                self.other.append(line.rstrip())     # e.g. a traceback: no psycopg2 in the node
                continue
            if data.get("ok"):
                self.successes.append(Success(data["node"], timeline_of(data["wal"]), data["t0"],
                                              data["t1"], "inside"))
            else:
                self.failures += 1

    def stop(self):
        if self._proc is None:
            return self
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout=15)
        except Exception:  # pylint: disable=broad-except ; a stuck probe is killed
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._reader.join(timeout=5)
        return self


# -- the cluster -------------------------------------------------------------------------------

@dataclass
class Topology:
    """The lab's database nodes and balancers ({name: address}), and the entry point."""
    db: dict
    balancers: dict
    vip: str
    port: int

    @classmethod
    def of(cls, lab):
        from pghalab.scenarios import SCENARIOS  # pylint: disable=import-outside-toplevel
        spec = SCENARIOS[lab.info["scenario"]]
        active = [n for n in spec["nodes"] if n not in spec.get("spares", ())]
        db = {n: lab.node(n).address for n in active if "postgresql" in spec["roles"][n]}
        balancers = {n: lab.node(n).address for n in active if "balancer" in spec["roles"][n]}
        vip = lab.pillar()["pgha"]["cluster_vip"]
        port = 5000 if lab.pillar()["pgha"].get("with_haproxy_load_balancing") else 5432
        return cls(db, balancers, vip, port)


def primaries(lab, topo):
    """Database nodes that answer as a writable primary now (unreachable ones are skipped)."""
    from .helpers import query  # pylint: disable=import-outside-toplevel
    found = []
    for name, address in topo.db.items():
        try:
            if not query(lab, address, "SELECT pg_is_in_recovery()")[0][0]:
                found.append(name)
        except psycopg2.Error:
            pass
    return found


def leader(lab, topo):
    found = primaries(lab, topo)
    if len(found) != 1:
        raise AssertionError(f"expected one writable primary, found {found}")
    return found[0]


def dcs_config(lab, node):
    """Patroni's dynamic configuration as the cluster runs it (GET /config through `node`)."""
    from .helpers import salt_json  # pylint: disable=import-outside-toplevel
    return salt_json(lab, node, "pgha_patroni.show_config")[node]


def patroni_listing(lab, node):
    from .helpers import salt_json  # pylint: disable=import-outside-toplevel
    return salt_json(lab, node, "pgha_patroni.list")[node]


def wait_healthy(lab, topo, timeout=180):
    """Every database member healthy (pgha_patroni.wait_healthy: the leader writable, each
    replica streaming from it on its timeline), Patroni's listing with one leader and every
    member on one timeline; Type A: one balancer holds the VIP and port 5000 reaches the
    leader. Returns the leader's name."""
    from .helpers import identity, salt_json, vip_holders, wait_for  # pylint: disable=import-outside-toplevel
    lab.master.wait_minions(list(topo.db) + list(topo.balancers), timeout=timeout)
    ret = salt_json(lab, ",".join(sorted(topo.db)), "pgha_patroni.wait_healthy", "role=member",
                    f"timeout={timeout}", tgt_type="list", timeout=timeout + 30)
    # what pgha_patroni._check says of a healthy member; anything else is an error text
    bad = {n: ret.get(n) for n in topo.db
           if not (isinstance(ret.get(n), str) and ret[n].startswith(("leader ", "replica streaming from ")))}
    assert not bad, f"members not healthy after {timeout}s: {bad}"
    lead = leader(lab, topo)

    def one_timeline():
        listing = patroni_listing(lab, lead)
        members = listing["members"]
        timelines = {m.get("timeline") for m in members.values()}
        return (listing["leader"] == lead and sorted(members) == sorted(topo.db)
                and len(timelines) == 1 and listing)

    # Patroni refreshes a replica's timeline in the DCS once per loop
    wait_for(one_timeline, timeout=60, interval=1, what="one leader, every member on its timeline")
    # the VIP on one node only (keepalived's on a balancer, vip-manager's on the leader: a
    # thawed or healed old leader drops it at its next look at etcd), and it reaches the leader
    holders = list(topo.balancers) or list(topo.db)
    wait_for(lambda: len(vip_holders(lab, holders, topo.vip)) == 1, timeout=60,
             what=f"the VIP on exactly one of {', '.join(holders)}")
    wait_for(lambda: identity(lab, topo.vip, topo.port) == (lead, False), timeout=60,
             what=f"{topo.vip}:{topo.port} on the leader {lead}")
    return lead


def sync_standby_ready(lab, lead, timeout=60):
    """Under synchronous_mode: wait until Patroni names a synchronous standby."""
    from .helpers import wait_for  # pylint: disable=import-outside-toplevel
    wait_for(lambda: any(m.get("role") == "sync_standby"
                         for m in patroni_listing(lab, lead)["members"].values()),
             timeout=timeout, interval=1, what="a synchronous standby")


# the lab's own nodes, directly: never through a proxy from the environment
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def etcd_get(address, path, body=None, timeout=2):
    req = urllib.request.Request(f"http://{address}:2379{path}",
                                 data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    with _DIRECT.open(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode() or "{}")


def etcd_leader(topo):
    """The database node whose etcd member leads the etcd cluster (None if none says so)."""
    for name, address in topo.db.items():
        try:
            status = etcd_get(address, "/v3/maintenance/status", body={})
        except (OSError, ValueError):
            continue
        if status.get("leader") and status.get("leader") == status.get("header", {}).get("member_id"):
            return name
    return None


def etcd_healthy(topo):
    def ok(address):
        try:
            return str(etcd_get(address, "/health").get("health")).lower() == "true"
        except (OSError, ValueError):
            return False
    return all(ok(a) for a in topo.db.values())


def failsafe_members(topo, lead):
    """GET /failsafe of the leader's Patroni: the members it would call during a DCS outage
    ({} before failsafe_mode is on and the leader has written the key)."""
    try:
        with _DIRECT.open(f"http://{topo.db[lead]}:8008/failsafe", timeout=3) as resp:
            return json.loads(resp.read().decode())
    except (OSError, ValueError):
        return {}


# -- faults --------------------------------------------------------------------------------------

def _systemctl(lab, node, *args):
    lab.node(node).exec(["systemctl", *args])


def _crash(run, name):
    """Power cut: the node's link down and SIGKILL of every process of it at once (cgroup.kill),
    so peers see timeouts, not refused connections (the slowest failover), and the VIP its
    network namespace still holds answers nobody."""
    run.lab.net.link(name, up=False)
    run.lab.node(name).crash()


def _restart(run, name):
    """Power back: drop the VIP the node's network namespace still holds (vip-manager or
    keepalived had put it there; a real machine loses it with the power), link up, boot."""
    from pghalab.__main__ import FAULTS as LAB_FAULTS  # pylint: disable=import-outside-toplevel
    run.lab.net.drop_address(name, run.topo.vip)
    run.lab.net.link(name, up=True)
    LAB_FAULTS["start"](run.lab, name)     # boots, flushes the host's ARP cache
    run.lab.master.wait_minions([name])


def _kill_postgres(run, name):
    """SIGKILL of every PostgreSQL process of the node (postmaster and backends); Patroni stays
    and starts it again (crash recovery), or fails over after primary_start_timeout."""
    run.lab.node(name).exec(["pkill", "-KILL", "-x", "postgres"])


def _patroni_pid(lab, name):
    out = lab.node(name).exec(["systemctl", "show", "-p", "MainPID", "--value", "patroni"], capture=True)
    return int(out.stdout.strip() or 0)


def _kill_patroni(run, name):
    """SIGKILL of Patroni's main process only. The unit has KillMode=process, so PostgreSQL
    (its child, in the same cgroup) keeps running, and Restart=on-failure, so systemd starts
    Patroni again at once (Debian's unit and pgha's pip unit alike)."""
    run.state["patroni_pid"] = _patroni_pid(run.lab, name)
    run.lab.node(name).exec(["kill", "-KILL", str(run.state["patroni_pid"])])


def _freeze(run, name):
    run.lab.node(name).freeze(True)


def _thaw(run, name):
    run.lab.node(name).freeze(False)


def _partition(run, name):
    run.lab.net.link(name, up=False)


def _heal(run, name):
    run.lab.net.link(name, up=True)


def _etcd_stop(run, name):
    _systemctl(run.lab, name, "stop", "etcd")


def _etcd_start(run, name):
    _systemctl(run.lab, name, "start", "etcd")


@dataclass
class Fault:
    inject: object
    undo: object                # None: nothing to undo (systemd or Patroni restart it)
    targets: str                # leader | etcd-leader | etcd-quorum | vip-balancer
    hold: str                   # resumed | patroni-restarted | fixed
    inside_probe: bool = False  # a NodeProbe inside the target (partition)


FAULTS = {
    "crash": Fault(_crash, _restart, "leader", "resumed"),
    "kill-postgres": Fault(_kill_postgres, None, "leader", "resumed"),
    "kill-patroni": Fault(_kill_patroni, None, "leader", "patroni-restarted"),
    "freeze": Fault(_freeze, _thaw, "leader", "resumed"),
    "partition": Fault(_partition, _heal, "leader", "resumed", inside_probe=True),
    "etcd-member": Fault(_etcd_stop, _etcd_start, "etcd-leader", "fixed"),
    "etcd-quorum": Fault(_etcd_stop, _etcd_start, "etcd-quorum", "fixed"),
    "balancer-crash": Fault(_crash, _restart, "vip-balancer", "resumed"),
}
TYPE_B_FAULTS = [f for f in FAULTS if f != "balancer-crash"]
TYPE_A_FAULTS = list(FAULTS)


@dataclass
class Run:
    """One fault, start to finish; times are time.monotonic(). See run_fault."""
    lab: object
    topo: Topology
    fault: str
    dcs: dict = field(default_factory=dict)
    leader_before: str = ""
    leader_after: str = ""
    targets: list = field(default_factory=list)
    state: dict = field(default_factory=dict)
    writer: object = None
    probes: object = None
    inside: object = None
    t_fault: float = 0.0
    t_resumed: float = None
    t_undo: float = None
    t_healthy: float = None
    wall_fault: float = 0.0
    bytes_per_commit: float = 0.0
    commits_per_second: float = 0.0
    check: dict = field(default_factory=dict)
    rewound: bool = None

    # what the run measured
    @property
    def rto(self):
        return write_unavailability(self.writer.ack_times(), self.t_fault)[0]

    @property
    def first_ack(self):
        return write_unavailability(self.writer.ack_times(), self.t_fault)[1]

    def successes(self):
        found = self.writer.successes() + list(self.probes.successes)
        return found + (list(self.inside.successes) if self.inside else [])

    def split_brain(self):
        return split_brain(self.successes())

    def allowed_lost(self):
        return allowed_lost_commits(self.dcs, self.bytes_per_commit, self.commits_per_second)

    def inside_after_fault(self):
        """What the partitioned node accepted from its own side after the fault."""
        return [s for s in (self.inside.successes if self.inside else []) if s.start > self.t_fault]

    def summary(self):
        evidence = self.split_brain()
        return {"fault": self.fault, "targets": self.targets, "leader_before": self.leader_before,
                "leader_after": self.leader_after, "rto": self.rto, "first_ack": self.first_ack,
                "writes": len(self.writer.acked), "write_errors": len(self.writer.errors),
                "lost": len(self.check.get("lost", [])), "allowed_lost": self.allowed_lost(),
                "extra": len(self.check.get("extra", [])), "split_brain": bool(evidence),
                "split_brain_evidence": [tuple(s._replace(start=round(s.start - self.t_fault, 3),
                                                          end=round(s.end - self.t_fault, 3)) for s in e)
                                         for e in evidence[:3]],
                "handover_gap": handover_gap(self.successes()),
                "inside_acked_after_fault": len(self.inside_after_fault()),
                "rewound": self.rewound}

    def figure(self, prefix=""):
        s = self.summary()

        def num(v):
            return "none" if v is None else f"{v:.2f}"
        return (f"FIGURE {prefix}fault={self.fault} rto_seconds={num(s['rto'])} "
                f"first_ack_seconds={num(s['first_ack'])} lost={s['lost']} allowed_lost={s['allowed_lost']} "
                f"split_brain={int(s['split_brain'])} writes={s['writes']} write_errors={s['write_errors']} "
                f"leader={s['leader_before']}->{s['leader_after']} targets={','.join(self.targets)} "
                f"handover_gap={num(s['handover_gap'])} inside_acked_after_fault={s['inside_acked_after_fault']} "
                f"rewound={s['rewound']}")


def _targets(run, kind):
    if kind == "leader":
        return [run.leader_before]
    if kind == "etcd-leader":
        return [etcd_leader(run.topo) or run.leader_before]
    if kind == "etcd-quorum":   # a majority of the etcd members, the leader's node's stays
        others = sorted(n for n in run.topo.db if n != run.leader_before)
        return others[:len(run.topo.db) // 2 + 1]
    if kind == "vip-balancer":
        from .helpers import vip_holders  # pylint: disable=import-outside-toplevel
        holders = vip_holders(run.lab, list(run.topo.balancers), run.topo.vip)
        assert len(holders) == 1, f"VIP holders: {holders}"
        return holders
    raise ValueError(kind)


def _wal_lsn(lab, address):
    from .helpers import query  # pylint: disable=import-outside-toplevel
    return query(lab, address, "SELECT pg_current_wal_lsn()::text")[0][0]


def _wal_bytes(lab, address, lsn_from, lsn_to):
    from .helpers import query  # pylint: disable=import-outside-toplevel
    return float(query(lab, address, "SELECT pg_wal_lsn_diff(%s, %s)", (lsn_to, lsn_from))[0][0])


def _hold(run, fault, seconds):
    """Keep the fault until writes through the entry point have resumed (5 acknowledged commits
    sent after the fault), or for `seconds` (fault.hold == fixed)."""
    from .helpers import wait_for  # pylint: disable=import-outside-toplevel
    if fault.hold == "fixed":
        time.sleep(seconds)
        return
    if fault.hold == "patroni-restarted":
        name = run.targets[0]
        wait_for(lambda: _patroni_pid(run.lab, name) not in (0, run.state["patroni_pid"]), timeout=60,
                 what=f"systemd to start Patroni again on {name}")
    limit = run.dcs.get("ttl", 30) + run.dcs.get("primary_start_timeout", 30) + 2 * run.dcs.get("loop_wait", 10) + 60
    wait_for(lambda: len(run.writer.acked_since(run.t_fault)) >= 5, timeout=limit, interval=0.1,
             what=f"writes through the entry point after {run.fault}")
    run.t_resumed = time.monotonic()
    if fault.hold == "patroni-restarted":
        time.sleep(run.dcs.get("loop_wait", 10) + 1)     # the new Patroni runs a whole cycle


def check_commits(lab, topo, writer, timeout=60):
    """Read the leader and every replica after recovery: {leader, lost (acknowledged ids the
    leader lacks), extra (rows the leader has whose commit was never acknowledged: the
    acknowledgement was lost on the way), replicas: {node: {missing, surplus}} once every
    replica has caught up or `timeout` passed}."""
    from .helpers import query  # pylint: disable=import-outside-toplevel
    lead = leader(lab, topo)

    def rows(address):
        return {r[0] for r in query(lab, address, f"SELECT id FROM {WRITER_TABLE} WHERE id LIKE %s",
                                    (writer.name + "-%",))}

    on_leader = rows(topo.db[lead])
    acked = [row for row, _ in writer.acked]
    acked_set = set(acked)
    replicas = {}
    deadline = time.monotonic() + timeout
    for name, address in topo.db.items():
        if name == lead:
            continue
        while True:
            have = rows(address)
            missing, surplus = on_leader - have, have - on_leader
            if not missing and not surplus or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        replicas[name] = {"missing": sorted(missing)[:20], "missing_count": len(missing),
                          "surplus": sorted(surplus)[:20], "surplus_count": len(surplus)}
    lost = [row for row in acked if row not in on_leader]
    by_node = defaultdict(int)
    for row, success in writer.acked:
        if row not in on_leader:
            by_node[success.node] += 1
    return {"leader": lead, "lost": lost, "lost_by_node": dict(by_node),
            "extra": sorted(on_leader - acked_set), "replicas": replicas}


def _rewound_since(lab, name, wall):
    """Did Patroni on `name` run pg_rewind since `wall` (epoch seconds)?"""
    out = lab.node(name).exec(["journalctl", "-u", "patroni", "--since", f"@{int(wall) - 1}",
                               "--no-pager", "-o", "cat"], capture=True, check=False).stdout
    return "running pg_rewind from" in out


def run_fault(lab, fault_name, hold_seconds=None, warmup=2.0, tail=1.0, healthy_timeout=180, log=print):
    """Inject `fault_name` (FAULTS) into a healthy cluster while the writer and the probes run,
    hold it, undo it, wait until healthy, check. Returns the Run; the caller asserts. The
    fault is undone even when something fails on the way."""
    topo = Topology.of(lab)
    fault = FAULTS[fault_name]
    run = Run(lab=lab, topo=topo, fault=fault_name)
    run.leader_before = wait_healthy(lab, topo, timeout=healthy_timeout)
    run.dcs = dcs_config(lab, run.leader_before)
    if run.dcs.get("synchronous_mode"):
        sync_standby_ready(lab, run.leader_before)
    run.targets = _targets(run, fault.targets)
    if hold_seconds is None and fault.hold == "fixed":
        hold_seconds = (run.dcs.get("ttl", 30) + run.dcs.get("loop_wait", 10) + 8 if fault_name == "etcd-quorum"
                        else 2 * run.dcs.get("loop_wait", 10) + 5)
    address = topo.db[run.leader_before]
    create_tables(lab, address)
    time.sleep(0.5)                        # the tables reach the replicas before the probes ask
    run.probes = DirectProbes(lab, topo.db).start()
    if fault.inside_probe:
        run.inside = NodeProbe(lab, run.targets[0]).start()
    run.writer = EntryWriter(lab, topo.vip, topo.port).start()
    injected = undone = False
    try:
        lsn0, t0 = _wal_lsn(lab, address), time.monotonic()
        acks0 = len(run.writer.acked)
        time.sleep(warmup)
        lsn1, acks1 = _wal_lsn(lab, address), len(run.writer.acked)
        commits = max(acks1 - acks0, 1)
        run.bytes_per_commit = _wal_bytes(lab, address, lsn0, lsn1) / commits
        run.commits_per_second = commits / (time.monotonic() - t0)
        assert len(run.writer.acked) > 10, f"the writer barely wrote before the fault: {run.writer.errors[-3:]}"
        log(f"[{fault_name}] inject on {', '.join(run.targets)} (leader {run.leader_before})")
        run.t_fault, run.wall_fault = time.monotonic(), time.time()
        for target in run.targets:
            fault.inject(run, target)
        injected = True
        _hold(run, fault, hold_seconds)
        run.t_undo = time.monotonic()
        if fault.undo:
            log(f"[{fault_name}] undo on {', '.join(run.targets)}")
            for target in run.targets:
                fault.undo(run, target)
        undone = True
        run.leader_after = wait_healthy(lab, topo, timeout=healthy_timeout)
        run.t_healthy = time.monotonic()
        time.sleep(tail)
    finally:
        if injected and not undone and fault.undo:
            for target in run.targets:
                try:
                    fault.undo(run, target)
                except Exception as exc:  # pylint: disable=broad-except ; report the first failure
                    log(f"[{fault_name}] undo on {target} failed: {exc}")
        run.writer.stop()
        run.probes.stop()
        if run.inside:
            run.inside.stop()
    run.check = check_commits(lab, topo, run.writer)
    if fault_name in ("crash", "freeze", "partition", "kill-postgres") and run.targets[0] != run.leader_after:
        run.rewound = _rewound_since(lab, run.targets[0], run.wall_fault)
    return run


# -- what every fault must leave behind ------------------------------------------------------------

def zombie_writes(run):
    """Successes of the frozen target after it was thawed (see assert_fault_handled)."""
    return [s for s in run.successes() if s.node in run.targets and run.t_undo and s.start >= run.t_undo]


def assert_fault_handled(run, allow_zombie=False):
    """The correctness every fault must keep (no time is asserted):
    - the writer committed before and after the fault (writes resumed through the entry point);
    - acknowledged commits lost: none under synchronous_mode, within Patroni's bound for
      asynchronous replication (allowed_lost_commits);
    - every replica has exactly the leader's rows of the writer (none missing, none extra);
    - no split brain (the cluster being healthy again, one leader, every member on its
      timeline, the VIP on one node, was checked by run_fault itself).
    allow_zombie: split brain only from what the thawed old primary accepted between its thaw
    and Patroni's demotion is reported, not failed here: the caller decides (freeze)."""
    summary = run.summary()
    where = f"{run.figure()}\nsummary: {summary}\nlast writer errors: {run.writer.errors[-3:]}"
    before = [s for _, s in run.writer.acked if s.end <= run.t_fault]
    assert len(before) > 10, f"the writer barely wrote before the fault\n{where}"
    assert run.rto is not None, f"no write acknowledged through the entry point after the fault\n{where}"
    lost = run.check["lost"]
    assert len(lost) <= run.allowed_lost(), (
        f"{len(lost)} acknowledged commits lost (allowed {run.allowed_lost()}), by the node that "
        f"acknowledged them: {run.check['lost_by_node']}; first: {lost[:5]}\n{where}")
    unequal = {n: r for n, r in run.check["replicas"].items() if r["missing_count"] or r["surplus_count"]}
    assert not unequal, f"replicas differ from the leader {run.check['leader']}: {unequal}\n{where}"
    evidence = run.split_brain()
    if evidence and allow_zombie:
        zombies = zombie_writes(run)
        if not split_brain([s for s in run.successes() if s not in zombies]):
            return zombies
    assert not evidence, f"two nodes accepted writes at the same time: {summary['split_brain_evidence']}\n{where}"
    return []
