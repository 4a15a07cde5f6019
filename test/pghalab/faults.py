"""Faults on a running cluster, and what clients saw: the lab tests (test_resilience.py,
test_typea.py) and the benchmark pghalab.bench.resilience share this.

One run (`run_fault`): the cluster is healthy; a writer (pghalab.writer.Writer, through the
entry point, with a 2 s deadline), two application writers (no client-side timeout: libpq's
defaults, and the libpq settings docs/operations.md recommends; their late acknowledgements
are what a frozen leader can lose), probes (pghalab.probes.DirectProbes) and, for a partition, a probe inside the
partitioned node (NodeProbe) start; the fault is injected; the run holds it until writes
through the entry point have resumed (or for a fixed time, for the etcd faults); the fault is
undone (thaw, heal, restart); the run waits until the cluster is healthy again; then the
checker reads the leader and every replica (check_commits) and the definitions of
pghalab.checks (RTO, lost, split brain) apply to what the clients recorded.
"""
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from .checks import allowed_lost_commits, handover_gap, split_brain, write_unavailability
from .cluster import query, vip_holders, wait_for
from .failover_timeline import Sampler, dcs_api_of, split_times
from .health import Topology, dcs_config, etcd_leader, leader, move_etcd_leader, sync_standby_ready, wait_healthy
from .probes import DirectProbes, NodeProbe, create_probe_table
from .writer import DOCUMENTED_LIBPQ, Writer

# Writers as applications run them, next to the suite's writer (whose 2 s deadline never waits
# long enough to be acknowledged late): no client-side timeout at all (libpq's defaults), and
# the libpq settings docs/operations.md recommends. Each holds one connection through the
# entry point and reconnects only when it breaks.
APP_WRITERS = {"default": {}, "documented": DOCUMENTED_LIBPQ}
# Faults whose target is the leader: their runs are split into stages (failover_timeline).
LEADER_FAULTS = ("crash", "freeze", "partition", "kill-postgres")


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
    from .__main__ import FAULTS as LAB_FAULTS  # pylint: disable=import-outside-toplevel
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
    apps: dict = field(default_factory=dict)        # {name: Writer} (APP_WRITERS)
    app_checks: dict = field(default_factory=dict)  # {name: {lost, lost_ids}}
    phase_delay: float = None   # random_phase: seconds waited before the injection
    etcd_leader_before: str = None                  # the node whose etcd member led etcd
    sampler: object = None

    # what the run measured
    @property
    def rto(self):
        return write_unavailability(self.writer.ack_times(), self.t_fault)[0]

    @property
    def first_ack(self):
        return write_unavailability(self.writer.ack_times(), self.t_fault)[1]

    def successes(self):
        found = self.writer.successes() + list(self.probes.successes)
        for writer in self.apps.values():
            found += writer.successes()
        return found + (list(self.inside.successes) if self.inside else [])

    def split_brain(self):
        return split_brain(self.successes())

    def allowed_lost(self):
        return allowed_lost_commits(self.dcs, self.bytes_per_commit, self.commits_per_second)

    def inside_after_fault(self):
        """What the partitioned node accepted from its own side after the fault."""
        return [s for s in (self.inside.successes if self.inside else []) if s.start > self.t_fault]

    @property
    def target_was_etcd_leader(self):
        """Did the faulted node's etcd member lead etcd at the fault (None: unknown)?"""
        if self.etcd_leader_before is None or not self.targets:
            return None
        return self.targets[0] == self.etcd_leader_before

    def timeline(self):
        """The outage split into stages (failover_timeline.split_times), None without a sampler."""
        if self.sampler is None:
            return None
        return split_times(self.t_fault, self.sampler.events, self.first_ack)

    def app_summary(self):
        """Per application writer: outage (longest gap), first ack after the fault, acknowledged
        commits lost, whether it was still blocked when the run ended (stuck), errors."""
        found = {}
        for name, writer in self.apps.items():
            rto, first = write_unavailability(writer.ack_times(), self.t_fault)
            found[name] = {"rto": rto, "first_ack": first, "stuck": writer.stuck,
                           "lost": self.app_checks.get(name, {}).get("lost"),
                           "writes": len(writer.acked), "errors": len(writer.errors),
                           "reconnects": writer.reconnects}
        return found

    def summary(self):
        evidence = self.split_brain()
        window = split_brain_window(evidence, self.successes(), self.t_fault)
        return {"etcd_leader_before": self.etcd_leader_before,
                "target_was_etcd_leader": self.target_was_etcd_leader,
                "timeline": self.timeline(), "apps": self.app_summary(),
                # split_brain_window (before 2026-12-07) measured a1's node's whole life on
                # its timeline, the new leader's when the evidence came the other way round
                "split_brain_overlap": window and {"proven": window["proven"], "at_most": window["at_most"]},
                "split_brain_old_after": (window or {}).get("old_after"),
                "fault": self.fault, "targets": self.targets, "leader_before": self.leader_before,
                "leader_after": self.leader_after, "rto": self.rto, "first_ack": self.first_ack,
                "writes": len(self.writer.acked), "write_errors": len(self.writer.errors),
                "lost": len(self.check.get("lost", [])), "allowed_lost": self.allowed_lost(),
                "extra": len(self.check.get("extra", [])), "split_brain": bool(evidence),
                "split_brain_evidence": [tuple(s._replace(start=round(s.start - self.t_fault, 3),
                                                          end=round(s.end - self.t_fault, 3)) for s in e)
                                         for e in evidence[:3]],
                "handover_gap": handover_gap(self.successes()),
                "inside_acked_after_fault": len(self.inside_after_fault()),
                "phase_delay": self.phase_delay and round(self.phase_delay, 3),
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
                f"rewound={s['rewound']} etcd_leader={_flag(s['target_was_etcd_leader'])}"
                + "".join(f" {stage}_seconds={num(v)}" for stage, v in (s["timeline"] or {}).get("at", {}).items())
                + "".join(f" app_{name}_lost={a['lost']} app_{name}_rto_seconds={num(a['rto'])} "
                          f"app_{name}_stuck={int(a['stuck'])}" for name, a in s["apps"].items()))


