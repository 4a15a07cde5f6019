"""
pgha.upgrade's decisions (_utils/pgha_upgrade.py, issue 19): every pre-check's refusal names
its check and what to do, the new major's paths and the replicas' rsync, the parameters
renamed or removed between majors, the plan of steps for Type A and Type B, when a rollback is
still possible, and the highstate's version gate.
"""
import copy

import pytest

import pgha_upgrade as up

GOOD = {
    "to": "18", "primary_name": "pg1",
    "nodes": {n: {"pg_version": "17", "package": "postgresql-18", "candidate": "18.1-1", "data_dir":
                  "/var/lib/postgresql/17/main", "free_bytes": 10 * 2**30, "catalog_bytes": 40 * 2**20}
              for n in ("pg1", "pg2", "pg3")},
    "primary": {"replication": [{"application_name": "pg2", "state": "streaming", "lag_bytes": 0},
                                {"application_name": "pg3", "state": "streaming", "lag_bytes": 128}],
                "long_transactions": [], "prepared": [],
                "extensions": [{"db": "app", "name": "pg_stat_statements", "version": "1.11"},
                               {"db": "app", "name": "plpgsql", "version": "1.0"}]},
}
SETTINGS = {"max_lag_bytes": 10485760, "max_transaction_sec": 15, "extension_source": "debian", "extensions": []}


def facts(change):
    found = copy.deepcopy(GOOD)
    change(found)
    return found


def checks(found, settings=SETTINGS):
    return up.pre_check_problems(found, settings)


def test_a_healthy_cluster_passes_every_pre_check():
    assert checks(GOOD) == []


REFUSALS = [
    ("version-not-a-major", lambda f: f.update(to="eighteen"), "version"),
    ("version-same", lambda f: f.update(to="17"), "version"),
    ("version-older", lambda f: f.update(to="16"), "version"),
    ("members-silent", lambda f: f["nodes"].update(pg3={}), "members"),
    ("members-mixed-majors", lambda f: f["nodes"]["pg3"].update(pg_version="16"), "members"),
    ("packages-missing", lambda f: f["nodes"]["pg2"].update(candidate=""), "packages"),
    ("extension-package-missing", lambda f: f["nodes"]["pg3"].update(missing_packages=["postgresql-18-postgis-3"]),
     "packages"),
    ("disk-full", lambda f: f["nodes"]["pg1"].update(free_bytes=2**20), "disk"),
    ("replica-not-streaming", lambda f: f["primary"]["replication"][0].update(state="catchup"), "replication"),
    ("replica-absent", lambda f: f["primary"]["replication"].pop(1), "replication"),
    ("lag", lambda f: f["primary"]["replication"][1].update(lag_bytes=2**30), "lag"),
    ("long-transaction", lambda f: f["primary"]["long_transactions"].append(
        {"pid": 42, "datname": "app", "seconds": 99}), "transactions"),
    ("prepared", lambda f: f["primary"]["prepared"].append("tx1"), "prepared"),
    ("extension-without-package", lambda f: f["primary"]["extensions"].append(
        {"db": "app", "name": "acme_magic", "version": "1"}), "extensions"),
    ("standby-cluster", lambda f: f["primary"]["replication"].append(
        {"application_name": "dr1", "state": "streaming", "lag_bytes": 0}), "standby_clusters"),
]


