"""PostgreSQL major upgrade 17 -> 18 (issue 19, scenario upgrade: Type B with PgBouncer;
test_upgrade_typea.py runs the same tests on Type A). Debian 13 only: PostgreSQL 18 comes from
forky's source built for Debian 13 by pghalab.backport (a second offline repository the
pillar names in pgha:pkg_repos). In order:

1. deploy on 17, data in two databases, pg_stat_statements;
2. where the old minor stores a column option the new minor does not know (Debian 13's 17.12
   stamps pg_attver on every column; the archive's newest 18 is 18.6, older): the options
   pre-check refuses before anything stops. The lab then clears that option from the columns
   pg_dump restores (a workaround for the archive's versions, the lab's and not pgha's) so that
   the steps below can run;
3. a forced failure before the new cluster starts (a replica's rsync fails): the automatic
   rollback leaves the cluster serving on 17 with every acknowledged row;
4. pgha.upgrade to 18 with a writer through the entry point: every member runs 18, no
   acknowledged commit lost, replicas stream from the new primary; FIGURE lines with the write
   unavailability, the wall time and the bytes the replicas received against the data size;
5. a re-run and a highstate with pillar on 18 change nothing; pillar still on 17 makes the
   highstate fail naming pgha:postgresql:version; pgha.upgrade_rollback refuses with the reason.

make test-lab SCENARIO=upgrade SUITE=trixie (and SCENARIO=upgrade-typea); not in `make test`.
"""
import os
import time

import pytest

from pghalab import backport
from pghalab.lab import suite_of
from pghalab.scenarios import SCENARIOS
from pghalab.cluster import leader_name, pillar_changed, query, run_orch, salt_json, wait_for
from pghalab.writer import Writer

from .helpers import assert_orch_changed_nothing, assert_orch_ok, failures, node_has_package, steps

SCENARIO = "upgrade"
VIP = "10.213.0.100"
SUITE = suite_of(SCENARIO)
pytestmark = pytest.mark.skipif(
    not backport.available(SUITE, "postgresql-18"),
    reason="a second PostgreSQL major exists for the lab on Debian 13 only (PostgreSQL 18 built from forky's "
           "source, pghalab.backport); Debian 12 has PostgreSQL 15 alone: run with PGHA_LAB_SUITE=trixie")
DATABASES = ("appdb", "shopdb")
# The replica's side of the primary's rsync runs over ssh, where /usr/local/bin comes first in
# PATH: a failing rsync there (rsync itself is installed by pgha.upgrade, after the fault is set)
FAULT = "/usr/local/bin/rsync"


def _entry(lab):
    """Where clients write: HAProxy's port 5000 on the VIP (Type A), the VIP (Type B)."""
    return (VIP, 5000) if lab.info["scenario"] == "upgrade-typea" else (VIP, 5432)


