"""pgBackRest with a dedicated repository host (scenario `backup-repo-host`: repo1 has the
role pgbackrest): Salt exchanges SSH keys through the mine, the database nodes archive WAL
to repo1 over SSH, repo1 takes the backups from the primary of the moment on its schedule,
replicas and pgha.restore restore from it.
"""
from pghalab.cluster import query, run_orch, salt_json

from .helpers import assert_orch_ok, assert_point_in_time_restore, assert_replica_rebuilt_with

SCENARIO = "backup-repo-host"
CLUSTER = ("pg1", "pg2", "pg3")


def test_deploy_creates_the_stanza_on_the_repository_host(lab, deployed):
    assert_orch_ok(deployed["result"])
    info = salt_json(lab, "repo1", "pgha_pgbackrest.info")["repo1"]
    assert info["name"] == "lab" and info["status"]["code"] in (0, 2), info
    conf = lab.node("repo1").exec(["cat", "/etc/pgbackrest/pgbackrest.conf"], capture=True).stdout
    assert "pg3-host=10.213.0.13" in conf and "repo1-path=/var/lib/pgbackrest" in conf, conf
    conf = lab.node("pg1").exec(["cat", "/etc/pgbackrest/pgbackrest.conf"], capture=True).stdout
    assert "repo1-host=10.213.0.31" in conf and "repo1-path" not in conf, conf
    # WAL reaches the repository host over SSH, checked from both sides
    assert "checked" in salt_json(lab, "repo1", "pgha_pgbackrest.check")["repo1"]
    assert "checked" in salt_json(lab, "pg2", "pgha_pgbackrest.check")["pg2"]


def test_backups_run_on_the_repository_host(lab, deployed):
    backup = salt_json(lab, "repo1", "pgha_pgbackrest.backup", "type=full", timeout=600)["repo1"]
    assert backup["type"] == "full", backup
    # a database node sees the repository through the repository host
    assert salt_json(lab, "pg3", "pgha_pgbackrest.info")["pg3"]["backup"][0]["label"] == backup["label"]
    # the schedule lives on the repository host only
    active = lab.node("repo1").exec(["systemctl", "is-active", "pgha-pgbackrest-diff.timer"],
                                    capture=True).stdout.split()
    assert active == ["active"]
    for name in CLUSTER:
        state = lab.node(name).exec(["systemctl", "is-active", "pgha-pgbackrest-diff.timer"],
                                    capture=True, check=False).stdout.split()
        assert state != ["active"], name
    lab.node("repo1").exec(["systemctl", "start", "pgha-pgbackrest-diff.service"])
    types = [b["type"] for b in salt_json(lab, "repo1", "pgha_pgbackrest.info")["repo1"]["backup"]]
    assert types == ["full", "diff"], types
    # keys: the private ones readable by their owner only
    for node, path in (("repo1", "/home/pgbackrest/.ssh/id_ed25519"),
                       ("pg1", "/var/lib/postgresql/.ssh/id_ed25519")):
        mode = lab.node(node).exec(["stat", "-c", "%a", path], capture=True).stdout.strip()
        assert mode == "600", (node, path, mode)


def test_replica_rebuilt_from_the_repository_host(lab, deployed):
    assert_replica_rebuilt_with(lab, "pgbackrest", "repo_check", CLUSTER)


def test_point_in_time_restore_from_the_repository_host(lab, deployed):
    assert_point_in_time_restore(lab, CLUSTER, backup_from="repo1")
    assert query(lab, lab.node("pg1").address, "SELECT 1") == [(1,)]


def test_added_node_trusts_and_is_trusted_by_the_repository_host(lab, deployed):
    """pgha.add_node with a repository host: the new node's key reaches repo1 before it needs
    the repository; it becomes a replica restored from there, and repo1 backs it up too."""
    lab.assign("pg4")
    assert_orch_ok(run_orch(lab, "pgha.add_node", {"cluster": "lab", "target": "pg4"}))
    log = lab.node("pg4").exec(["journalctl", "-u", "patroni", "--no-pager"], capture=True).stdout
    assert "replica has been created using pgbackrest" in log, log[-3000:]
    conf = lab.node("repo1").exec(["cat", "/etc/pgbackrest/pgbackrest.conf"], capture=True).stdout
    assert "pg4-host=10.213.0.14" in conf, conf
    assert "checked" in salt_json(lab, "pg4", "pgha_pgbackrest.check")["pg4"]
    assert "checked" in salt_json(lab, "repo1", "pgha_pgbackrest.check")["repo1"]