@pytest.mark.parametrize("change,check", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_each_pre_check_refuses_naming_the_check_and_what_to_do(change, check):
    problems = checks(facts(change))
    mine = [p for p in problems if p.startswith(f"pgha.upgrade pre-check {check} failed")]
    assert mine, problems
    assert all(up.CHECKS[check] in p for p in mine)


def test_every_pre_check_is_reported_at_once():
    def many(f):
        f["nodes"]["pg1"]["free_bytes"] = 1
        f["primary"]["prepared"].append("tx1")
        f["primary"]["replication"][1]["lag_bytes"] = 2**30
    found = {p.split(" failed")[0].rsplit(" ", 1)[-1] for p in checks(facts(many))}
    assert found == {"disk", "prepared", "lag"}


def test_an_extension_with_a_package_named_in_pillar_passes():
    found = facts(lambda f: f["primary"]["extensions"].append({"db": "app", "name": "acme_magic", "version": "1"}))
    settings = dict(SETTINGS, extensions=[{"name": "acme_magic", "package": "postgresql-{version}-acme"}])
    assert checks(found, settings) == []
    # pgha_extensions knows postgis' package
    assert checks(facts(lambda f: f["primary"]["extensions"].append({"db": "gis", "name": "postgis"}))) == []


def test_unavailable_major_is_refused_when_the_sources_are_known():
    assert up.version_problems("17", "18", [17]) and not up.version_problems("17", "18", [17, 18])
    assert up.version_problems("17", 18, []) == []          # unknown: the packages check decides
    assert "upgrades from 13 on" in up.version_problems("12", "18")[0]


# -- paths, rsync, parameters --------------------------------------------------------------------

def test_new_paths_swap_the_major_and_name_the_rsync_parents():
    paths, problems = up.new_paths("17", "18", "/var/lib/postgresql/17/main", "", "/usr/lib/postgresql/17/bin")
    assert problems == []
    assert paths["new"] == {"data_dir": "/var/lib/postgresql/18/main", "wal_dir": "",
                            "bin_dir": "/usr/lib/postgresql/18/bin"}
    # the old cluster's WAL stays out of the replicas' rsync
    assert paths["rsync"] == [{"parent": "/var/lib/postgresql", "old": "/var/lib/postgresql/17",
                               "new": "/var/lib/postgresql/18", "exclude": ["/17/main/pg_wal/*"]}]
    paths, problems = up.new_paths("17", "18", "/data/17/main", "/wal/pg17/17", "")
    assert paths["new"]["wal_dir"] == "/wal/pg17/18" and problems == []
    assert paths["rsync"][0] == {"parent": "/data", "old": "/data/17", "new": "/data/18"}
    assert paths["rsync"][1] == {"parent": "/wal/pg17", "old": "/wal/pg17/17", "new": "/wal/pg17/18",
                                 "exclude": ["/17/*"]}
    # data and WAL below one top: one rsync
    paths, _ = up.new_paths("17", "18", "/srv/17/main", "/srv/17/wal", "")
    assert paths["rsync"] == [{"parent": "/srv", "old": "/srv/17", "new": "/srv/18", "exclude": ["/17/wal/*"]}]


def test_a_path_without_the_major_is_refused_naming_its_key():
    _paths, problems = up.new_paths("17", "18", "/data/pgdata", "", "")
    assert problems and problems[0].startswith("pgha.upgrade pre-check paths failed")
    assert "pgha:postgresql:data_dir /data/pgdata" in problems[0]


def test_rsync_is_the_documented_command_with_relative_directories():
    top = {"parent": "/var/lib/postgresql", "old": "/var/lib/postgresql/17", "new": "/var/lib/postgresql/18"}
    assert up.rsync_argv(top, "10.0.0.12") == [
        "rsync", "--archive", "--delete", "--hard-links", "--size-only", "--no-inc-recursive", "17", "18",
        "10.0.0.12:/var/lib/postgresql"]
    assert up.rsync_argv(dict(top, exclude=["/17/main/pg_wal/*"]), "10.0.0.12")[6:] == [
        "--exclude=/17/main/pg_wal/*", "17", "18", "10.0.0.12:/var/lib/postgresql"]


def test_parameters_renamed_and_removed_between_majors():
    params, notes = up.parameters({"force_parallel_mode": "on", "stats_temp_directory": "/run/x",
                                   "work_mem": "8MB", "old_snapshot_threshold": "-1"}, 14, 18)
    assert params == {"debug_parallel_query": "on", "work_mem": "8MB"}
    assert len(notes) == 3
    assert up.parameters({"force_parallel_mode": "on"}, 16, 17)[0] == {"force_parallel_mode": "on"}


def test_pillar_parameters_the_new_major_refuses():
    problems = up.pillar_parameter_problems({"old_snapshot_threshold": -1, "work_mem": "4MB"}, 18)
    assert len(problems) == 1 and "pgha:postgresql:parameters:old_snapshot_threshold" in problems[0]
    assert problems[0].startswith("pgha.upgrade pre-check parameters failed")
    assert up.pillar_parameter_problems({"old_snapshot_threshold": -1}, 16) == []


def test_new_packages_swap_the_major():
    assert up.new_packages(["postgresql-17", "postgresql-client-17"], ["postgresql-17-postgis-3"], "17", "18") == [
        "postgresql-18", "postgresql-client-18", "postgresql-18-postgis-3"]
    assert up.new_packages(["postgresql16-server"], [], 16, 17) == ["postgresql17-server"]


def test_statistics_from_18_only_what_pg_upgrade_did_not_keep():
    assert up.statistics_argv("/usr/lib/postgresql/17/bin", "17") == [
        ["/usr/lib/postgresql/17/bin/vacuumdb", "--all", "--analyze-in-stages"]]
    kept = up.statistics_argv("/usr/lib/postgresql/18/bin", 18, jobs=4)
    assert all("--missing-stats-only" in argv and "--jobs=4" in argv for argv in kept)


# -- the plan --------------------------------------------------------------------------------------

def names(steps):
    return [s["step"] for s in steps]


def test_plan_type_b_without_pgbouncer():
    steps = up.plan_steps("pg1", ["pg2", "pg3"])
    assert names(steps) == [
        "pre_checks", "packages_installed", "initdb", "upgrade_checked", "ssh_trusted", "patroni_paused",
        "primary_stopped", "replicas_stopped", "checkpoints_compared", "primary_linked", "replica_synced",
        "replica_synced", "patroni_configured", "dcs_reset", "primary_started", "replica_started",
        "replica_started", "entry_point_ready", "ssh_revoked", "statistics", "extensions_updated"]
    # the rollback boundary: everything from the trust to the DCS reset rolls back, nothing after the start
    assert [s["step"] for s in steps if s["rollback"]][-1] == "dcs_reset"
    assert not any(s["rollback"] for s in steps[names(steps).index("primary_started"):])
    assert [s["nodes"] for s in steps if s["step"] == "replica_synced"] == [["pg2"], ["pg3"]]


def test_plan_type_a_with_pgbouncer_and_pgbackrest():
    steps = names(up.plan_steps("pg2", ["pg1"], type_a=True, pgbouncer=True, pgbackrest=True,
                                remove_old_packages=True))
    assert steps.index("pgbouncer_paused") < steps.index("primary_stopped")
    assert steps.index("replica_started") < steps.index("pgbouncer_resumed") < steps.index("balancers_ready")
    assert steps[-2:] == ["stanza_upgraded", "old_removed"]


# -- rollback and highstate --------------------------------------------------------------------

def test_rollback_is_possible_until_the_new_cluster_starts():
    assert up.rollback_decision({"from": "17", "to": "18", "stage": "linked", "started": False})[0] is True
    possible, reason = up.rollback_decision({"from": "17", "to": "18", "stage": "started", "started": True})
    assert possible is False and "--link" in reason and "cannot start again" in reason
    assert up.rollback_decision({})[0] is False
    assert up.rollback_decision({"stage": "rolled_back", "to": "18"})[0] is False


def test_version_gate():
    assert up.version_gate(18, "18") is None
    assert up.version_gate(18, None) is None                          # no cluster here yet
    old = up.version_gate(17, "18")
    assert old.startswith("pgha:postgresql:version is 17") and "never downgrades" in old
    assert "pgha.upgrade" in up.version_gate(18, "17")
    busy = up.version_gate(17, "17", {"from": "17", "to": "18", "stage": "linked"})
    assert busy.startswith("pgha:postgresql:version: an upgrade from 17 to 18 is in progress")
    assert up.version_gate(18, "18", {"from": "17", "to": "18", "stage": "finished"}) is None
