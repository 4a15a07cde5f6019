"""The resilience checker's definitions (pghalab.checks, pghalab.figures) on synthetic data:
write unavailability, split brain (interleaved acknowledgements of two nodes), the loss bound,
the benchmark table. No lab."""
import pytest

from pghalab.checks import (Success, allowed_lost_commits, handover_gap, split_brain, successes_between, timeline_of,
                            write_unavailability)
from pghalab.figures import format_table, summary_rows


def ok(node, start, end=None, timeline=1, source="direct"):
    return Success(node, timeline, start, start + 0.01 if end is None else end, source)


# -- write unavailability -----------------------------------------------------------------------

def test_rto_is_the_longest_gap_from_the_last_ack_before_the_fault():
    acks = [0.0, 0.1, 0.2, 0.3, 5.3, 5.4, 5.5]
    rto, first = write_unavailability(acks, fault_at=1.0)
    assert rto == pytest.approx(5.0)          # 0.3 -> 5.3
    assert first == pytest.approx(4.3)        # fault at 1.0 -> 5.3


def test_rto_counts_an_interruption_after_recovery_too():
    acks = [0.0, 0.5, 2.0, 2.1, 9.1, 9.2]     # recovered at 2.0, then a 7 s gap (heal)
    rto, first = write_unavailability(acks, fault_at=1.0)
    assert rto == pytest.approx(7.0)
    assert first == pytest.approx(1.0)


def test_rto_ignores_gaps_before_the_fault():
    rto, _ = write_unavailability([0.0, 20.0, 20.1, 20.2, 20.3], fault_at=20.15)
    assert rto == pytest.approx(0.1)


def test_rto_without_acks_before_the_fault_counts_from_the_fault():
    assert write_unavailability([3.0, 3.1], fault_at=1.0) == (pytest.approx(2.0), pytest.approx(2.0))


def test_no_ack_after_the_fault_means_writes_never_resumed():
    assert write_unavailability([0.0, 0.1], fault_at=1.0) == (None, None)
    assert write_unavailability([], fault_at=1.0) == (None, None)


def test_unsorted_acks():
    assert write_unavailability([5.0, 0.0, 6.0], fault_at=1.0)[0] == pytest.approx(5.0)


# -- split brain ---------------------------------------------------------------------------------

def test_a_clean_failover_is_not_split_brain():
    old = [ok("pg1", t / 10) for t in range(0, 20)]          # 0.0 .. 1.9
    new = [ok("pg2", 20 + t / 10, timeline=2) for t in range(0, 20)]
    assert split_brain(old + new) == []


def test_interleaved_acks_of_two_nodes_are_split_brain():
    old = [ok("pg1", 0.0), ok("pg1", 1.0), ok("pg1", 3.0)]
    new = [ok("pg2", 2.0, timeline=2)]
    evidence = split_brain(old + new)
    assert evidence == [(ok("pg1", 1.0), ok("pg2", 2.0, timeline=2), ok("pg1", 3.0))]


def test_both_directions_are_reported():
    a = [ok("pg1", 0.0), ok("pg1", 2.0)]
    b = [ok("pg2", 1.0, timeline=2), ok("pg2", 3.0, timeline=2)]
    nodes = sorted((e[0].node, e[1].node) for e in split_brain(a + b))
    assert nodes == [("pg1", "pg2"), ("pg2", "pg1")]


def test_overlapping_commit_windows_are_not_proof():
    # pg2's commit may have happened before pg1's last one, or after it: not interleaved
    a = [ok("pg1", 0.0, 0.1), ok("pg1", 1.0, 2.5)]
    b = [ok("pg2", 2.0, 2.2, timeline=2), ok("pg2", 3.0, timeline=2)]
    assert split_brain(a + b) == []


def test_a_zombie_write_after_a_thaw_is_split_brain():
    # pg1 frozen at 1.0; pg2 promoted at 20; pg1 thawed at 40 and accepts one write
    a = [ok("pg1", t / 10) for t in range(10)] + [ok("pg1", 40.05)]
    b = [ok("pg2", 20 + t / 10, timeline=2) for t in range(250)]
    evidence = split_brain(a + b)
    # pg1 wrote before and after pg2's first write; pg2 wrote before and after pg1's zombie write
    assert [(e[0].node, e[1].node) for e in evidence] == [("pg1", "pg2"), ("pg2", "pg1")]
    a1, b1, a2 = evidence[0]
    assert (a1.start, b1.start, a2.start) == (pytest.approx(0.9), pytest.approx(20.0), pytest.approx(40.05))


