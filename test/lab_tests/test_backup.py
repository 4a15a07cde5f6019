"""pgBackRest on a real Type B cluster (scenario `backup`: a posix repository on storage all
nodes share): pgha.deploy creates the stanza from the leader and WAL reaches the archive
through Patroni's archive_command; a full backup from the module; the schedule in the
postgres crontab; a replica rebuilt from the repository (create_replica_methods: pgbackrest).
"""
from .helpers import assert_orch_ok, assert_replica_rebuilt_with, leader_name, query, salt_json

SCENARIO = "backup"


def test_deploy_creates_the_stanza(lab, deployed):
    assert_orch_ok(deployed["result"])
    leader = leader_name(lab)
    info = salt_json(lab, leader, "pgha_pgbackrest.info")[leader]
    assert info["name"] == "lab" and info["status"]["code"] in (0, 2), info   # 2: no backup yet
    config = salt_json(lab, leader, "pgha_patroni.show_config")[leader]
    assert config["postgresql"]["parameters"]["archive_command"] == (
        "/usr/bin/pgbackrest --stanza=lab archive-push %p")
    assert query(lab, lab.node(leader).address, "SHOW archive_mode") == [("on",)]
    conf = lab.node(leader).exec(["stat", "-c", "%a %U", "/etc/pgbackrest/pgbackrest.conf"],
                                 capture=True).stdout.split()
    assert conf == ["640", "postgres"]


def test_full_backup_and_archive(lab, deployed):
    leader = leader_name(lab)
    backup = salt_json(lab, leader, "pgha_pgbackrest.backup", "type=full", timeout=600)[leader]
    assert backup["type"] == "full" and backup["label"].endswith("F"), backup
    assert "checked" in salt_json(lab, leader, "pgha_pgbackrest.check")[leader]
    info = salt_json(lab, leader, "pgha_pgbackrest.info")[leader]
    assert info["status"]["code"] == 0 and [b["type"] for b in info["backup"]] == ["full"]
    # the same repository seen from a replica (shared storage)
    replica = sorted(n.name for n in lab.nodes() if n.name != leader)[0]
    assert salt_json(lab, replica, "pgha_pgbackrest.info")[replica]["backup"][0]["label"] == backup["label"]


def test_scheduled_backup_runs_on_the_primary_only(lab, deployed):
    leader = leader_name(lab)
    for node in lab.nodes():
        active = node.exec(["systemctl", "is-active", "pgha-pgbackrest-full.timer",
                            "pgha-pgbackrest-diff.timer"], capture=True).stdout.split()
        assert active == ["active", "active"], (node.name, active)
    # what the timers start: on a replica nothing, on the leader a diff backup
    replica = sorted(n.name for n in lab.nodes() if n.name != leader)[0]
    lab.node(replica).exec(["systemctl", "start", "pgha-pgbackrest-diff.service"])
    lab.node(leader).exec(["systemctl", "start", "pgha-pgbackrest-diff.service"])
    types = [b["type"] for b in salt_json(lab, leader, "pgha_pgbackrest.info")[leader]["backup"]]
    assert types == ["full", "diff"], types


def test_replica_rebuilt_from_the_repository(lab, deployed):
    assert_replica_rebuilt_with(lab, "pgbackrest", "backup_check")