def _flag(value):
    return "unknown" if value is None else int(bool(value))


def split_brain_window(evidence, successes, t0=0.0):
    """How long two nodes were writable at once, as the clients saw it, longest over the pairs
    of (node, timeline) in the evidence (None without evidence). A node is taken as writable
    from its first commit to its last on one timeline, and a commit happened somewhere between
    its start and its end, so the two spans' overlap is {"proven": between the later of the
    two first acknowledgements and the earlier of the two last starts (0 if they do not
    overlap); "at_most": between the later first start and the earlier last acknowledgement;
    "old_after": {source: [count, last start - t0]}: what the older primary (the one that
    committed first) accepted after the newer one's first acknowledgement, by who sent it
    (entry point writers or direct probes)}. A commit a frozen node held and acknowledged
    on thaw stretches at_most only."""
    groups = {}
    for s in successes:
        groups.setdefault((s.node, s.timeline), []).append(s)
    found = None
    for pair in {frozenset([(a1.node, a1.timeline), (b.node, b.timeline)]) for a1, b, _ in evidence}:
        old, new = sorted((groups[key] for key in pair), key=lambda own: min(s.start for s in own))
        new_acked = min(s.end for s in new)
        window = {"proven": round(max(0.0, min(max(s.start for s in old), max(s.start for s in new))
                                      - max(min(s.end for s in old), new_acked)), 3),
                  "at_most": round(max(0.0, min(max(s.end for s in old), max(s.end for s in new))
                                       - max(min(s.start for s in old), min(s.start for s in new))), 3),
                  "old_after": {}}
        for s in sorted((s for s in old if s.start > new_acked), key=lambda s: s.start):
            count, _ = window["old_after"].get(s.source, (0, None))
            window["old_after"][s.source] = [count + 1, round(s.start - t0, 3)]
        if found is None or (window["proven"], window["at_most"]) > (found["proven"], found["at_most"]):
            found = window
    return found


