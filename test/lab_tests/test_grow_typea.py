"""Grow a running Type A cluster: pgha.add_node of a database node (HAProxy on the balancer
sends replica traffic to it, pg_hba admits it, a writer through port 5000 loses nothing) and
pgha.add_balancer (the new balancer joins the VIP group and takes the VIP when HAProxy dies
on the first one).
"""
from pghalab.cluster import identity, query, run_orch, salt_json, wait_for
from pghalab.writer import Writer

from .helpers import assert_orch_ok, kill_haproxy_on_vip_holder

SCENARIO = "grow-typea"
VIP = "10.213.0.100"



def _replica_servers(lab):
    # the stats password comes from lb1's pillar: never on a command line
    ret = salt_json(lab, "lb1", "pgha_haproxy.servers")["lb1"]
    return {name: state for name, state in ret.get("replicas", {}).items()}


def test_deploy(lab, deployed):
    assert_orch_ok(deployed["result"])
    assert identity(lab, VIP, 5000)[1] is False


def test_add_database_node(lab, deployed):
    starts = {n: query(lab, lab.node(n).address, "SELECT pg_postmaster_start_time()")[0][0]
              for n in ("pg1", "pg2")}
    lab.assign("pg3")
    writer = Writer(lab, VIP, port=5000).start()
    try:
        result = run_orch(lab, "pgha.add_node", pillar={"target": "pg3"})
    finally:
        writer.stop()
    assert_orch_ok(result)
    assert query(lab, lab.node("pg3").address, "SELECT status FROM pg_stat_wal_receiver") == [("streaming",)]
    wait_for(lambda: _replica_servers(lab).get("pg3") == "UP", timeout=30,
             what="pg3 UP in HAProxy's replica listener")
    assert {n: query(lab, lab.node(n).address, "SELECT pg_postmaster_start_time()")[0][0]
            for n in ("pg1", "pg2")} == starts
    assert len(writer.acked) > 20, (len(writer.errors), writer.last_error)
    wait_for(lambda: writer.missing(lab.node("pg3").address) == [], timeout=30,
             what="every acknowledged write on pg3")


def test_add_balancer_joins_the_vip_group(lab, deployed):
    lab.assign("lb2")
    assert_orch_ok(run_orch(lab, "pgha.add_balancer", pillar={"target": "lb2"}))
    conf = lab.node("lb1").exec(["cat", "/etc/keepalived/keepalived.conf"], capture=True).stdout
    assert lab.node("lb2").address in conf, "lb1's keepalived does not know lb2"

    seconds = kill_haproxy_on_vip_holder(lab, ["lb1", "lb2"], VIP)
    print(f"\nFIGURE vip_to_added_balancer_seconds={seconds:.1f}")
