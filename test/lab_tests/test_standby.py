"""Standby clusters and two clusters on one master (scenario `standby`, issue 20; Debian 13 by
default): the main cluster "lab" (Type B, pg1-pg3, VIP .100) and its standby cluster "dr"
(dr1, dr2, VIP .101) on one Salt master. Both deploy; the standby follows the main cluster
through its VIP (checked in pg_stat_replication and pg_stat_wal_receiver, not Patroni's
state names), also across a failover of the main cluster; orchestrations of one cluster touch
no minion of the other; with the main site lost, pgha.promote makes dr writable, and the rows
acknowledged before the loss are there up to the lag measured at that moment.

The tests run in order and build on each other (one lab).
"""
import pytest
import yaml

from pghalab import standby as sb
from pghalab.cluster import query, run_orch, salt_json, wait_for
from pghalab.writer import Writer

from .helpers import assert_orch_changed_nothing, assert_orch_ok, state_comments

SCENARIO = "standby"
ALL = sb.MAIN_NODES + sb.STANDBY_NODES
pytestmark = pytest.mark.extended


@pytest.fixture(scope="module")
def both(lab):
    """Both clusters deployed, the main first (dr's leader copies it)."""
    refused = run_orch(lab, "pgha.deploy")
    main, main_seconds = sb.deploy(lab, sb.MAIN)
    dr, dr_seconds = sb.deploy(lab, sb.STANDBY)
    print(f"\nFIGURE standby_deploy_main_seconds={main_seconds:.1f} standby_deploy_dr_seconds={dr_seconds:.1f}")
    return {"refused": refused, "main": main, "dr": dr}


def _main_leader(lab):
    """lab's member that is not in recovery (dr's nodes are never asked)."""
    return next((n for n in sb.MAIN_NODES if not sb.in_recovery(lab, lab.node(n).address)), None)


def test_deploy_without_a_cluster_name_is_refused_then_both_deploy(lab, both):
    out = both["refused"]["stdout"] + both["refused"]["stderr"]
    assert both["refused"]["rc"] != 0 and "this master knows several clusters (dr, lab)" in out, out[-3000:]
    assert_orch_ok(both["main"])
    assert_orch_ok(both["dr"])
    assert sb.minions_in(both["main"], ALL) <= set(sb.MAIN_NODES)
    assert sb.minions_in(both["dr"], ALL) <= set(sb.STANDBY_NODES)


def test_standby_follows_the_main_cluster(lab, both):
    """Rows written through lab's VIP reach every member of dr; dr's VIP serves reads only;
    lab's leader streams to dr's leader, which streams to dr2 (cascade)."""
    with Writer(lab, sb.MAIN_VIP, name="follow") as writer:
        wait_for(lambda: len(writer.acked) >= 50, timeout=60, what="50 acknowledged rows")
    acked = {row for row, _ in writer.acked}
    for node in sb.STANDBY_NODES:
        wait_for(lambda n=node: not acked - writer.present(lab.node(n).address), timeout=60,
                 what=f"every acknowledged row on {node}")
    assert sb.in_recovery(lab, sb.STANDBY_VIP) is True
    with pytest.raises(Exception, match="read-only"):
        query(lab, sb.STANDBY_VIP, "CREATE TABLE must_fail (id int)")
    leader, dr_leader = _main_leader(lab), sb.standby_leader(lab)
    assert dr_leader in sb.STANDBY_NODES
    assert sb.replication(lab, leader).get(lab.node(dr_leader).address) == "streaming"
    assert sb.receiver(lab, dr_leader)["status"] == "streaming"
    dr_replica = next(n for n in sb.STANDBY_NODES if n != dr_leader)
    cascade = sb.receiver(lab, dr_replica)
    assert cascade["status"] == "streaming" and cascade["sender_host"] == lab.node(dr_leader).address
    # the permanent slot lab keeps for dr, active
    assert query(lab, lab.node(leader).address,
                 "SELECT active FROM pg_replication_slots WHERE slot_name = 'dr'") == [(True,)]
    # the summaries: which cluster follows which, with its lag
    table = salt_json(lab, dr_leader, "pgha_patroni.table", "main=lab")[dr_leader]
    assert "Standby cluster dr of lab" in table and "WAL receiver streaming" in table, table
    listing = lab.master.cli("salt-run", "pgha.clusters", capture_output=True).stdout
    assert "dr: Type B" in listing and "Standby cluster dr of lab" in listing and "main cluster of dr" in listing
    gate = salt_json(lab, dr_leader, "pgha_patroni.wait_healthy", "role=leader", "timeout=30")[dr_leader]
    assert gate.startswith(f"standby leader {dr_leader} streams from"), gate


