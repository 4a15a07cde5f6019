"""
Standby clusters (issue 20) as the templates render them: a standby cluster's Patroni
bootstrap (``dcs.standby_cluster``) and the dynamic configuration its state keeps, its users
left to the main cluster; a main cluster's permanent slot, pg_hba lines and firewall rules for
its standby clusters' addresses.
"""
from .render_helpers import STANDBY_ADDRESSES, STANDBY_MAIN_VIP, _patroni_config, _state, _states
from .test_render_firewall import _nft


def test_standby_cluster_in_patronis_bootstrap(rendered):
    config = _patroni_config(rendered, "debian13", "standby")
    assert config["scope"] == "dr"
    assert config["bootstrap"]["dcs"]["standby_cluster"] == {
        "host": STANDBY_MAIN_VIP, "port": 5432, "primary_slot_name": "dr",
        "create_replica_methods": ["basebackup"], "recovery_min_apply_delay": "5min"}
    # the standby keeps no slot for a standby of its own
    assert "slots" not in config["bootstrap"]["dcs"]


def test_standby_cluster_kept_in_the_dcs_by_its_state(rendered):
    states = _states(rendered, "show_sls", "debian13", "standby")
    _, function, args = _state(states, "pgha-patroni-dynamic-config-managed")
    assert function == "dynamic_config"
    assert args["config"]["standby_cluster"]["host"] == STANDBY_MAIN_VIP
    assert args["cluster"] == "dr"


def test_main_cluster_keeps_a_slot_and_admits_its_standby(rendered):
    config = _patroni_config(rendered, "debian13", "standby_main")
    assert config["bootstrap"]["dcs"]["slots"] == {"dr": {"type": "physical"}}
    assert "standby_cluster" not in config["bootstrap"]["dcs"]
    hba = config["postgresql"]["pg_hba"]
    for network in ("10.0.6.11/32", "10.0.6.12/32", "10.0.7.0/28"):
        assert f"host replication replicator {network} scram-sha-256" in hba
    # replication only: no other database for the standby's addresses
    assert not any(line.startswith("host all all 10.0.6.") for line in hba)


def test_main_cluster_firewall_admits_its_standby(rendered):
    states = _states(rendered, "show_sls", "debian13", "standby_main")
    sets, rules = _nft(states, "debian13", "standby_main")
    assert sets["standby_clusters_v4"] == ["10.0.7.0/28", "10.0.6.11/32", "10.0.6.12/32"] or \
        sorted(sets["standby_clusters_v4"]) == sorted(["10.0.6.11/32", "10.0.6.12/32", "10.0.7.0/28"])
    assert 'ip saddr @standby_clusters_v4 tcp dport { 5432 } accept comment "standby clusters: dr"' in rules
    assert STANDBY_ADDRESSES   # the pillar's addresses, as the rules name them
