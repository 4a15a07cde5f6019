"""What a fault run measured, as pure functions of the acknowledgements the clients recorded
(unit-tested in test/unit/test_resilience_checker.py; pghalab.faults applies them).

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
"""
from collections import defaultdict
from typing import NamedTuple


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