def test_highstate_changes_nothing_on_either_cluster(lab, both):
    _returns, changed, failed = sb.highstate(lab, ALL)
    assert not failed and not changed, (failed, changed)


@pytest.mark.parametrize("workflow,cluster", [("pgha.config", "dr"), ("pgha.restart", "dr"),
                                               ("pgha.config", "lab"), ("pgha.restart", "lab")])
def test_an_orchestration_of_one_cluster_never_touches_the_other(lab, both, workflow, cluster):
    """Minions that ran states, postmaster start times and rows of the other cluster."""
    others = sb.STANDBY_NODES if cluster == "lab" else sb.MAIN_NODES
    with Writer(lab, sb.MAIN_VIP, name=f"iso{workflow[5:]}{cluster}") as writer:
        wait_for(lambda: len(writer.acked) >= 5, timeout=60, what="rows")
    for node in ALL:   # every node caught up, so its row count is final
        wait_for(lambda n=node: not writer.missing(lab.node(n).address), timeout=60, what=f"rows on {node}")
    before = sb.snapshot(lab, others, "pgha_writer")
    pillar = {"cluster": cluster} if workflow == "pgha.config" else {"cluster": cluster, "pending_only": False}
    result = run_orch(lab, workflow, pillar)
    assert_orch_ok(result)
    assert not sb.minions_in(result, others), sb.minions_in(result, others)
    assert sb.snapshot(lab, others, "pgha_writer") == before


def test_highstate_of_one_cluster_never_touches_the_other(lab, both):
    before = sb.snapshot(lab, sb.MAIN_NODES, "pgha_writer")
    res = lab.master.cli("salt", "-C", "I@pgha:cluster_name:dr", "state.highstate", "--out=json", "--static",
                         capture_output=True, timeout=900)
    assert set(yaml.safe_load(res.stdout)) == set(sb.STANDBY_NODES)
    assert sb.snapshot(lab, sb.MAIN_NODES, "pgha_writer") == before


def test_promote_is_refused_while_the_main_cluster_runs(lab, both):
    result = run_orch(lab, "pgha.promote", {"cluster": "dr"})
    out = result["stdout"] + result["stderr"]
    assert result["rc"] != 0 and "pgha.promote refused" in out and "still has a running leader" in out, out[-3000:]
    unnamed = run_orch(lab, "pgha.promote")
    assert unnamed["rc"] != 0 and "needs the standby cluster's name" in unnamed["stdout"] + unnamed["stderr"]
    assert sb.in_recovery(lab, sb.STANDBY_VIP) is True


def test_standby_follows_a_failover_of_the_main_cluster(lab, both):
    """Crash lab's leader: lab fails over, its VIP moves, dr's leader streams again from the
    new leader through the VIP with no action; rows written after the failover reach dr."""
    old = _main_leader(lab)
    sb.power_off(lab, [old])
    try:
        wait_for(lambda: _main_leader_or_none(lab, old) not in (None, old), timeout=120, what="a new lab leader")
        new = _main_leader_or_none(lab, old)
        dr_leader = None

        def follows():
            nonlocal dr_leader
            dr_leader = sb.standby_leader(lab)
            return dr_leader and sb.receiver(lab, dr_leader).get("status") == "streaming" and \
                sb.replication(lab, new).get(lab.node(dr_leader).address) == "streaming"
        wait_for(follows, timeout=180, what="dr's leader streaming from lab's new leader")
        with Writer(lab, sb.MAIN_VIP, name="afterfailover") as writer:
            wait_for(lambda: len(writer.acked) >= 20, timeout=60, what="rows after the failover")
        for node in sb.STANDBY_NODES:
            wait_for(lambda n=node: not writer.missing(lab.node(n).address), timeout=60, what=f"rows on {node}")
    finally:
        sb.power_on(lab, [old], sb.MAIN_VIP)
    salt_json(lab, old, "pgha_patroni.wait_healthy", "role=replica", "timeout=180")


