"""Grow a running Type A cluster: pgha.add_node of a database node (HAProxy on the balancer
sends replica traffic to it, pg_hba admits it, a writer through port 5000 loses nothing) and
pgha.add_balancer (the new balancer joins the VIP group and takes the VIP when HAProxy dies
on the first one).
"""
import time

from .helpers import identity, query, run_orch, salt_json, steps, wait_for
from .writer import Writer

SCENARIO = "grow-typea"
VIP = "10.213.0.100"


def _ok(result):
    assert result["rc"] == 0, result["stdout"][-6000:] + result["stderr"][-2000:]
    failed = {k: v.get("comment") for k, v in steps(result).items() if v.get("result") is not True}
    assert not failed, failed


def _replica_servers(lab):
    password = lab.pillar()["pgha"]["haproxy"]["stats_password"]
    ret = salt_json(lab, "lb1", "pgha_haproxy.servers", f"password={password}")["lb1"]
    return {name: state for name, state in ret.get("replicas", {}).items()}


def test_deploy(lab, deployed):
    _ok(deployed["result"])
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
    _ok(result)
    assert query(lab, lab.node("pg3").address, "SELECT status FROM pg_stat_wal_receiver") == [("streaming",)]
    wait_for(lambda: _replica_servers(lab).get("pg3") == "UP", timeout=30,
             what="pg3 UP in HAProxy's replica listener")
    assert {n: query(lab, lab.node(n).address, "SELECT pg_postmaster_start_time()")[0][0]
            for n in ("pg1", "pg2")} == starts
    assert len(writer.acked) > 20, (writer.errors, writer.last_error)
    wait_for(lambda: writer.missing(lab.node("pg3").address) == [], timeout=30,
             what="every acknowledged write on pg3")


def test_add_balancer_joins_the_vip_group(lab, deployed):
    lab.assign("lb2")
    _ok(run_orch(lab, "pgha.add_balancer", pillar={"target": "lb2"}))
    conf = lab.node("lb1").exec(["cat", "/etc/keepalived/keepalived.conf"], capture=True).stdout
    assert lab.node("lb2").address in conf, "lb1's keepalived does not know lb2"

    def holder():
        return [n for n in ("lb1", "lb2") if VIP in lab.node(n).exec(["ip", "-4", "-o", "addr"], capture=True).stdout]

    first = holder()
    assert len(first) == 1, first
    node = lab.node(first[0])
    node.exec(["systemctl", "kill", "-s", "KILL", "haproxy"])
    node.exec(["systemctl", "stop", "haproxy"], check=False)
    try:
        started = time.monotonic()
        wait_for(lambda: holder() not in ([], first), timeout=30, what="VIP on the other balancer")
        wait_for(lambda: identity(lab, VIP, 5000)[1] is False, timeout=30, what="port 5000 through it")
        print(f"\nFIGURE vip_to_added_balancer_seconds={time.monotonic() - started:.1f}")
    finally:
        node.exec(["systemctl", "start", "haproxy"], check=False)
