"""Grow and shrink a running Type B cluster: pgha.add_node (two database nodes that are also
etcd members: etcd goes from 3 to 5), pgha.remove_node of a replica and of the leader, and
the refusals. A writer commits through the VIP during each change; no acknowledged write may
be lost and no member that stays may restart. Tests share one cluster and run in file order.
"""
import pytest

from pghalab.cluster import query, run_orch, salt_json, wait_for
from pghalab.writer import Writer

from .helpers import assert_orch_ok, data_dir

SCENARIO = "grow"
VIP = "10.213.0.100"
ETCD = "http://10.213.0.11:2379"



def _nodes(lab, names):
    return [lab.node(n) for n in names]


def _starts(lab, names):
    return {n.name: query(lab, n.address, "SELECT pg_postmaster_start_time()")[0][0]
            for n in _nodes(lab, names)}


def _leader(lab, names):
    for node in _nodes(lab, names):
        if not query(lab, node.address, "SELECT pg_is_in_recovery()")[0][0]:
            return node.name
    return None


def _etcd_members(lab, via="pg1"):
    ret = salt_json(lab, via, "pgha_etcd.members", ETCD if via == "pg1" else f"http://{lab.node(via).address}:2379")
    return sorted(m["name"] for m in ret[via])


def _patroni_members(lab, via):
    return sorted(salt_json(lab, via, "pgha_patroni.list")[via]["members"])


def _during_writes(lab, action):
    writer = Writer(lab, VIP).start()
    try:
        result = action()
    finally:
        writer.stop()
    return result, writer


def _no_write_lost(lab, writer, names):
    assert len(writer.acked) > 20, (len(writer.acked), len(writer.errors), writer.last_error)
    for node in _nodes(lab, names):
        wait_for(lambda n=node: writer.missing(n.address) == [], timeout=30,
                 what=f"every acknowledged write on {node.name}")


def test_deploy_three_nodes(lab, deployed):
    assert_orch_ok(deployed["result"])
    assert _etcd_members(lab) == ["pg1", "pg2", "pg3"]


def test_add_two_nodes_and_etcd_members(lab, deployed):
    before = _starts(lab, ["pg1", "pg2", "pg3"])
    lab.assign("pg4")
    lab.assign("pg5")
    result, writer = _during_writes(
        lab, lambda: run_orch(lab, "pgha.add_node", pillar={"target": ["pg4", "pg5"]}))
    assert_orch_ok(result)
    assert _etcd_members(lab) == ["pg1", "pg2", "pg3", "pg4", "pg5"]
    assert _patroni_members(lab, "pg1") == ["pg1", "pg2", "pg3", "pg4", "pg5"]
    for name in ("pg4", "pg5"):
        status = query(lab, lab.node(name).address, "SELECT status FROM pg_stat_wal_receiver")
        assert status == [("streaming",)], (name, status)
    assert _starts(lab, ["pg1", "pg2", "pg3"]) == before, "an existing member restarted"
    _no_write_lost(lab, writer, ["pg1", "pg2", "pg3", "pg4", "pg5"])
    # the existing members admit the new ones (reload, no restart) and know the new etcd members
    config = lab.node("pg1").exec(["cat", "/etc/patroni/config.yml"], capture=True).stdout
    assert "10.213.0.15/32" in config and "10.213.0.15:2379" in config


@pytest.mark.extended     # make test's time budget: a second pgha.add_node of the same target
def test_add_node_again_changes_nothing_on_the_members(lab, deployed):
    before = _starts(lab, ["pg1", "pg2", "pg3", "pg4", "pg5"])
    assert_orch_ok(run_orch(lab, "pgha.add_node", pillar={"target": "pg5"}))
    assert _starts(lab, ["pg1", "pg2", "pg3", "pg4", "pg5"]) == before
    assert _etcd_members(lab) == ["pg1", "pg2", "pg3", "pg4", "pg5"]


def test_remove_a_replica(lab, deployed):
    names = ["pg1", "pg2", "pg3", "pg4", "pg5"]
    leader = _leader(lab, names)
    replica = "pg5" if leader != "pg5" else "pg4"
    staying = [n for n in names if n != replica]
    before = _starts(lab, staying)
    result, writer = _during_writes(
        lab, lambda: run_orch(lab, "pgha.remove_node", pillar={"target": replica}))
    assert_orch_ok(result)
    lab.unassign(replica)
    assert _etcd_members(lab) == sorted(staying)
    assert _leader(lab, staying) == leader, "removing a replica must not move leadership"
    assert _starts(lab, staying) == before
    wait_for(lambda: replica not in _patroni_members(lab, leader), timeout=60,
             what=f"{replica} gone from Patroni's member list")
    config = lab.node(leader).exec(["cat", "/etc/patroni/config.yml"], capture=True).stdout
    assert lab.node(replica).address + "/32" not in config
    _no_write_lost(lab, writer, staying)
    # the data stays on the removed node
    gone = lab.node(replica).exec(["test", "-f", f"{data_dir(lab)}/PG_VERSION"], check=False)
    assert gone.returncode == 0


def test_remove_the_leader_switches_over_first(lab, deployed):
    names = [n for n in ("pg1", "pg2", "pg3", "pg4", "pg5") if n in _etcd_members(lab)]
    leader = _leader(lab, names)
    staying = [n for n in names if n != leader]
    result, writer = _during_writes(
        lab, lambda: run_orch(lab, "pgha.remove_node", pillar={"target": leader}))
    assert_orch_ok(result)
    lab.unassign(leader)
    assert _leader(lab, staying) in staying
    assert _etcd_members(lab, via=staying[0]) == sorted(staying)
    history = salt_json(lab, staying[0], "pgha_patroni.history")[staying[0]]
    assert history[-1]["reason"].startswith("no recovery target") or history
    _no_write_lost(lab, writer, staying)


def test_removal_that_would_break_etcd_quorum_is_refused(lab, deployed):
    members = _etcd_members(lab, via="pg2")
    assert len(members) == 3, members
    stopped, target = members[0], members[1]
    lab.node(stopped).exec(["systemctl", "stop", "etcd"])
    try:
        result = run_orch(lab, "pgha.remove_node", pillar={"target": target})
        assert result["rc"] != 0
        assert "would break quorum" in result["stdout"] + result["stderr"]
        assert sorted(salt_json(lab, target, "pgha_patroni.list")[target]["members"])  # still serving
    finally:
        lab.node(stopped).exec(["systemctl", "start", "etcd"])
    wait_for(lambda: _etcd_members(lab, via=members[2]) == members, timeout=60, what="etcd back")


def test_unknown_target_is_refused(lab, deployed):
    result = run_orch(lab, "pgha.add_node", pillar={"target": "pg9"})
    assert result["rc"] != 0
    assert "target pg9 has no pgha pillar for cluster lab" in result["stdout"] + result["stderr"]
