"""Type A with the balancer role on the database nodes: HAProxy, keepalived and PgBouncer on
the same three minions as PostgreSQL, no balancer nodes."""
import collections

from pghalab.cluster import patroni_roles

from .helpers import steps
from .test_typea import VIP, whoami

SCENARIO = "typea-colocated"


def test_colocated_balancers_route_by_role(lab, deployed):
    result = deployed["result"]
    assert result["rc"] == 0, result["stdout"][-4000:] + result["stderr"][-2000:]
    assert all(step.get("result") is True for step in steps(result).values())
    roles = patroni_roles(lab)
    leader = next(n for n, r in roles.items() if r == "leader")
    replicas = {n for n, r in roles.items() if r != "leader"}
    assert whoami(lab, 5000) == (leader, False)
    seen = collections.Counter(whoami(lab, 5001) for _ in range(6))
    assert {h for h, _ in seen} == replicas, seen
    holders = [n.name for n in lab.nodes()
               if VIP in n.exec(["ip", "-4", "-o", "addr"], capture=True).stdout]
    assert len(holders) == 1, holders
