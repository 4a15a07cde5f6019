"""
The firewall (pgha:firewall).
"""
import json
import os
import shutil
import subprocess

import pytest

from .render_helpers import (NODE_ADDRESS, VIP, LB_ADDRESS, TYPE_A_PG, TYPE_A_LB, ONLY_ON, _states, _state,
                             _render_file)


NFT_BASE = [   # every node: what any firewall of pgha accepts before its roles' ports
    "type filter hook input priority filter; policy drop;",
    "ct state established,related accept",
    "ct state invalid drop",
    'ct state new tcp flags & syn == 0 socket wildcard 0 accept comment "connection older than the firewall"',
    "iif lo accept",
    "meta l4proto { icmp, ipv6-icmp } accept",
    'ip6 saddr fe80::/10 udp dport 546 accept comment "DHCPv6 client"',
    'tcp dport 22 accept comment "ssh, from anywhere"',
]


def _nft(states, grains_id, pillar_id):
    """({set: [elements]}, [the input chain's rules after NFT_BASE]) of the rendered file."""
    text = _render_file(states, "pgha-firewall-rules-file-managed", grains_id, pillar_id)
    assert text.startswith("# Managed by Salt (pgha)")
    head, table = text.split("\ntable inet pgha {\n", 1)
    # only pgha's own table is replaced, in the file's one transaction
    assert head.splitlines()[-2:] == ["table inet pgha", "delete table inet pgha"]
    assert [line for line in text.splitlines() if "table" in line and not line.startswith("#")] == [
        "table inet pgha", "delete table inet pgha", "table inet pgha {"]
    assert "flush" not in text
    sets = {}
    for block in table.split("    set ")[1:]:
        name = block.split()[0]
        elements = block.split("elements = { ", 1)[1].split(" }", 1)[0]
        sets[name] = elements.split(", ")
        assert ("auto-merge" in block.split("}", 1)[0]) is name.startswith("clients_"), name
    chain = table.split("chain input {\n", 1)[1].split("\n    }")[0]
    chain = [line.strip() for line in chain.splitlines() if not line.strip().startswith("#")]
    assert chain[:len(NFT_BASE)] == NFT_BASE
    return sets, chain[len(NFT_BASE):]


@pytest.mark.parametrize("grains_id", ONLY_ON["firewall"])
def test_firewall_of_a_type_b_database_node(rendered, grains_id):
    """PostgreSQL for the client networks and the cluster, Patroni and etcd for the cluster's
    nodes only, etcd's peer port for etcd members only; no PgBouncer, HAProxy or VRRP."""
    states = _states(rendered, "show_sls", grains_id, "firewall")
    sets, rules = _nft(states, grains_id, "firewall")
    assert sets == {"clients_v4": ["10.1.0.0/16"], "clients_v6": ["fd00:1::/64"],
                    "cluster_v4": [VIP, NODE_ADDRESS, "10.0.0.12", "10.0.0.13"],   # not pg9's cluster
                    "etcd_members_v4": [NODE_ADDRESS, "10.0.0.12", "10.0.0.13"]}
    assert rules == [
        'ip saddr @clients_v4 tcp dport { 5432 } accept comment "PostgreSQL"',
        'ip6 saddr @clients_v6 tcp dport { 5432 } accept comment "PostgreSQL"',
        'ip saddr @cluster_v4 tcp dport { 5432 } accept comment "PostgreSQL"',
        'ip saddr @cluster_v4 tcp dport { 8008 } accept comment "Patroni REST API"',
        'ip saddr @cluster_v4 tcp dport { 2379 } accept comment "etcd clients"',
        'ip saddr @etcd_members_v4 tcp dport { 2380 } accept comment "etcd peers"',
        'ip saddr @clients_v4 tcp dport { 9100 } accept comment "pgha:firewall:extra_ports"',
        'ip6 saddr @clients_v6 tcp dport { 9100 } accept comment "pgha:firewall:extra_ports"',
        'ip saddr @cluster_v4 tcp dport { 9100 } accept comment "pgha:firewall:extra_ports"',
        "ip saddr 10.8.0.0/16 tcp dport 9187 accept",
    ]
    # nftables from the distribution; the file checked by nft before it is written
    assert _state(states, "pgha-firewall-pkgs-installed")[2]["pkgs"] == ["nftables"]
    module, function, args = _state(states, "pgha-firewall-rules-file-managed")
    assert (module, function, args["name"], args["mode"]) == (
        "file", "managed", "/etc/pgha/firewall.nft", "0644")
    assert args["check_cmd"] == "/usr/sbin/nft -c -f"
    assert args["require"] == [{"sls": "pgha.firewall.install"},
                               {"test": "pgha-firewall-firewalld-not-running"},
                               {"test": "pgha-firewall-cluster-addresses-known"}]
    # firewalld running: refused with the reason; the node's address in the mine: go
    module, function, args = _state(states, "pgha-firewall-firewalld-not-running")
    assert (module, function, args["onlyif"]) == (
        "test", "fail_without_changes", "systemctl is-active --quiet firewalld")
    assert "systemctl disable --now firewalld" in args["name"]
    assert _state(states, "pgha-firewall-cluster-addresses-known")[:2] == (
        "test", "succeed_without_changes")
    # loaded by its own unit (at boot too), reloaded in one transaction when the file changes
    unit = _state(states, "pgha-firewall-unit-file-managed")[2]
    assert unit["name"] == "/etc/systemd/system/pgha-firewall.service"
    for line in ("ExecStart=/usr/sbin/nft -f /etc/pgha/firewall.nft",
                 "ExecReload=/usr/sbin/nft -f /etc/pgha/firewall.nft",
                 "ExecStop=-/usr/sbin/nft delete table inet pgha",
                 "After=nftables.service", "PartOf=nftables.service", "WantedBy=sysinit.target"):
        assert line in unit["contents"].splitlines(), line
    assert _state(states, "pgha-firewall-service-running") == ("service", "running", {
        "name": "pgha-firewall", "enable": True, "reload": True,
        "watch": [{"file": "pgha-firewall-rules-file-managed"},
                  {"file": "pgha-firewall-unit-file-managed"}],
        "require": [{"module": "pgha-firewall-systemd-reloaded"}]})