def test_a_fail_back_on_a_new_timeline_is_not_split_brain():
    a = [ok("pg1", 0.0, timeline=1), ok("pg1", 30.0, timeline=3)]
    b = [ok("pg2", 10.0, timeline=2)]
    assert split_brain(a + b) == []


def test_the_same_node_on_one_timeline_is_never_split_brain():
    assert split_brain([ok("pg1", float(t)) for t in range(100)]) == []
    assert split_brain([]) == []


def test_split_brain_scales_to_a_long_run():
    a = [ok("pg1", t / 100) for t in range(20000)]
    b = [ok("pg2", 300 + t / 100, timeline=2) for t in range(20000)]
    assert split_brain(a + b) == []


def test_handover_gap():
    a = [ok("pg1", 0.0), ok("pg1", 1.0, 1.1)]
    b = [ok("pg2", 21.1, timeline=2), ok("pg2", 22.0, timeline=2)]
    assert handover_gap(a + b) == pytest.approx(20.0)
    assert handover_gap(a) is None
    assert handover_gap([ok("pg1", 0.0, 1.0), ok("pg2", 0.5, 0.6)]) == pytest.approx(-0.5)


def test_successes_between():
    found = [ok("pg1", 1.0), ok("pg1", 5.0), ok("pg2", 6.0), ok("pg1", 9.995)]
    assert successes_between(found, 4.0, 10.0) == found[1:3]
    assert successes_between(found, 4.0, 10.0, node="pg1") == [found[1]]


def test_timeline_of_a_wal_file_name():
    assert timeline_of("00000002000000000000000A") == 2
    assert timeline_of("0000001A0000000100000003") == 26
    assert timeline_of(None) == 0 and timeline_of("") == 0


# -- the loss bound ---------------------------------------------------------------------------------

def test_synchronous_mode_allows_no_loss():
    assert allowed_lost_commits({"synchronous_mode": True, "synchronous_mode_strict": True}, 200, 80) == 0
    assert allowed_lost_commits({"synchronous_mode": True}, 200, 80) == 0


def test_async_allows_maximum_lag_plus_one_loop_of_writes():
    dcs = {"synchronous_mode": False, "maximum_lag_on_failover": 1048576, "loop_wait": 10}
    assert allowed_lost_commits(dcs, 256, 50) == 4096 + 500
    assert allowed_lost_commits(dict(dcs, maximum_lag_on_failover=0, loop_wait=2), 256, 50) == 100


def test_async_bound_survives_unmeasured_rates():
    dcs = {"maximum_lag_on_failover": 1000, "loop_wait": 2}
    assert allowed_lost_commits(dcs, 0, None) == 1000


# -- the benchmark table ------------------------------------------------------------------------------

def test_summary_rows_and_table():
    samples = [
        {"preset": "fast", "fault": "crash", "rto": 20.0, "first_ack": 19.0, "lost": 0, "split_brain": False},
        {"preset": "fast", "fault": "crash", "rto": 24.0, "first_ack": 23.0, "lost": 2, "split_brain": False},
        {"preset": "fast", "fault": "crash", "rto": 22.0, "first_ack": 21.0, "lost": 1, "split_brain": True},
        {"preset": "fast", "fault": "freeze", "rto": None, "first_ack": None, "lost": 0, "error": "timed out"},
        {"preset": "norm", "fault": "crash", "rto": 30.0, "first_ack": 29.0, "lost": 0, "split_brain": False},
    ]
    rows = summary_rows(samples)
    assert [(r["preset"], r["fault"]) for r in rows] == [("fast", "crash"), ("fast", "freeze"), ("norm", "crash")]
    crash = rows[0]
    assert (crash["runs"], crash["failed"], crash["rto_median"], crash["rto_max"], crash["first_ack_median"],
            crash["lost"], crash["split_brain"]) == (3, 0, 22.0, 24.0, 21.0, 3, 1)
    assert rows[1]["failed"] == 1 and rows[1]["rto_median"] is None
    table = format_table(rows).splitlines()
    assert table[0].startswith("| preset | fault | runs | RTO median | RTO max |")
    assert table[2] == "| fast | crash | 3 | 22.0 s | 24.0 s | 0.73 | 21.0 s | 3 | 1 |"
    assert table[3] == "| fast | freeze | 1 (1 failed) | - | - | - | - | 0 | 0 |"
    assert table[4] == "| norm | crash | 1 | 30.0 s | 30.0 s | 1.00 | 29.0 s | 0 | 0 |"