def _main_leader_or_none(lab, down):
    for node in sb.MAIN_NODES:
        if node == down:
            continue
        try:
            found = salt_json(lab, node, "pgha_patroni.leader", timeout=10).get(node)
        except AssertionError:
            continue
        if isinstance(found, str) and found:
            return found
    return None


def test_promote_after_the_main_site_is_lost(lab, both):
    """A writer on lab's VIP; every lab node loses power; pgha.promote: dr's VIP accepts
    writes, and every acknowledged row is on dr unless the lag measured at the loss allows it."""
    writer = Writer(lab, sb.MAIN_VIP, name="lost").start()
    wait_for(lambda: len(writer.acked) >= 100, timeout=60, what="100 acknowledged rows")
    lag = sb.lose_main_site(lab, writer)
    result, seconds, first_commit = sb.promote(lab)
    assert_orch_ok(result)
    assert first_commit is not None
    assert sb.in_recovery(lab, sb.STANDBY_VIP) is False
    missing = writer.missing(sb.STANDBY_VIP)
    print(f"\nFIGURE standby_promote_seconds={seconds:.1f} standby_promote_to_first_commit_seconds="
          f"{first_commit:.1f} standby_lag_bytes_at_loss={lag} standby_rows_acked={len(writer.acked)} "
          f"standby_rows_lost={len(missing)}")
    print("promote steps (s): " + sb.slowest_steps(result))
    if lag == 0:
        assert missing == [], missing
    else:   # lost rows are the last ones acknowledged, never one before a present row
        present = writer.present(sb.STANDBY_VIP)
        ids = [row for row, _ in writer.acked]
        assert all(row not in present for row in ids[len(ids) - len(missing):]), missing


def test_highstate_refuses_until_the_pillar_is_updated_and_never_demotes(lab, both):
    res = lab.master.cli("salt", "-L", ",".join(sb.STANDBY_NODES), "state.highstate", "--out=json", "--static",
                         capture_output=True, timeout=900)
    comments = state_comments(yaml.safe_load(res.stdout), "pgha-patroni-dynamic-config-managed")
    assert any("no longer a standby cluster" in c for found in comments.values() for c in found if c), comments
    assert sb.in_recovery(lab, sb.STANDBY_VIP) is False
    # the pillar says it now: pgha:standby_cluster goes from dr's nodes
    for node in sb.STANDBY_NODES:
        path = lab.master.pillar_dir / f"roles_{node}.sls"
        data = yaml.safe_load(path.read_text())
        data["pgha"].pop("standby_cluster", None)
        path.write_text(yaml.safe_dump(data))
    lab.master.cli("salt", "-L", ",".join(sb.STANDBY_NODES), "saltutil.refresh_pillar", "wait=True",
                   capture_output=True, check=True)
    assert_orch_ok(run_orch(lab, "pgha.config", {"cluster": "dr"}))
    assert_orch_changed_nothing(run_orch(lab, "pgha.config", {"cluster": "dr"}))
    assert sb.in_recovery(lab, sb.STANDBY_VIP) is False


def test_remove_one_cluster_leaves_the_other(lab, both):
    """The main site comes back (its own cluster, apart from dr now); pgha.remove of dr
    touches no lab minion, restarts no lab PostgreSQL, and lab keeps its rows."""
    sb.power_on(lab, sb.MAIN_NODES, sb.MAIN_VIP)
    salt_json(lab, "I@pgha:cluster_name:lab", "pgha_patroni.wait_healthy", "timeout=240", tgt_type="compound")
    # lab's replicas caught up: the same rows on every lab node
    wait_for(lambda: len({rows for _, rows in sb.snapshot(lab, sb.MAIN_NODES, "pgha_writer").values()}) == 1,
             timeout=120, what="lab's replicas caught up")
    before = sb.snapshot(lab, sb.MAIN_NODES, "pgha_writer")
    result = run_orch(lab, "pgha.remove", {"cluster": "dr", "confirm_remove": "dr", "remove_postgres": True,
                                           "remove_etcd": True})
    assert_orch_ok(result)
    assert not sb.minions_in(result, sb.MAIN_NODES)
    assert sb.snapshot(lab, sb.MAIN_NODES, "pgha_writer") == before