def test_firewall_of_a_type_a_database_node(rendered):
    """No client_sources: PostgreSQL and PgBouncer from anywhere; Patroni's REST API for the
    cluster, the balancers included (HAProxy's health checks)."""
    states = _states(rendered, "show_sls", "debian12", "firewall_typea")
    sets, rules = _nft(states, "debian12", "firewall_typea")
    assert sets["cluster_v4"] == sorted([VIP, *TYPE_A_PG.values(), *TYPE_A_LB.values()])
    assert sets["balancers_v4"] == sorted(TYPE_A_LB.values())
    assert "clients_v4" not in sets and "10.9." not in json.dumps(sets)
    assert rules == [
        'tcp dport { 5432, 6432 } accept comment "PostgreSQL, PgBouncer"',
        'ip saddr @cluster_v4 tcp dport { 8008 } accept comment "Patroni REST API"',
        'ip saddr @cluster_v4 tcp dport { 2379 } accept comment "etcd clients"',
        'ip saddr @etcd_members_v4 tcp dport { 2380 } accept comment "etcd peers"',
    ]


def test_firewall_of_a_balancer(rendered):
    """HAProxy's listeners (5002/5003 with synchronous_mode, the direct port, stats) and VRRP
    from the other balancers; nothing of a database or etcd node."""
    states = _states(rendered, "show_sls", "debian12", "firewall_lb")
    sets, rules = _nft(states, "debian12", "firewall_lb")
    assert sets["balancers_v4"] == [LB_ADDRESS, "10.0.0.32"]
    assert rules == [
        'tcp dport { 5000, 5001, 5002, 5003, 6000, 7000 } accept comment "HAProxy"',
        'ip saddr @balancers_v4 meta l4proto 112 accept comment "VRRP (keepalived)"',
    ]


def test_firewall_refused_without_the_node_in_the_mine(rendered):
    """A firewall from a mine that lacks this node would shut the cluster out: the file waits."""
    states = _states(rendered, "show_sls", "debian12", "firewall_not_in_mine")
    module, function, args = _state(states, "pgha-firewall-cluster-addresses-known")
    assert (module, function) == ("test", "fail_without_changes")
    assert args["name"].startswith("the mine has no pgha_member of pg1 for cluster main: run salt-run "
                                   "state.orch pgha.prepare first")
    assert {"test": "pgha-firewall-cluster-addresses-known"} in _state(
        states, "pgha-firewall-rules-file-managed")[2]["require"]


@pytest.mark.parametrize("pillar_id", ["firewall", "firewall_lb"])
def test_firewall_in_the_highstate_first(rendered, pillar_id):
    """Highstate loads the firewall before it starts the roles' services."""
    states = _states(rendered, "highstate", "debian12", pillar_id)
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.firewall.install", "pgha.firewall.config", "pgha.firewall.service"} <= sls
    assert "pgha.firewall.clean" not in sls

    def order(state_id):
        (items,) = [v for k, v in states[state_id].items() if not k.startswith("__")]
        return next(i["order"] for i in items if isinstance(i, dict) and "order" in i)
    first = "pgha-etcd-service-running" if pillar_id == "firewall" else "pgha-haproxy-service-running"
    assert order("pgha-firewall-service-running") < order(first)


@pytest.mark.parametrize("pillar_id", ["typeb_vip", "typea_lb"])
def test_no_firewall_by_default(rendered, pillar_id):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    assert not [s for s in states if s.startswith("pgha-firewall-")]
    assert _state(_states(rendered, "show_sls", "debian12", pillar_id), "pgha-firewall-not-used") == (
        "test", "nop", {"name": "no firewall is managed (pgha:firewall:enabled)"})


def test_firewall_clean(rendered):
    states = _states(rendered, "show_sls", "debian12", "firewall")
    assert _state(states, "pgha-firewall-clean-service-dead") == (
        "service", "dead", {"name": "pgha-firewall", "enable": False})
    assert _state(states, "pgha-firewall-clean-table-deleted")[2] == {
        "name": "/usr/sbin/nft delete table inet pgha", "onlyif": "/usr/sbin/nft list table inet pgha",
        "require": [{"service": "pgha-firewall-clean-service-dead"}]}
    assert _state(states, "pgha-firewall-clean-files-absent")[2]["names"] == [
        "/etc/systemd/system/pgha-firewall.service", "/etc/pgha/firewall.nft"]


@pytest.mark.skipif(not shutil.which("nft") or os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs nft (Debian package nftables), root and unshare")
@pytest.mark.parametrize("pillar_id", ["firewall", "firewall_typea", "firewall_lb"])
def test_firewall_file_loads_in_nftables(rendered, tmp_path, pillar_id):
    """nft itself loads each file, twice (the second run replaces the table), in a network
    namespace of its own: the host's ruleset is never touched."""
    states = _states(rendered, "show_sls", "debian12", pillar_id)
    path = tmp_path / "pgha.nft"
    path.write_text(_render_file(states, "pgha-firewall-rules-file-managed", "debian12", pillar_id))
    script = f"nft -f {path}; nft -f {path}; nft list table inet pgha"
    proc = subprocess.run(["unshare", "--net", "sh", "-ec", script],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "policy drop" in proc.stdout
