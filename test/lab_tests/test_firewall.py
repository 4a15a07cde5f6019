"""The firewall (scenario `firewall`: Type B, pgha:firewall on, clients admitted from the lab
host only). Each role's ports are open to the cluster's own nodes and nothing else is: a port
outside the list is unreachable even from a member, an address outside the cluster reaches
neither etcd nor Patroni nor PostgreSQL. The cluster works behind it, a second deploy changes
nothing, pgha.add_node admits a new node (its etcd member joins through the others'
firewalls), the table comes back at boot, pgha.remove_node shuts the node out again.

A probe tells a port the firewall lets through (open, or refused by the node when nothing
listens there) from one it drops (no answer: filtered). Tests share one cluster, in file order.
"""
import json
import socket
import uuid

from pghalab.cluster import query, run_orch, salt_json, serves_writes_as, wait_for

from .helpers import assert_orch_changed_nothing, assert_orch_ok

SCENARIO = "firewall"
VIP = "10.213.0.100"
MEMBERS = ("pg1", "pg2", "pg3")
OTHER_PORT = 8555           # in no role's list
CLUSTER_PORTS = (5432, 8008, 2379, 2380)
PROBE = """
import json, socket, sys
found = {}
for port in sys.argv[2:]:
    sock = socket.socket()
    sock.settimeout(2)
    try:
        sock.connect((sys.argv[1], int(port)))
        found[port] = "open"
    except ConnectionRefusedError:
        found[port] = "refused"
    except OSError:
        found[port] = "filtered"
    finally:
        sock.close()
print(json.dumps(found))
"""


def _probe_from(lab, source, target, ports):
    """{port: open | refused | filtered} of `target`'s address, tried from inside node `source`."""
    out = lab.node(source).exec(["python3", "-c", PROBE, lab.node(target).address, *map(str, ports)],
                                capture=True).stdout
    return {int(port): state for port, state in json.loads(out).items()}


def _probe_from_host(address, ports):
    """The same, from the lab host (the cluster's one allowed client)."""
    found = {}
    for port in ports:
        try:
            socket.create_connection((address, port), timeout=2).close()
            found[port] = "open"
        except ConnectionRefusedError:
            found[port] = "refused"
        except OSError:
            found[port] = "filtered"
    return found


def _table(lab, name):
    return lab.node(name).exec(["nft", "list", "table", "inet", "pgha"], capture=True, check=False).stdout


def test_deploy_behind_the_firewall(lab, deployed):
    assert_orch_ok(deployed["result"])
    for name in MEMBERS:
        table = _table(lab, name)
        assert "policy drop" in table and "elements = { 10.213.0.1 }" in table, (name, table)
        enabled = lab.node(name).exec(["systemctl", "is-enabled", "pgha-firewall"], capture=True, check=False)
        assert enabled.stdout.strip() == "enabled", name
    # the cluster works: a write through the VIP reaches every replica
    token = str(uuid.uuid4())
    query(lab, VIP, "CREATE TABLE IF NOT EXISTS fw_check (token text PRIMARY KEY)")
    query(lab, VIP, "INSERT INTO fw_check VALUES (%s)", (token,))
    for name in MEMBERS:
        wait_for(lambda n=name: query(lab, lab.node(n).address, "SELECT 1 FROM fw_check WHERE token = %s",
                                      (token,)), timeout=15, what=f"the row on {name}")


def test_only_the_roles_ports_are_open(lab, deployed):
    pg1 = lab.node("pg1")
    pid = pg1.exec(["sh", "-c", f"python3 -m http.server {OTHER_PORT} >/dev/null 2>&1 & echo $!"],
                   capture=True).stdout.strip()
    try:
        wait_for(lambda: _probe_from(lab, "pg1", "pg1", [OTHER_PORT]) == {OTHER_PORT: "open"},
                 timeout=15, what=f"a listener on pg1:{OTHER_PORT}")
        # a member reaches the database and etcd ports, not a port outside the roles' list
        assert _probe_from(lab, "pg2", "pg1", [*CLUSTER_PORTS, OTHER_PORT]) == {
            5432: "open", 8008: "open", 2379: "open", 2380: "open", OTHER_PORT: "filtered"}
        # a node outside the cluster (pg4 has no cluster pillar yet) reaches none of them; ssh
        # stays open to anyone (nothing listens there in the lab: refused, not dropped)
        outside = _probe_from(lab, "pg4", "pg1", [*CLUSTER_PORTS, OTHER_PORT, 22])
        assert outside.pop(22) in ("open", "refused")
        assert set(outside.values()) == {"filtered"}, outside
        # the allowed client (this host): PostgreSQL only, on the nodes and through the VIP
        assert _probe_from_host(pg1.address, [*CLUSTER_PORTS, OTHER_PORT]) == {
            5432: "open", 8008: "filtered", 2379: "filtered", 2380: "filtered", OTHER_PORT: "filtered"}
        assert _probe_from_host(VIP, [5432]) == {5432: "open"}
    finally:
        pg1.exec(["kill", pid], check=False)


def test_second_deploy_changes_nothing(lab, deployed):
    assert_orch_changed_nothing(run_orch(lab, "pgha.deploy"))


def test_added_node_joins_through_the_firewalls(lab, deployed):
    lab.assign("pg4")
    assert_orch_ok(run_orch(lab, "pgha.add_node", {"cluster": "lab", "target": "pg4"}))
    assert "pg4" in salt_json(lab, "pg1", "pgha_patroni.list")["pg1"]["members"]
    status = query(lab, lab.node("pg4").address, "SELECT status FROM pg_stat_wal_receiver")
    assert status == [("streaming",)], status
    etcd = salt_json(lab, "pg1", "pgha_etcd.members", "http://10.213.0.11:2379")["pg1"]
    assert sorted(m["name"] for m in etcd) == ["pg1", "pg2", "pg3", "pg4"]
    assert _probe_from(lab, "pg4", "pg1", CLUSTER_PORTS) == {p: "open" for p in CLUSTER_PORTS}
    assert "policy drop" in _table(lab, "pg4")


def test_firewall_comes_back_at_boot(lab, deployed):
    from pghalab.__main__ import FAULTS     # pylint: disable=import-outside-toplevel

    FAULTS["stop"](lab, "pg4")
    FAULTS["start"](lab, "pg4")
    lab.master.wait_minions(["pg4"])
    assert "policy drop" in _table(lab, "pg4")
    res = lab.master.cli("salt", "pg4", "pgha_patroni.wait_healthy", "role=replica", "timeout=120",
                         "--out=json", "--static", capture_output=True, timeout=240)
    assert res.returncode == 0, res.stdout
    assert serves_writes_as(lab, VIP, salt_json(lab, "pg1", "pgha_patroni.leader")["pg1"])


def test_removed_node_is_shut_out_again(lab, deployed):
    assert_orch_ok(run_orch(lab, "pgha.remove_node", {"cluster": "lab", "target": "pg4"}))
    lab.unassign("pg4")
    assert "10.213.0.14" not in _table(lab, "pg1")
    assert set(_probe_from(lab, "pg4", "pg1", CLUSTER_PORTS).values()) == {"filtered"}
