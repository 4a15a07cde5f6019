"""Two clusters on one master (scenario `standby`, issue 20): the main cluster "lab" (pg1-pg3,
VIP .100) and its standby cluster "dr" (dr1, dr2, VIP .101). What the lab tests
(test_standby.py) and the benchmark (bench/standby.py) do with them: deploy both, read
replication from PostgreSQL's own views, lose the main site, promote, and check which minions
an orchestration touched.
"""
import threading
import time

import yaml

from .cluster import query, run_orch, superuser
from .figures import step_seconds
from .pgclient import close, connect, execute
from .scenarios import SUBNET

MAIN, STANDBY = "lab", "dr"
MAIN_NODES, STANDBY_NODES = ("pg1", "pg2", "pg3"), ("dr1", "dr2")
MAIN_VIP, STANDBY_VIP = f"{SUBNET}.100", f"{SUBNET}.101"
TABLE = "pgha_standby_check"


def deploy(lab, cluster):
    """`pgha.deploy` of one cluster, timed: (result, seconds)."""
    started = time.monotonic()
    result = run_orch(lab, "pgha.deploy", {"cluster": cluster}, timeout=1800)
    return result, time.monotonic() - started


def receiver(lab, node):
    """The node's WAL receiver (pg_stat_wal_receiver): {status, sender_host, sender_port}, or
    {} when it has none (a primary, or a standby that lost its source)."""
    rows = query(lab, lab.node(node).address,
                 "SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver")
    return dict(zip(("status", "sender_host", "sender_port"), rows[0])) if rows else {}


def replication(lab, node):
    """The node's walsenders (pg_stat_replication): {client_addr: state}."""
    return {str(addr): state for addr, state in
            query(lab, lab.node(node).address, "SELECT client_addr, state FROM pg_stat_replication")}


def in_recovery(lab, host):
    return query(lab, host, "SELECT pg_is_in_recovery()")[0][0]


def lag_bytes(lab, main_host, standby_node):
    """How far the standby's replay is behind the main's current WAL position, in bytes."""
    lsn = query(lab, main_host, "SELECT pg_current_wal_lsn()::text")[0][0]
    return int(query(lab, lab.node(standby_node).address,
                     "SELECT greatest(pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn()), 0)::bigint",
                     (lsn,))[0][0])


def standby_leader(lab):
    """The standby cluster's leader (the node whose receiver streams from the main VIP)."""
    for node in STANDBY_NODES:
        try:
            if receiver(lab, node).get("sender_host") == MAIN_VIP:
                return node
        except Exception:  # pylint: disable=broad-except ; a node that is down
            continue
    return None


def power_off(lab, names):
    """Power cut of each node (link down, every process killed), as faults' crash."""
    for name in names:
        lab.net.link(name, up=False)
        lab.node(name).crash()


def power_on(lab, names, vip):
    """Power back (the VIP a dead namespace still holds is dropped first), and wait for the
    minions. Every node boots before any is waited for: a node's etcd (Type=notify) is ready
    only once a majority of its members runs, so the first node alone never finishes booting."""
    for name in names:
        lab.net.drop_address(name, vip)
        lab.net.link(name, up=True)
        node = lab.node(name)
        if not node.init_pid():
            node.boot(binds=lab.binds())
    for name in names:
        lab.node(name).wait_booted(timeout=180)
    lab.net.flush_arp()
    lab.master.wait_minions(list(names))


def first_commit(lab, host, started, timeout=120, interval=0.2):
    """Seconds from `started` (time.monotonic()) to the first commit through `host`."""
    user, password = superuser(lab)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = None
        try:
            conn = connect(host, 5432, user, password, time.monotonic() + 2)
            execute(conn, f"CREATE TABLE IF NOT EXISTS {TABLE} (at timestamptz DEFAULT now())", None,
                    time.monotonic() + 2)
            execute(conn, f"INSERT INTO {TABLE} DEFAULT VALUES", None, time.monotonic() + 2)
            return time.monotonic() - started
        except Exception:  # pylint: disable=broad-except ; read-only or not there yet: again
            time.sleep(interval)
        finally:
            if conn is not None:
                close(conn)
    raise AssertionError(f"no commit through {host} within {timeout}s")


def promote(lab, force=False):
    """`salt-run state.orch pgha.promote` of the standby cluster while a client tries to commit
    through its VIP: (result, seconds of the orchestration, seconds to the first commit)."""
    found = {}
    started = time.monotonic()

    def client():
        try:
            found["first_commit"] = first_commit(lab, STANDBY_VIP, started)
        except AssertionError as exc:
            found["error"] = str(exc)
    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    pillar = {"cluster": STANDBY, **({"force": True} if force else {})}
    result = run_orch(lab, "pgha.promote", pillar)
    seconds = time.monotonic() - started
    thread.join(150)
    return result, seconds, found.get("first_commit")


def lose_main_site(lab, writer):
    """Power off every node of the main cluster while `writer` writes through its VIP; the
    standby's lag just before (bytes), and the writer stopped. Returns the lag."""
    leader = standby_leader(lab)
    lag = lag_bytes(lab, MAIN_VIP, leader)
    power_off(lab, MAIN_NODES)
    writer.stop()
    return lag


def minions_in(result, names):
    """The minions among `names` that returned anything in an orchestration's output (their
    ids are keys of the per-minion returns)."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in names:
                    found.add(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(result.get("data"))
    return found


def snapshot(lab, nodes, table):
    """What must not change in the other cluster: each node's postmaster start time, and the
    row count of `table` on each node."""
    found = {}
    for node in nodes:
        host = lab.node(node).address
        found[node] = (query(lab, host, "SELECT pg_postmaster_start_time()")[0][0],
                       query(lab, host, f"SELECT count(*) FROM {table}")[0][0])
    return found


def highstate(lab, names):
    """A highstate of these minions: (returns, {minion:state: changes}, {minion:state: comment of a failure})."""
    res = lab.master.cli("salt", "-L", ",".join(names), "state.highstate", "--out=json", "--static",
                         capture_output=True, timeout=900)
    returns = yaml.safe_load(res.stdout)
    changed = {f"{m}:{sid}": st["changes"] for m, states in returns.items() if isinstance(states, dict)
               for sid, st in states.items() if isinstance(st, dict) and st.get("changes")}
    failed = {f"{m}:{sid}": st.get("comment") for m, states in returns.items() if isinstance(states, dict)
              for sid, st in states.items() if isinstance(st, dict) and st.get("result") is False}
    return returns, changed, failed


def slowest_steps(result, count=8):
    """The orchestration's slowest steps, nested ones included: 'step=seconds, ...'."""
    slowest = sorted(step_seconds(result).items(), key=lambda kv: -kv[1])[:count]
    return ", ".join(f"{sid}={sec}" for sid, sec in slowest)