def _majors(lab):
    return {n.name: int(query(lab, n.address, "SHOW server_version_num")[0][0]) // 10000 for n in _pg_nodes(lab)}


def _pg_nodes(lab):
    return [n for n in lab.nodes() if n.name.startswith("pg")]


def _postmaster_starts(lab):
    return {n.name: query(lab, n.address, "SELECT pg_postmaster_start_time()")[0][0] for n in _pg_nodes(lab)}


def _rows(lab, host):
    return {db: query(lab, host, "SELECT count(*) FROM upgrade_data", dbname=db)[0][0] for db in DATABASES}


def _with_writer(lab, action, figure, clear=True):
    host, port = _entry(lab)
    writer = Writer(lab, host, port=port).start()
    time.sleep(2)
    if clear:
        _clear_stamps(lab)       # the writer's table too, created just now
    try:
        started = time.monotonic()
        result = action()
        seconds = time.monotonic() - started
        time.sleep(2)
    finally:
        writer.stop()
    print(f"\nFIGURE {figure}_seconds={seconds:.1f} {figure}_write_unavailable_seconds={writer.longest_gap():.2f} "
          f"writes={len(writer.acked)} write_errors={len(writer.errors)} scenario={lab.info['scenario']}")
    return result, writer


def _assert_no_write_lost(lab, writer):
    assert len(writer.acked) > 50, (len(writer.acked), writer.last_error)
    for node in _pg_nodes(lab):
        wait_for(lambda n=node: writer.missing(n.address) == [], timeout=60,
                 what=f"every acknowledged write on {node.name}")


def _assert_streaming(lab):
    leader = lab.node(leader_name(lab))
    wait_for(lambda: sorted(r[0] for r in query(lab, leader.address, "SELECT application_name FROM pg_stat_replication "
                                                                     "WHERE state = 'streaming'"))
             == sorted(n.name for n in _pg_nodes(lab) if n.name != leader.name), timeout=120,
             what="every replica streaming from the new primary")


def test_deploy_on_17_with_data(lab, deployed):
    assert_orch_ok(deployed["result"])
    assert set(_majors(lab).values()) == {17}
    leader = lab.node(leader_name(lab)).address
    for db in DATABASES:
        query(lab, leader, "CREATE TABLE IF NOT EXISTS upgrade_data (id bigserial PRIMARY KEY, v text)", dbname=db)
        query(lab, leader, "INSERT INTO upgrade_data (v) SELECT md5(g::text) FROM generate_series(1, 20000) g",
              dbname=db)
    query(lab, leader, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", dbname="appdb")


def test_pre_checks_alone_change_nothing(lab, deployed):
    res = lab.master.cli("salt-run", "pgha.upgrade_check", "cluster=lab", "to=18", "--out=json",
                         capture_output=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:]
    assert not any(node_has_package(n, "postgresql-18") for n in _pg_nodes(lab))


# the options the old minor stamps and the new one refuses, per database, outside the catalogs
STAMPED = ("SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
           "WHERE a.attoptions::text LIKE '%pg_attver=%' AND a.attnum > 0 AND "
           "c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema', 'pg_toast')")
CLEAR = backport.CLEAR_PG_ATTVER


def _stamped(lab):
    leader = leader_name_address(lab)
    return sum(query(lab, leader, STAMPED, dbname=db)[0][0] for db in DATABASES + ("postgres",))


def _clear_stamps(lab):
    """The lab's workaround (not pgha's): clear pg_attver from the columns pg_dump restores, on
    the primary (the replicas replay it), before each upgrade: columns created since carry it."""
    leader = leader_name_address(lab)
    for db in DATABASES + ("postgres",):
        query(lab, leader, CLEAR, dbname=db)
    assert _stamped(lab) == 0


def test_an_option_the_new_minor_does_not_know_is_refused_before_anything_stops(lab, deployed):
    if not _stamped(lab):
        pytest.skip("the old minor stamps no pg_attver: nothing for the options check to refuse")
    starts = _postmaster_starts(lab)
    result, writer = _with_writer(lab, lambda: run_orch(lab, "pgha.upgrade", {"to": 18}, timeout=3600),
                                  "upgrade_refused_options", clear=False)
    assert result["rc"] != 0
    refused = [f for f in failures(result) if "pre-check options failed" in f]
    assert refused and "pg_attver" in refused[0], failures(result)
    print("\n" + refused[0][:600])
    assert _postmaster_starts(lab) == starts          # nothing stopped
    assert set(_majors(lab).values()) == {17}
    assert not any(node_has_package(n, "postgresql-18") for n in _pg_nodes(lab))
    _assert_no_write_lost(lab, writer)
    _clear_stamps(lab)


def test_a_failed_rsync_rolls_back_to_17(lab, deployed):
    """A replica's rsync fails (an rsync ahead of the real one in its PATH exits 12): the steps
    before the start roll back by themselves; the cluster serves on 17 with its data."""
    replica = next(n for n in _pg_nodes(lab) if n.name != leader_name(lab))
    replica.exec(["sh", "-c", f"printf '#!/bin/sh\\nexit 12\\n' > {FAULT} && chmod 755 {FAULT}"])
    leader = lab.node(leader_name(lab)).address
    before = _rows(lab, leader)
    try:
        result, writer = _with_writer(lab, lambda: run_orch(lab, "pgha.upgrade", {"to": 18}, timeout=3600),
                                      "upgrade_rolled_back")
    finally:
        replica.exec(["rm", "-f", FAULT])
    assert result["rc"] != 0, "the upgrade must fail"
    found = steps(result)
    # the rsync itself failed, not a step before it (a failed requisite is False too)
    assert any(f.startswith(f"pgha-upgrade-replica-{replica.name}-synced") for f in failures(result)), \
        failures(result)
    assert found["pgha-upgrade-primary-linked"]["result"] is True
    for sid in ("pgha-upgrade-rollback-files", "pgha-upgrade-rollback-primary-healthy",
                "pgha-upgrade-rollback-ssh-revoked"):
        assert found[sid]["result"] is True, (sid, found[sid].get("comment"))
    assert set(_majors(lab).values()) == {17}
    _assert_streaming(lab)
    _assert_no_write_lost(lab, writer)
    assert _rows(lab, lab.node(leader_name(lab)).address) == before
    assert not any(node_has_package(n, "postgresql-18") for n in _pg_nodes(lab))
    records = salt_json(lab, "pg*", "pgha_upgrade.record")
    assert {r.get("stage") for r in records.values()} == {"rolled_back"}, records


def test_upgrade_to_18_loses_no_commit(lab, deployed):
    leader = lab.node(leader_name(lab)).address
    before = _rows(lab, leader)
    size = sum(int(query(lab, leader, "SELECT pg_database_size(%s)", (db,))[0][0]) for db in DATABASES + ("postgres",))
    result, writer = _with_writer(lab, lambda: run_orch(lab, "pgha.upgrade", {"to": 18}, timeout=3600), "upgrade")
    assert_orch_ok(result)
    assert set(_majors(lab).values()) == {18}, _majors(lab)
    _assert_streaming(lab)
    _assert_no_write_lost(lab, writer)
    for node in _pg_nodes(lab):
        wait_for(lambda n=node: _rows(lab, n.address) == before, timeout=60, what=f"the data on {node.name}")
    assert query(lab, leader_name_address(lab), "SELECT extversion FROM pg_extension WHERE extname = "
                                                "'pg_stat_statements'", dbname="appdb")
    sent = []
    for sid, step in steps(result).items():
        if sid.endswith("-synced") and sid.startswith("pgha-upgrade-replica-"):
            for ret in (step.get("changes", {}).get("ret") or {}).values():
                sent += [r.get("bytes_sent") or 0 for r in ret.get("rsync", [])]
    print(f"\nFIGURE upgrade_replica_bytes={max(sent or [0])} data_bytes={size} "
          f"ratio={max(sent or [0]) / size:.3f} scenario={lab.info['scenario']}")


def leader_name_address(lab):
    return lab.node(leader_name(lab)).address


def test_backups_follow_the_new_major(lab, deployed):
    """With pgBackRest on (scenario upgrade-typea): the stanza was upgraded to 18 and the
    upgrade's full backup belongs to 18's entry in the stanza's history."""
    if not SCENARIOS[lab.info["scenario"]]["pillar"]["pgha"].get("pgbackrest", {}).get("enabled"):
        pytest.skip(f"scenario {lab.info['scenario']} runs without pgBackRest (upgrade-typea has it)")
    leader = leader_name(lab)
    info = salt_json(lab, leader, "pgha_pgbackrest.info")[leader]
    history = {entry["id"]: str(entry["version"]) for entry in info["db"]}
    assert sorted(history.values()) == ["17", "18"], info["db"]
    latest = info["backup"][-1]
    assert history[latest["database"]["id"]] == "18" and latest["type"] == "full", latest
    print(f"\nFIGURE upgrade_backup_after={latest['label']} stanza_history={sorted(history.items())}")


def test_rerun_and_highstate_with_pillar_on_18_change_nothing(lab, deployed):
    def to_18(pillar):
        pillar["pgha"]["postgresql"]["version"] = 18

    with pillar_changed(lab, to_18):
        assert_orch_changed_nothing(run_orch(lab, "pgha.upgrade", {"to": 18}))
        res = lab.master.cli("salt", "-C", "I@pgha:cluster_name:lab", "state.highstate", "--out=json", "--static",
                             capture_output=True, timeout=900)
        assert res.returncode == 0, res.stdout[-3000:]
        assert '"changes": {}' in res.stdout and '"result": false' not in res.stdout
        assert set(_majors(lab).values()) == {18}


def test_highstate_with_pillar_on_17_fails_naming_the_key(lab, deployed):
    """pillar still names 17 (the suite's default): the highstate stops at its first state."""
    res = lab.master.cli("salt", "pg1", "state.highstate", "--out=json", "--static",
                         capture_output=True, timeout=600)
    # the salt CLI's exit code stays 0 with --static (measured): the state's result says it
    assert '"result": false' in res.stdout and '"changes": {}' in res.stdout, res.stdout[-3000:]
    assert "pgha:postgresql:version is 17 but the cluster on this node runs PostgreSQL 18" in res.stdout
    assert set(_majors(lab).values()) == {18}


def test_rollback_is_refused_after_the_start(lab, deployed):
    result = run_orch(lab, "pgha.upgrade_rollback")
    assert result["rc"] != 0
    assert "has started: with pg_upgrade --link" in result["stdout"]
    assert set(_majors(lab).values()) == {18}