def _targets(run, kind):
    if kind == "leader":
        return [run.leader_before]
    if kind == "etcd-leader":
        return [etcd_leader(run.topo) or run.leader_before]
    if kind == "etcd-quorum":   # a majority of the etcd members, the leader's node's stays
        others = sorted(n for n in run.topo.db if n != run.leader_before)
        return others[:len(run.topo.db) // 2 + 1]
    if kind == "vip-balancer":
        holders = vip_holders(run.lab, list(run.topo.balancers), run.topo.vip)
        assert len(holders) == 1, f"VIP holders: {holders}"
        return holders
    raise ValueError(kind)


def _wal_lsn(lab, address):
    return query(lab, address, "SELECT pg_current_wal_lsn()::text")[0][0]


def _wal_bytes(lab, address, lsn_from, lsn_to):
    return float(query(lab, address, "SELECT pg_wal_lsn_diff(%s, %s)", (lsn_to, lsn_from))[0][0])


def _hold(run, fault, seconds):
    """Keep the fault until writes through the entry point have resumed (5 acknowledged commits
    sent after the fault), or for `seconds` (fault.hold == fixed)."""
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
    lead = leader(lab, topo)
    on_leader = writer.present(topo.db[lead])
    replicas = {}
    deadline = time.monotonic() + timeout
    for name, address in topo.db.items():
        if name == lead:
            continue
        while True:
            have = writer.present(address)
            missing, surplus = on_leader - have, have - on_leader
            if not missing and not surplus or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        replicas[name] = {"missing": sorted(missing)[:20], "missing_count": len(missing),
                          "surplus": sorted(surplus)[:20], "surplus_count": len(surplus)}
    lost = writer.missing_from(on_leader)
    by_node = defaultdict(int)
    for row, success in writer.acked:
        if row not in on_leader:
            by_node[success.node] += 1
    return {"leader": lead, "lost": lost, "lost_by_node": dict(by_node),
            "extra": sorted(on_leader - {row for row, _ in writer.acked}), "replicas": replicas}


def patroni_journal(lab, name, wall, output="cat"):
    """Patroni's journal on `name` since `wall` (epoch seconds)."""
    return lab.node(name).exec(["journalctl", "-u", "patroni", "--since", f"@{int(wall) - 1}",
                                "--no-pager", "-o", output], capture=True, check=False).stdout


def _rewound_since(lab, name, wall):
    """Did Patroni on `name` run pg_rewind since `wall` (epoch seconds)?"""
    return "running pg_rewind from" in patroni_journal(lab, name, wall)


def _etcd_leader_or_none(topo, log):
    try:
        return etcd_leader(topo)
    except Exception as exc:  # pylint: disable=broad-except ; a missing figure, not a failed run
        log(f"etcd's leader unknown: {exc}")
        return None


def _app_writers(lab, topo, apps):
    return {name: Writer(lab, topo.vip, topo.port, interval=0.05, name=f"app{name[:3]}{uuid.uuid4().hex[:6]}",
                         deadline=None, source=f"app-{name}", **APP_WRITERS[name]).start()
            for name in apps}


def _wait_for_apps(run, grace):
    """Up to `grace` seconds more for each application writer to commit after the fault (a
    client with libpq's defaults may never come back: that is a result, `stuck`)."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if all(w.acked_since(run.t_fault) for w in run.apps.values()):
            return
        time.sleep(0.5)


def place_etcd_leader(lab, run, placement):
    """Before a leader fault: etcd's leadership on the Patroni leader's node (`with`) or on
    another node (`apart`), then one loop_wait and a second so that Patroni renews its key
    through the new etcd leader (etcd's v3 API extends every lease at an etcd leader change:
    the fault must not start inside that extension)."""
    lead = run.leader_before
    node = lead if placement == "with" else sorted(n for n in run.topo.db if n != lead)[0]
    move_etcd_leader(lab, run.topo, node)
    time.sleep(run.dcs.get("loop_wait", 10) + 1)


def run_fault(lab, fault_name, hold_seconds=None, warmup=2.0, tail=1.0, healthy_timeout=180, log=print,
              apps=tuple(APP_WRITERS), app_grace=30.0, etcd_placement=None, random_phase=False):
    """Inject `fault_name` (FAULTS) into a healthy cluster while the writer, the application
    writers (`apps`, of APP_WRITERS) and the probes run, hold it, undo it, wait until
    healthy (and up to `app_grace` s for the application writers to commit again), check.
    Returns the Run; the caller asserts. The fault is undone even when something fails on
    the way. Faults on the leader also record whether its node led etcd, and the stages of
    the failover (failover_timeline). `etcd_placement` (with | apart, leader faults only)
    moves etcd's leadership first (place_etcd_leader). `random_phase` waits a random part of
    `loop_wait` before the injection: a real fault falls anywhere in the leader's loop, while
    runs that follow each other keep the same phase (the benchmark's figures need it, the
    tests' assertions do not)."""
    topo = Topology.of(lab)
    fault = FAULTS[fault_name]
    run = Run(lab=lab, topo=topo, fault=fault_name)
    run.leader_before = wait_healthy(lab, topo, timeout=healthy_timeout)
    run.dcs = dcs_config(lab, run.leader_before)
    if run.dcs.get("synchronous_mode"):
        sync_standby_ready(lab, run.leader_before)
    if etcd_placement and fault_name in LEADER_FAULTS:
        place_etcd_leader(lab, run, etcd_placement)
        run.leader_before = wait_healthy(lab, topo, timeout=healthy_timeout)
    run.targets = _targets(run, fault.targets)
    if hold_seconds is None and fault.hold == "fixed":
        hold_seconds = (run.dcs.get("ttl", 30) + run.dcs.get("loop_wait", 10) + 8 if fault_name == "etcd-quorum"
                        else 2 * run.dcs.get("loop_wait", 10) + 5)
    address = topo.db[run.leader_before]
    create_probe_table(lab, address)      # the writer creates its own in start()
    time.sleep(0.5)                        # the table reaches the replicas before the probes ask
    run.probes = DirectProbes(lab, topo.db).start()
    if fault.inside_probe:
        run.inside = NodeProbe(lab, run.targets[0]).start()
    run.writer = Writer(lab, topo.vip, topo.port).start()
    run.apps = _app_writers(lab, topo, apps)
    if fault_name in LEADER_FAULTS:
        run.etcd_leader_before = _etcd_leader_or_none(topo, log)
    pgha = lab.pillar()["pgha"]
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
        if random_phase:
            run.phase_delay = random.uniform(0, run.dcs.get("loop_wait", 10))
            time.sleep(run.phase_delay)
        log(f"[{fault_name}] inject on {', '.join(run.targets)} (leader {run.leader_before})")
        if fault_name in LEADER_FAULTS:
            run.sampler = Sampler(lab, topo, run.leader_before, pgha["cluster_name"], dcs_api_of(pgha))
        run.t_fault, run.wall_fault = time.monotonic(), time.time()
        if run.sampler:
            run.sampler.start()
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
        _wait_for_apps(run, app_grace)
    finally:
        if injected and not undone and fault.undo:
            for target in run.targets:
                try:
                    fault.undo(run, target)
                except Exception as exc:  # pylint: disable=broad-except ; report the first failure
                    log(f"[{fault_name}] undo on {target} failed: {exc}")
        if run.sampler:
            run.sampler.stop()
        run.writer.stop()
        for writer in run.apps.values():
            writer.stop(wait=5)     # still blocked now: cut (stuck)
        run.probes.stop()
        if run.inside:
            run.inside.stop()
    run.check = check_commits(lab, topo, run.writer)
    on_leader = run.check["leader"]
    for name, writer in run.apps.items():
        missing = writer.missing(topo.db[on_leader])
        run.app_checks[name] = {"lost": len(missing), "lost_ids": missing[:20]}
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
    - acknowledged commits lost, by the suite's writer and by each application writer (no
      client-side timeout): none under synchronous_mode, within Patroni's bound for
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
    for name, found in run.app_checks.items():
        assert found["lost"] <= run.allowed_lost(), (
            f"application writer {name!r} (no client-side timeout; libpq {APP_WRITERS[name] or 'defaults'}): "
            f"{found['lost']} acknowledged commits lost (allowed {run.allowed_lost()}): {found['lost_ids'][:5]}\n{where}")
    unequal = {n: r for n, r in run.check["replicas"].items() if r["missing_count"] or r["surplus_count"]}
    assert not unequal, f"replicas differ from the leader {run.check['leader']}: {unequal}\n{where}"
    evidence = run.split_brain()
    if evidence and allow_zombie:
        zombies = zombie_writes(run)
        if not split_brain([s for s in run.successes() if s not in zombies]):
            return zombies
    assert not evidence, f"two nodes accepted writes at the same time: {summary['split_brain_evidence']}\n{where}"
    return []
