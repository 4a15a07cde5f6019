"""A standby cluster restored from its main cluster's pgBackRest repository host (scenario
`standby-repo`, h10-drrepo; Debian 13 by default): the main cluster "lab" (pg1-pg3, VIP .100)
backs up to repo1; its standby_clusters entry for "dr" opts in (pgbackrest: true), so repo1
trusts dr's database nodes. dr (dr1, dr2, VIP .101) restores its standby leader from lab's
latest backup (create_replica_methods [pgbackrest, basebackup]), then streams from lab's VIP.
A highstate of either cluster then changes nothing, and the standby writes nothing into lab's
repository.

The tests run in order and build on each other (one lab).
"""
import pytest

from pghalab import standby as sb
from pghalab.cluster import run_orch, salt_json, wait_for
from pghalab.writer import Writer

from .helpers import assert_orch_ok

SCENARIO = "standby-repo"
REPO = "repo1"
MAIN_ALL = sb.MAIN_NODES + (REPO,)
ALL = MAIN_ALL + sb.STANDBY_NODES
# pgBackRest's log of a restore on a database node: <stanza>-restore.log (lab's stanza)
RESTORE_LOG = "/var/log/pgbackrest/lab-restore.log"
pytestmark = pytest.mark.extended


@pytest.fixture(scope="module")
def both(lab):
    """lab deployed with a full backup in repo1; dr's keys published, lab's pgha.config (repo1
    trusts them), then dr deployed: the documented order (docs/standby-clusters.md)."""
    main, main_seconds = sb.deploy(lab, sb.MAIN)
    backup = salt_json(lab, REPO, "pgha_pgbackrest.backup", "type=full", timeout=900).get(REPO)
    prepared = run_orch(lab, "pgha.prepare", {"cluster": sb.STANDBY})
    keys = salt_json(lab, ",".join(sb.STANDBY_NODES), "state.apply", "pgha.pgbackrest.ssh_keys", tgt_type="list")
    config = run_orch(lab, "pgha.config", {"cluster": sb.MAIN})
    dr, dr_seconds = sb.deploy(lab, sb.STANDBY)
    print(f"\nFIGURE standby_repo_deploy_main_seconds={main_seconds:.1f} "
          f"standby_repo_deploy_dr_seconds={dr_seconds:.1f}")
    return {"main": main, "backup": backup, "prepared": prepared, "keys": keys, "config": config, "dr": dr}


def test_both_deploy_each_touching_only_its_own_minions(lab, both):
    assert_orch_ok(both["main"])
    assert isinstance(both["backup"], dict) and both["backup"].get("type") == "full", both["backup"]
    assert_orch_ok(both["prepared"])
    assert set(both["keys"]) == set(sb.STANDBY_NODES), both["keys"]
    failed = {f"{m}:{sid}": st.get("comment") for m, states in both["keys"].items()
              for sid, st in states.items() if st.get("result") is not True}
    assert not failed, failed
    assert_orch_ok(both["config"])
    assert_orch_ok(both["dr"])
    assert sb.minions_in(both["main"], ALL) <= set(MAIN_ALL)
    assert sb.minions_in(both["config"], ALL) <= set(MAIN_ALL)
    assert sb.minions_in(both["dr"], ALL) <= set(sb.STANDBY_NODES)


def test_repository_host_trusts_the_standby_nodes(lab, both):
    keys = salt_json(lab, REPO, "ssh.auth_keys", "user=pgbackrest")[REPO]
    comments = {entry.get("comment") for entry in keys.values()}
    for node in sb.STANDBY_NODES:
        assert f"postgres@{node}" in comments, comments
    for key, entry in keys.items():
        if str(entry.get("comment", "")).endswith(sb.STANDBY_NODES):
            assert "no-pty" in (entry.get("options") or []), (key, entry)


def test_standby_leader_was_restored_by_pgbackrest(lab, both):
    """pgBackRest's restore log on dr's leader (lab's stanza, a standby restore), and Patroni
    never fell back to basebackup there."""
    leader = sb.standby_leader(lab)
    assert leader in sb.STANDBY_NODES
    log = salt_json(lab, leader, "file.read", RESTORE_LOG)[leader]
    assert isinstance(log, str) and "restore command begin" in log, log
    assert "--type=standby" in log and "--stanza=lab" in log, log[-2000:]
    assert "restore command end: completed successfully" in log, log[-2000:]


def test_standby_streams_from_the_main_cluster_afterwards(lab, both):
    with Writer(lab, sb.MAIN_VIP, name="repo_follow") as writer:
        wait_for(lambda: len(writer.acked) >= 30, timeout=60, what="30 acknowledged rows")
    acked = {row for row, _ in writer.acked}
    for node in sb.STANDBY_NODES:
        wait_for(lambda n=node: not acked - writer.present(lab.node(n).address), timeout=90,
                 what=f"every acknowledged row on {node}")
    leader = sb.standby_leader(lab)
    assert sb.receiver(lab, leader)["status"] == "streaming"
    assert sb.in_recovery(lab, sb.STANDBY_VIP) is True


def test_standby_writes_nothing_into_the_main_repository(lab, both):
    """Only lab's stanza in repo1; dr's nodes schedule no backup."""
    stanzas = salt_json(lab, REPO, "file.readdir", "/var/lib/pgbackrest/backup")[REPO]
    assert set(stanzas) - {".", ".."} == {"lab"}, stanzas
    for node in sb.STANDBY_NODES:
        for kind in ("full", "diff"):
            path = f"/etc/systemd/system/pgha-pgbackrest-{kind}.timer"
            assert salt_json(lab, node, "file.file_exists", path)[node] is False, (node, path)


def test_highstate_changes_nothing_on_either_cluster(lab, both):
    returns, changed, failed = sb.highstate(lab, ALL)
    assert set(returns) == set(ALL)
    assert not failed and not changed, (failed, changed)
