"""pgBackRest on a real Type B cluster (scenario `backup`: a posix repository on storage all
nodes share): pgha.deploy creates the stanza from the leader and WAL reaches the archive
through Patroni's archive_command; a full backup from the module; the scheduled backups; a
replica rebuilt from the repository (create_replica_methods: pgbackrest); a second cluster
cloned from the backup; point-in-time recovery of the running cluster with pgha.restore.
"""
import pytest

from pghalab.cluster import leader_name, query, run_orch, salt_json

from .helpers import (PAUSED_ARCHIVE_COMMAND as PAUSED, assert_orch_ok, assert_point_in_time_restore,
                      assert_replica_rebuilt_with, data_dir)

SCENARIO = "backup"
CLUSTER = ("pg1", "pg2", "pg3")


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
    assert conf == ["600", "postgres"]      # repository keys: its user's alone


def test_full_backup_and_archive(lab, deployed):
    leader = leader_name(lab)
    backup = salt_json(lab, leader, "pgha_pgbackrest.backup", "type=full", timeout=600)[leader]
    assert backup["type"] == "full" and backup["label"].endswith("F"), backup
    assert "checked" in salt_json(lab, leader, "pgha_pgbackrest.check")[leader]
    info = salt_json(lab, leader, "pgha_pgbackrest.info")[leader]
    assert info["status"]["code"] == 0 and [b["type"] for b in info["backup"]] == ["full"]
    # the same repository seen from a replica (shared storage)
    replica = sorted(n for n in CLUSTER if n != leader)[0]
    assert salt_json(lab, replica, "pgha_pgbackrest.info")[replica]["backup"][0]["label"] == backup["label"]


def test_scheduled_backup_runs_on_the_primary_only(lab, deployed):
    leader = leader_name(lab)
    for node in map(lab.node, CLUSTER):
        active = node.exec(["systemctl", "is-active", "pgha-pgbackrest-full.timer",
                            "pgha-pgbackrest-diff.timer"], capture=True).stdout.split()
        assert active == ["active", "active"], (node.name, active)
    # what the timers start: on a replica nothing, on the leader a diff backup
    replica = sorted(n for n in CLUSTER if n != leader)[0]
    lab.node(replica).exec(["systemctl", "start", "pgha-pgbackrest-diff.service"])
    lab.node(leader).exec(["systemctl", "start", "pgha-pgbackrest-diff.service"])
    types = [b["type"] for b in salt_json(lab, leader, "pgha_pgbackrest.info")[leader]["backup"]]
    assert types == ["full", "diff"], types


@pytest.mark.extended     # make test's time budget: a replica re-created from the repository
def test_replica_rebuilt_from_the_repository(lab, deployed):
    assert_replica_rebuilt_with(lab, "pgbackrest", "backup_check", CLUSTER)


def _archive_max(lab, node, stanza):
    info = salt_json(lab, node, "pgha_pgbackrest.info", f"stanza={stanza}")[node]
    return [a.get("max") for a in info.get("archive", [])]


def test_clone_into_a_second_cluster(lab, deployed):
    """pg4 has cluster_name clone and patroni:bootstrap_method pgbackrest reading stanza lab:
    one deploy makes it a cluster of its own with lab's data, archiving paused so that
    nothing reaches lab's archive."""
    leader = leader_name(lab)
    query(lab, lab.node(leader).address,
          "CREATE TABLE clone_check AS SELECT generate_series(1, 500) AS id")
    query(lab, lab.node(leader).address, "SELECT pg_switch_wal()")
    assert "checked" in salt_json(lab, leader, "pgha_pgbackrest.check")[leader]   # in the archive
    before = _archive_max(lab, leader, "lab")
    lab.assign("pg4")
    result = run_orch(lab, "pgha.deploy", {"cluster": "clone"})
    assert_orch_ok(result)
    pg4 = lab.node("pg4").address
    assert query(lab, pg4, "SELECT count(*) FROM clone_check") == [(500,)]
    assert query(lab, pg4, "SELECT pg_is_in_recovery()") == [(False,)]
    assert query(lab, pg4, "SHOW archive_command") == [(PAUSED,)]
    table = salt_json(lab, "pg4", "pgha_patroni.list")["pg4"]
    assert list(table["members"]) == ["pg4"] and table["leader"] == "pg4", table
    assert _archive_max(lab, leader, "lab") == before     # the clone wrote nothing there
    # the source cluster was not touched
    assert sorted(salt_json(lab, leader, "pgha_patroni.list")[leader]["members"]) == list(CLUSTER)


