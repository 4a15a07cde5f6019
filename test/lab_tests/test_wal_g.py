"""WAL-G on a real Type B cluster (scenario `wal-g`: file storage on a directory all nodes
share): pgha.deploy installs the binary from pillar and archives WAL through Patroni's
archive_command; a backup from the timer's service on the primary only, none from a replica;
a replica rebuilt from WAL-G's latest backup (create_replica_methods: wal_g).

WAL-G is not packaged for Debian and this lab is offline, so these tests skip unless
PGHA_WAL_G_URL (a URL the lab nodes can reach, e.g. file:///srv/pgha-repo/wal-g after copying
the release's binary into the package repository) and PGHA_WAL_G_SHA256 (its hex digest) are
set. No stand-in binary is used: the rendered configuration is covered by test/render.
"""
import json
import os

import pytest

from pghalab.cluster import leader_name, query, salt_json, wait_for

from .helpers import assert_orch_ok, assert_replica_rebuilt_with

SCENARIO = "wal-g"
WAL_G = "/usr/local/bin/wal-g --config /var/lib/postgresql/.walg.json"

pytestmark = pytest.mark.skipif(
    not (os.environ.get("PGHA_WAL_G_URL") and os.environ.get("PGHA_WAL_G_SHA256")),
    reason="the wal-g binary is not packaged for Debian and cannot be downloaded in this offline "
           "lab: set PGHA_WAL_G_URL and PGHA_WAL_G_SHA256 to a binary the lab nodes can reach")


def _wal_g(lab, node, *args):
    """wal-g as the postgres user, with the configuration file pgha wrote."""
    return lab.node(node).exec(["runuser", "-u", "postgres", "--", *WAL_G.split(), *args],
                               capture=True).stdout


def _backups(lab, node):
    return json.loads(_wal_g(lab, node, "backup-list", "--json") or "[]")


def test_deploy_archives_through_wal_g(lab, deployed):
    assert_orch_ok(deployed["result"])
    leader = leader_name(lab)
    config = salt_json(lab, leader, "pgha_patroni.show_config")[leader]
    assert config["postgresql"]["parameters"]["archive_command"] == f"{WAL_G} wal-push %p"
    assert query(lab, lab.node(leader).address, "SHOW archive_mode") == [("on",)]
    for node in lab.nodes():
        conf = node.exec(["stat", "-c", "%a %U", "/var/lib/postgresql/.walg.json"],
                         capture=True).stdout.split()
        assert conf == ["600", "postgres"], node.name
        assert "wal-g" in node.exec(["/usr/local/bin/wal-g", "--version"], capture=True).stdout
    # a finished segment reaches the archive, none fails
    query(lab, lab.node(leader).address, "SELECT pg_switch_wal()")
    wait_for(lambda: query(lab, lab.node(leader).address,
                           "SELECT archived_count > 0 AND failed_count = 0 FROM pg_stat_archiver")[0][0],
             timeout=60, what="a WAL segment archived by wal-g wal-push")


def test_scheduled_backup_runs_on_the_primary_only(lab, deployed):
    leader = leader_name(lab)
    for node in lab.nodes():
        active = node.exec(["systemctl", "is-active", "pgha-wal-g-backup.timer"],
                           capture=True).stdout.split()
        assert active == ["active"], (node.name, active)
    replica = sorted(n.name for n in lab.nodes() if n.name != leader)[0]
    lab.node(replica).exec(["systemctl", "start", "pgha-wal-g-backup.service"])
    assert _backups(lab, leader) == []
    lab.node(leader).exec(["systemctl", "start", "pgha-wal-g-backup.service"])
    # the same storage seen from a replica (shared)
    assert len(_backups(lab, replica)) == 1


def test_replica_rebuilt_from_wal_g(lab, deployed):
    leader = leader_name(lab)
    if not _backups(lab, leader):
        lab.node(leader).exec(["systemctl", "start", "pgha-wal-g-backup.service"])
    assert_replica_rebuilt_with(lab, "wal_g", "wal_g_check")
