"""Faults on a real Type A cluster (scenario typea: HAProxy and keepalived on lb1 and lb2,
PgBouncer on the database nodes, synchronous mode): the writer commits through the keepalived
VIP's port 5000, the probes write directly on every database node's 5432. With a synchronous
standby at the time of the fault, Patroni promotes only it: no acknowledged commit may be lost.
One cluster, the tests in file order (resilience.run_fault; see test_resilience.py).
"""
import pytest

from .helpers import assert_orch_ok
from .resilience import assert_fault_handled, run_fault


SCENARIO = "typea"


def _run(lab, fault):
    run = run_fault(lab, fault)
    print("\n" + run.figure(prefix="typea "))
    assert run.topo.port == 5000 and run.topo.balancers
    assert run.dcs.get("synchronous_mode") is True and run.allowed_lost() == 0
    return run


def test_deploy(lab, deployed):
    assert_orch_ok(deployed["result"])


def test_crash_of_the_balancer_holding_the_vip(lab, deployed):
    """A power cut of the balancer that holds the VIP: keepalived on the other takes it, port
    5000 answers there; the crashed balancer boots again, and after it one balancer holds the
    VIP (run_fault's health check). The database is untouched: same leader, nothing lost."""
    run = _run(lab, "balancer-crash")
    assert_fault_handled(run)
    assert run.leader_after == run.leader_before
    assert not run.check["lost"]


def test_crash_of_the_primary_through_port_5000(lab, deployed):
    """A power cut of the leader's node: HAProxy marks it down, Patroni promotes the synchronous
    standby, port 5000 follows; the old primary boots again and rejoins as a replica."""
    run = _run(lab, "crash")
    assert_fault_handled(run)
    assert run.leader_after != run.targets[0]