def test_restore_refused_without_the_pin(lab, deployed):
    result = run_orch(lab, "pgha.restore", {"cluster": "lab", "restore": {"type": "immediate"}})
    assert result["rc"] != 0
    assert """confirm with pillar='{"confirm_restore": "lab", ...}' (nothing was changed)""" in result["stdout"] + result["stderr"]
    result = run_orch(lab, "pgha.restore", {"cluster": "lab", "confirm_restore": "lab",
                                            "restore": {"type": "time", "target": "2001-01-01 00:00:00+00"}})
    assert result["rc"] != 0
    assert "no backup of stanza lab ended before 2001-01-01 00:00:00+00" in result["stdout"] + result["stderr"]
    assert query(lab, lab.node(leader_name(lab)).address, "SELECT 1") == [(1,)]


def test_two_clusters_on_one_master_stay_apart(lab, deployed):
    """Issue 20's isolation check within make test (the clone cluster on pg4 is the master's
    second cluster): an orchestration without `cluster` is refused naming both; pgha.config
    of one cluster runs states on none of the other's minions, restarts none of its
    PostgreSQL servers and leaves its rows alone."""
    from pghalab.standby import minions_in, snapshot  # pylint: disable=import-outside-toplevel
    refused = run_orch(lab, "pgha.config")
    assert refused["rc"] != 0
    assert "this master knows several clusters (clone, lab)" in refused["stdout"] + refused["stderr"]
    before = snapshot(lab, CLUSTER, "pg_class")
    result = run_orch(lab, "pgha.config", {"cluster": "clone"})
    assert_orch_ok(result)
    assert not minions_in(result, set(CLUSTER))
    assert snapshot(lab, CLUSTER, "pg_class") == before
    clone_before = snapshot(lab, ["pg4"], "clone_check")
    result = run_orch(lab, "pgha.config", {"cluster": "lab"})
    assert_orch_ok(result)
    assert "pg4" not in minions_in(result, {"pg4"})
    assert snapshot(lab, ["pg4"], "clone_check") == clone_before


def test_point_in_time_restore(lab, deployed):
    """Rows, a full backup, more rows, a timestamp, more rows: pgha.restore to the timestamp
    leaves exactly the rows before it on the primary and on every replica, all on the new
    timeline, with WAL archiving paused; highstate keeps it paused; pgha.config resumes it."""
    assert_point_in_time_restore(lab, CLUSTER, backup_from=leader_name(lab))


def _active(lab, name, unit):
    return lab.node(name).exec(["systemctl", "is-active", unit], capture=True, check=False).stdout.strip()


def test_remove_the_cluster_behind_its_pin(lab, deployed):
    """pgha.remove: refused without confirm_remove (nothing changes); with it, what the flags
    name goes and nothing else: data directories stay unless remove_data, and the clone
    cluster on pg4 keeps serving."""
    result = run_orch(lab, "pgha.remove", {"cluster": "lab", "remove_postgres": True})
    assert result["rc"] != 0
    assert "confirm with pillar='{\"confirm_remove\": \"lab\"" in result["stdout"] + result["stderr"]
    assert all(_active(lab, name, "patroni") == "active" for name in CLUSTER)

    assert_orch_ok(run_orch(lab, "pgha.remove", {"cluster": "lab", "confirm_remove": "lab",
                                                 "remove_postgres": True, "remove_etcd": True,
                                                 "remove_stanza": True}))
    for name in CLUSTER:
        assert [_active(lab, name, unit) for unit in ("patroni", "etcd", "vip-manager")] == [
            "inactive", "inactive", "inactive"], name
        assert lab.node(name).exec(["test", "-f", f"{data_dir(lab)}/PG_VERSION"],
                                   check=False).returncode == 0, f"{name} lost its data directory"
        assert lab.node(name).exec(["test", "-e", "/etc/patroni/config.yml"], check=False).returncode != 0
        # the backup timers go with the cluster: stopped, disabled, their units deleted (issue 23)
        timers = lab.node(name).exec(["systemctl", "list-timers", "--all", "--no-legend", "pgha-*"],
                                     capture=True, check=False).stdout
        assert "pgha-" not in timers, (name, timers)
        assert lab.node(name).exec(["sh", "-c", "ls /etc/systemd/system/pgha-pgbackrest-* "
                                    "/etc/systemd/system/pgha-wal-g-* 2>/dev/null"],
                                   capture=True, check=False).stdout.strip() == "", name
    info = salt_json(lab, "pg4", "pgha_pgbackrest.info", "stanza=lab")["pg4"]
    assert info["status"]["code"] == 1, info              # the stanza and its backups are gone
    assert query(lab, lab.node("pg4").address, "SELECT count(*) FROM clone_check") == [(500,)]
    assert _active(lab, "pg4", "patroni") == "active"

    assert_orch_ok(run_orch(lab, "pgha.remove", {"cluster": "lab", "confirm_remove": "lab",
                                                 "remove_postgres": True, "remove_etcd": True,
                                                 "remove_data": True}))
    for name in CLUSTER:
        assert lab.node(name).exec(["test", "-e", data_dir(lab)], check=False).returncode != 0
        assert lab.node(name).exec(["test", "-e", "/var/lib/etcd/pgha"], check=False).returncode != 0
