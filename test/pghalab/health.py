"""The lab cluster's shape and health as the fault library reads it: its topology (database
nodes, balancers, entry point), the writable primaries, Patroni's dynamic configuration and
listing, health after a fault (wait_healthy), and etcd's members."""
import json
import time
import urllib.request
from dataclasses import dataclass

import psycopg2

from .cluster import identity, query, salt_json, vip_holders, wait_for
from .scenarios import SCENARIOS


@dataclass
class Topology:
    """The lab's database nodes and balancers ({name: address}), and the entry point."""
    db: dict
    balancers: dict
    vip: str
    port: int

    @classmethod
    def of(cls, lab):
        spec = SCENARIOS[lab.info["scenario"]]
        active = [n for n in spec["nodes"] if n not in spec.get("spares", ())]
        db = {n: lab.node(n).address for n in active if "postgresql" in spec["roles"][n]}
        balancers = {n: lab.node(n).address for n in active if "balancer" in spec["roles"][n]}
        vip = lab.pillar()["pgha"]["cluster_vip"]
        port = 5000 if lab.pillar()["pgha"].get("with_haproxy_load_balancing") else 5432
        return cls(db, balancers, vip, port)


def primaries(lab, topo):
    """Database nodes that answer as a writable primary now (unreachable ones are skipped)."""
    found = []
    for name, address in topo.db.items():
        try:
            if not query(lab, address, "SELECT pg_is_in_recovery()")[0][0]:
                found.append(name)
        except psycopg2.Error:
            pass
    return found


def leader(lab, topo):
    found = primaries(lab, topo)
    if len(found) != 1:
        raise AssertionError(f"expected one writable primary, found {found}")
    return found[0]


def dcs_config(lab, node):
    """Patroni's dynamic configuration as the cluster runs it (GET /config through `node`)."""
    return salt_json(lab, node, "pgha_patroni.show_config")[node]


def patroni_listing(lab, node):
    return salt_json(lab, node, "pgha_patroni.list")[node]


def wait_healthy(lab, topo, timeout=180):
    """Every database member healthy (pgha_patroni.wait_healthy: the leader writable, each
    replica streaming from it on its timeline), Patroni's listing with one leader and every
    member on one timeline; Type A: one balancer holds the VIP and port 5000 reaches the
    leader. Returns the leader's name."""
    lab.master.wait_minions(list(topo.db) + list(topo.balancers), timeout=timeout)
    ret = salt_json(lab, ",".join(sorted(topo.db)), "pgha_patroni.wait_healthy", "role=member",
                    f"timeout={timeout}", tgt_type="list", timeout=timeout + 30)
    # what pgha_patroni._check says of a healthy member; anything else is an error text
    bad = {n: ret.get(n) for n in topo.db
           if not (isinstance(ret.get(n), str) and ret[n].startswith(("leader ", "replica streaming from ")))}
    assert not bad, f"members not healthy after {timeout}s: {bad}"
    lead = leader(lab, topo)

    def one_timeline():
        listing = patroni_listing(lab, lead)
        members = listing["members"]
        timelines = {m.get("timeline") for m in members.values()}
        return (listing["leader"] == lead and sorted(members) == sorted(topo.db)
                and len(timelines) == 1 and listing)

    # Patroni refreshes a replica's timeline in the DCS once per loop
    wait_for(one_timeline, timeout=60, interval=1, what="one leader, every member on its timeline")
    # the VIP on one node only (keepalived's on a balancer, vip-manager's on the leader: a
    # thawed or healed old leader drops it at its next look at etcd), and it reaches the leader
    holders = list(topo.balancers) or list(topo.db)
    wait_for(lambda: len(vip_holders(lab, holders, topo.vip)) == 1, timeout=60,
             what=f"the VIP on exactly one of {', '.join(holders)}")
    wait_for(lambda: identity(lab, topo.vip, topo.port) == (lead, False), timeout=60,
             what=f"{topo.vip}:{topo.port} on the leader {lead}")
    return lead


def sync_standby_ready(lab, lead, timeout=60):
    """Under synchronous_mode: wait until Patroni names a synchronous standby."""
    wait_for(lambda: any(m.get("role") == "sync_standby"
                         for m in patroni_listing(lab, lead)["members"].values()),
             timeout=timeout, interval=1, what="a synchronous standby")


# the lab's own nodes, directly: never through a proxy from the environment
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def etcd_get(address, path, body=None, timeout=2):
    req = urllib.request.Request(f"http://{address}:2379{path}",
                                 data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    with _DIRECT.open(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode() or "{}")


def etcd_leader(topo):
    """The database node whose etcd member leads the etcd cluster (None if no member answers).

    etcd's v3 API through the etcd3 client (gRPC): the first member that answers names the
    leader among the members it lists."""
    import etcd3  # pylint: disable=import-outside-toplevel  (only the etcd faults need it)
    for address in topo.db.values():
        client = etcd3.client(host=address, port=2379, timeout=2)
        try:
            leader = client.status().leader
        except etcd3.exceptions.Etcd3Exception:
            continue
        finally:
            client.close()
        if leader is None:
            continue
        urls = list(leader.client_urls) + list(leader.peer_urls)
        return next((name for name, addr in topo.db.items()
                     if any(f"//{addr}:" in url for url in urls)), None)
    return None


def _etcd_members(topo):
    """{database node: (member id, client URLs)} of the etcd cluster, from the first member
    that answers."""
    import etcd3  # pylint: disable=import-outside-toplevel
    for address in topo.db.values():
        client = etcd3.client(host=address, port=2379, timeout=2)
        try:
            members = list(client.members)
        except etcd3.exceptions.Etcd3Exception:
            continue
        finally:
            client.close()
        found = {}
        for member in members:
            urls = list(member.client_urls) + list(member.peer_urls)
            node = next((n for n, a in topo.db.items() if any(f"//{a}:" in u for u in urls)), None)
            if node:
                found[node] = (member.id, list(member.client_urls))
        return found
    raise AssertionError("no etcd member answered")


def move_etcd_leader(lab, topo, node, timeout=30):
    """Make `node`'s etcd member etcd's leader (``etcdctl move-leader``, run on that node,
    which asks the current leader to hand over). A no-op when it leads already."""
    if etcd_leader(topo) == node:
        return
    members = _etcd_members(topo)
    endpoints = ",".join(url for _, urls in members.values() for url in urls)
    lab.node(node).exec(["etcdctl", f"--endpoints={endpoints}", "move-leader", f"{members[node][0]:x}"],
                        capture=True)
    deadline = time.monotonic() + timeout
    while etcd_leader(topo) != node:
        assert time.monotonic() < deadline, f"etcd's leadership did not move to {node}"
        time.sleep(0.5)


def etcd_healthy(topo):
    def ok(address):
        try:
            return str(etcd_get(address, "/health").get("health")).lower() == "true"
        except (OSError, ValueError):
            return False
    return all(ok(a) for a in topo.db.values())


def failsafe_members(topo, lead):
    """GET /failsafe of the leader's Patroni: the members it would call during a DCS outage
    ({} before failsafe_mode is on and the leader has written the key)."""
    try:
        with _DIRECT.open(f"http://{topo.db[lead]}:8008/failsafe", timeout=3) as resp:
            return json.loads(resp.read().decode())
    except (OSError, ValueError):
        return {}

