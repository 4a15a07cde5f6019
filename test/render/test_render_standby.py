"""
Standby clusters (issue 20) as the templates render them: a standby cluster's Patroni
bootstrap (``dcs.standby_cluster``) and the dynamic configuration its state keeps, its users
left to the main cluster; a main cluster's permanent slot, pg_hba lines and firewall rules for
its standby clusters' addresses.
"""
import json

from pghalab.secrets_scan import secrets_of

from .render_helpers import (ALL_PILLARS, STANDBY_ADDRESSES, STANDBY_MAIN_VIP, TWIN_PREFIX, _patroni_config, _state,
                             _states)
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


# -- a standby cluster restoring from its main cluster's pgBackRest repository host (h10-drrepo) --

def _conf_text(rendered, pillar_id):
    result = rendered[("pgbackrest_conf", "debian13", pillar_id)]
    assert result["rc"] == 0 and isinstance(result["data"], str), f"{result['stdout']}\n{result['stderr']}"
    return result["data"]


def test_main_repository_host_trusts_the_standby_nodes(rendered):
    states = _states(rendered, "show_sls", "debian13", "standby_repo_main")
    for minion in ("pg1", "pg2"):
        _, function, args = _state(states, f"pgha-pgbackrest-ssh-standby-{minion}-authorized")
        assert function == "present"
        assert args["name"] == f"ssh-ed25519 AAAAkey{minion} postgres@{minion}"
        assert args["user"] == "pgbackrest"
        assert "no-pty" in args["options"] and "no-port-forwarding" in args["options"]
    # the main's own database node is trusted both ways; the standby's only logs in here
    assert "pgha-pgbackrest-ssh-mp1-authorized" in states and "pgha-pgbackrest-ssh-mp1-known" in states
    assert not any(k.startswith("pgha-pgbackrest-ssh-pg1-") for k in states)
    # a case twin's repository host is not the main's
    assert not any("repo8" in k for k in states)
    # the main keeps backing up its own stanza only: its database nodes in its pgbackrest.conf
    text = _conf_text(rendered, "standby_repo_main")
    assert "pg1-host=10.0.5.11" in text and "10.0.6.12" not in text


def test_standby_node_reads_the_main_repository(rendered):
    text = _conf_text(rendered, "standby_repo")
    lines = text.splitlines()
    assert "repo1-host=10.0.0.41" in lines and "repo1-host-user=pgbackrest" in lines
    # the main's stanza only: the standby cluster writes nothing of its own into that repository
    assert "[main]" in lines and "[dr]" not in lines
    assert "pg1-path=/var/lib/postgresql/17/main" in lines
    assert not any(line.startswith("repo1-path") for line in lines)


def test_standby_node_pins_the_repository_host_and_takes_no_backup(rendered):
    states = _states(rendered, "show_sls", "debian13", "standby_repo")
    _, function, args = _state(states, "pgha-pgbackrest-ssh-main-repository-known")
    assert function == "present"
    assert (args["name"], args["enc"], args["key"], args["user"]) == (
        "10.0.0.41", "ssh-ed25519", "AAAAhostrepo1", "postgres")
    assert _state(states, "pgha-pgbackrest-ssh-key-published")[2]["name"] == "postgres"
    assert _state(states, "pgha-pgbackrest-schedule-none-on-a-standby-cluster")[:2] == ("test", "nop")
    assert not any(k.startswith("pgha-pgbackrest-full-") for k in states)
    assert "pgha-pgbackrest-stanza-created" not in states
    assert "pgha-pgbackrest-repo-dir-managed" not in states
    assert not any("authorized" in k for k in states)     # nothing logs in to the standby's nodes


def test_standby_patroni_restores_from_the_main_stanza(rendered):
    config = _patroni_config(rendered, "debian13", "standby_repo")
    standby = config["bootstrap"]["dcs"]["standby_cluster"]
    assert standby["create_replica_methods"] == ["pgbackrest", "basebackup"]
    assert standby["restore_command"] == '/usr/bin/pgbackrest --stanza=main archive-get %f "%p"'
    assert config["postgresql"]["pgbackrest"] == {
        "command": "/usr/bin/pgbackrest --stanza=main --delta --type=standby restore",
        "keep_data": True, "no_params": True}
    assert config["postgresql"]["recovery_conf"]["restore_command"] == standby["restore_command"]


def test_standby_repository_states_carry_no_secret(rendered):
    for pillar_id in ("standby_repo", "standby_repo_main"):
        text = json.dumps(_states(rendered, "show_sls", "debian13", pillar_id))
        # the main cluster is found by its exact name: never Main's repository host (repo8)
        assert TWIN_PREFIX not in text and "repo8" not in text
        assert "PRIVATE KEY" not in text and "id_ed25519\"" not in text
        for secret in secrets_of(ALL_PILLARS["standby_repo"]):
            assert secret not in text, (pillar_id, secret)

