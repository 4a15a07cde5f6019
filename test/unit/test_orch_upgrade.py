"""
pgha.upgrade and pgha.upgrade_rollback (issue 19) on the master: the runner's plan and its
refusals, the pre-checks runner, the checkpoint comparison, and the orchestrations' steps as
the master renders them (the automatic rollback only on a failure before the first start).
"""
import copy
from unittest.mock import patch

import pgha_runner
import pytest
from test_orch_render import OnlyPillar, WithPlan, assert_exact_targets, render, steps
from test_runner_pgha import Master, configure_loader_modules, minion, runner_log, three  # noqa: F401

UPGRADING = {"pgha_patroni.leader": {"pg1": "pg2"}, "pgha_upgrade.running_version": {"pg2": "17"}}


def call(master, defaults, fun, **kwargs):
    with patch.dict(pgha_runner.__salt__, {"cache.pillar": lambda: copy.deepcopy(master.pillars),
                                           "mine.get": master.mine_get}), \
            patch.object(pgha_runner, "_ask", master.ask), \
            patch.object(pgha_runner, "_defaults", lambda: defaults):
        pgha_runner.__context__.pop("retcode", None)
        return getattr(pgha_runner, fun)(**kwargs)


# -- the plan --------------------------------------------------------------------------------

def test_plan_upgrade_runs_on_the_leader(defaults):
    plan = call(Master(three(), answers=UPGRADING), defaults, "plan", workflow="upgrade", to=18)
    assert plan["problems"] == []
    upgrade = plan["upgrade"]
    assert (upgrade["primary"], upgrade["replicas"], upgrade["from"], upgrade["to"]) == ("pg2", ["pg1", "pg3"], "17", "18")
    assert upgrade["override"] == {"pgha": {"postgresql": {"version": 18}}}
    assert upgrade["rollback_override"] == {"pgha": {"postgresql": {"version": 17}}}
    assert [s["step"] for s in upgrade["steps"]][:3] == ["pre_checks", "packages_installed", "initdb"]


def test_plan_upgrade_swaps_the_major_in_pillars_paths(defaults):
    pillars = three(postgresql={"data_dir": "/data/17/main", "wal_dir": "/wal/17"})
    plan = call(Master(pillars, answers=UPGRADING), defaults, "plan", workflow="upgrade", to=18)
    assert plan["upgrade"]["override"] == {"pgha": {"postgresql": {
        "version": 18, "data_dir": "/data/18/main", "wal_dir": "/wal/18"}}}


@pytest.mark.parametrize("options,answers,expected", [
    ({}, UPGRADING, "pgha.upgrade: pillar to is missing"),
    ({"to": 16}, UPGRADING, "pgha.upgrade pre-check version failed: the cluster runs PostgreSQL 17; pgha.upgrade "
                            "goes to a newer major only"),
    ({"to": 18}, {"pgha_patroni.leader": {"pg1": None}}, "pgha.upgrade refused: cluster main has no running leader"),
])
def test_plan_upgrade_refusals(defaults, options, answers, expected):
    plan = call(Master(three(), answers=answers), defaults, "plan", workflow="upgrade", **options)
    assert plan["retcode"] == 1 and plan["problems"][0].startswith(expected), plan["problems"]


def test_plan_upgrade_refuses_a_parameter_the_new_major_removed(defaults):
    pillars = three(postgresql={"parameters": {"old_snapshot_threshold": -1}})
    plan = call(Master(pillars, answers=UPGRADING), defaults, "plan", workflow="upgrade", to=18)
    assert "pgha:postgresql:parameters:old_snapshot_threshold" in plan["problems"][0]


def test_a_rerun_after_the_upgrade_is_a_no_op(defaults):
    answers = dict(UPGRADING, **{"pgha_upgrade.running_version": {"pg2": "18"}})
    plan = call(Master(three(), answers=answers), defaults, "plan", workflow="upgrade", to=18)
    assert plan["problems"] == [] and plan["upgrade"]["done"] is True
    found = steps(render("pgha/steps/upgrade.sls", WithPlan({"to": 18}, Master(three(), answers=answers), defaults)))
    assert list(found) == ["pgha-upgrade-done"] and found["pgha-upgrade-done"][0] == "test.succeed_without_changes"


def test_rollback_refused_once_the_new_cluster_started(defaults):
    records = {"pg1": {"from": "17", "to": "18", "stage": "started", "started": True, "primary": True},
               "pg2": {"from": "17", "to": "18", "stage": "started", "started": True}, "pg3": {}}
    plan = call(Master(three(), answers={"pgha_upgrade.record": records}), defaults, "plan",
                workflow="upgrade_rollback")
    assert plan["retcode"] == 1
    assert plan["problems"][0].startswith("pgha.upgrade_rollback refused on pg1: the new cluster (PostgreSQL 18) "
                                          "has started: with pg_upgrade --link")


def test_rollback_plan_before_the_start(defaults):
    records = {"pg1": {"from": "17", "to": "18", "stage": "synced"},
               "pg2": {"from": "17", "to": "18", "stage": "linked", "primary": True}, "pg3": {}}
    plan = call(Master(three(), answers={"pgha_upgrade.record": records}), defaults, "plan",
                workflow="upgrade_rollback")
    assert plan["problems"] == []
    assert plan["upgrade"]["primary"] == "pg2" and plan["upgrade"]["rollback_override"] == {
        "pgha": {"postgresql": {"version": 17}}}
    nothing = call(Master(three(), answers={"pgha_upgrade.record": {n: {} for n in ("pg1", "pg2", "pg3")}}),
                   defaults, "plan", workflow="upgrade_rollback")
    assert "no upgrade is in progress" in nothing["problems"][0]


# -- the pre-checks and the checkpoints ----------------------------------------------------------

def node_facts(major="17"):
    return {"pg_version": major, "package": "postgresql-18", "candidate": "18.1-1",
            "data_dir": "/var/lib/postgresql/17/main", "free_bytes": 2**34, "catalog_bytes": 2**25}


def test_upgrade_check_collects_facts_and_judges(defaults):
    answers = dict(UPGRADING, **{
        "pgha_upgrade.facts": {n: node_facts() for n in ("pg1", "pg2", "pg3")},
        "pgha_upgrade.primary_facts": {"pg2": {
            "replication": [{"application_name": "pg1", "state": "streaming", "lag_bytes": 0}],
            "long_transactions": [], "prepared": ["tx"], "extensions": []}}})
    found = call(Master(three(), answers=answers), defaults, "upgrade_check", cluster="main", to=18)
    assert found["retcode"] == 1
    assert [p.split(":")[0] for p in found["problems"]] == [
        "pgha.upgrade pre-check replication failed on pg3", "pgha.upgrade pre-check prepared failed on pg2"]


def test_checkpoints_must_match(defaults):
    same = {n: {"location": "0/5000028", "state": "shut down"} for n in ("pg1", "pg2")}
    assert call(Master(three(), answers={"pgha_upgrade.checkpoint": same}), defaults, "upgrade_checkpoints",
                nodes=["pg1", "pg2"])["retcode"] == 0
    differ = dict(same, pg2={"location": "0/4000028", "state": "shut down in recovery"})
    found = call(Master(three(), answers={"pgha_upgrade.checkpoint": differ}), defaults, "upgrade_checkpoints",
                 nodes=["pg1", "pg2"])
    assert found["retcode"] == 1 and "Latest checkpoint location differ" in found["problems"][0]


# -- the orchestrations ----------------------------------------------------------------------

@pytest.mark.parametrize("workflow", ["upgrade", "upgrade_rollback"])
def test_stage_one(workflow):
    found = steps(render(f"pgha/{workflow}.sls", OnlyPillar({"cluster": "main", "to": 18})))
    assert found[f"pgha-{workflow}-steps"][1]["pillar"] == {"cluster": "main", "to": 18}


def test_upgrade_steps_type_b(defaults):
    found = steps(render("pgha/steps/upgrade.sls", WithPlan({"cluster": "main", "to": 18},
                                                           Master(three(), answers=UPGRADING), defaults)))
    assert_exact_targets(found)
    order = list(found)
    assert order[:4] == ["pgha-upgrade-pre-checked", "pgha-upgrade-packages-installed", "pgha-upgrade-initialised",
                         "pgha-upgrade-checked"]
    assert order.index("pgha-upgrade-primary-stopped") < order.index("pgha-upgrade-replicas-stopped") \
        < order.index("pgha-upgrade-checkpoints-compared") < order.index("pgha-upgrade-primary-linked")
    assert found["pgha-upgrade-replicas-stopped"][1]["tgt"] == "pg1,pg3"
    assert found["pgha-upgrade-replica-pg1-synced"][1]["kwarg"] == {"to": "18", "host": "10.0.0.1"}
    assert found["pgha-upgrade-replica-pg3-synced"][1]["require"] == [{"salt": "pgha-upgrade-replica-pg1-synced"}]
    assert found["pgha-upgrade-configured"][1]["pillar"] == {"pgha": {"postgresql": {"version": 18}},
                                                             "pgha_upgrade": {"to": "18"}}
    assert found["pgha-upgrade-primary-started"][1]["pillar"]["pgha_gate"] == {"role": "leader", "timeout": 600}
    assert found["pgha-upgrade-replica-pg3-started"][1]["require"] == [{"salt": "pgha-upgrade-replica-pg1-started"}]
    assert "pgha-upgrade-pgbouncer-paused" not in found and "pgha-upgrade-stanza-upgraded" not in found
    # the automatic rollback: on a failure of any step before the start, and of none after
    onfail = {list(item.values())[0] for item in found["pgha-upgrade-rollback-files"][1]["onfail_any"]}
    assert {"pgha-upgrade-checked", "pgha-upgrade-replica-pg3-synced", "pgha-upgrade-dcs-reset"} <= onfail
    assert not onfail & {"pgha-upgrade-primary-started", "pgha-upgrade-replica-pg1-started", "pgha-upgrade-pre-checked"}
    rollback = [sid for sid in found if sid.startswith("pgha-upgrade-rollback-")]
    assert all(found[sid][1].get("onfail_any") for sid in rollback)
    assert found["pgha-upgrade-rollback-configured"][1]["pillar"]["pgha"] == {"postgresql": {"version": 17}}


def test_upgrade_steps_type_a_with_pgbouncer_and_pgbackrest(defaults):
    settings = {"with_haproxy_load_balancing": True, "cluster_vip": "10.0.0.100", "pgbackrest": {"enabled": True}}
    pillars = {**three(**settings), "lb1": minion("main", "balancer", **settings)}
    found = steps(render("pgha/steps/upgrade.sls", WithPlan({"to": 18}, Master(pillars, answers=UPGRADING), defaults)))
    assert found["pgha-upgrade-pgbouncer-paused"][1]["tgt"] == "pg2,pg1,pg3"
    assert "pgha-upgrade-balancers-ready" in found and "pgha-upgrade-rollback-pgbouncer-resumed" in found
    assert found["pgha-upgrade-full-backup"][1]["kwarg"] == {"type": "full"}


def test_upgrade_rollback_steps_run_unconditionally(defaults):
    records = {"pg1": {"from": "17", "to": "18", "stage": "linked", "primary": True}, "pg2": {}, "pg3": {}}
    found = steps(render("pgha/steps/upgrade_rollback.sls",
                         WithPlan({}, Master(three(), answers={"pgha_upgrade.record": records}), defaults)))
    assert list(found)[0] == "pgha-upgrade-rollback-files"
    assert not any("onfail_any" in args for _fun, args in found.values())
    assert found["pgha-upgrade-rollback-primary-healthy"][1]["tgt"] == "pg1"


def test_ssh_trust_crosses_public_keys_only(defaults):
    answers = {"pgha_upgrade_ssh.key": {"pg2": "ssh-ed25519 AAAAprimary pgha-upgrade-temporary"},
               "pgha_upgrade_ssh.host_key": {"pg1": "ssh-ed25519 AAAAhost1", "pg3": "ssh-ed25519 AAAAhost3"},
               "pgha_upgrade_ssh.authorize": {"pg1": {"added": True}, "pg3": {"added": True}},
               "pgha_upgrade_ssh.known": {"pg2": {"known": ["10.0.0.1", "10.0.0.3"]}}}
    master = Master(three(), answers=answers)
    found = call(master, defaults, "upgrade_ssh", cluster="main", action="trust", primary="pg2",
                 replicas=["pg1", "pg3"])
    assert found["retcode"] == 0 and found["trusted"] == ["pg1", "pg3"]
    assert [fun for _nodes, fun in master.asked] == [
        "pgha_upgrade_ssh.key", "pgha_upgrade_ssh.host_key", "pgha_upgrade_ssh.authorize",
        "pgha_upgrade_ssh.authorize", "pgha_upgrade_ssh.known"]
    missing = call(Master(three(), answers=dict(answers, **{"pgha_upgrade_ssh.host_key": {}})), defaults,
                   "upgrade_ssh", cluster="main", action="trust", primary="pg2", replicas=["pg1"])
    assert missing["retcode"] == 1 and "is openssh-server installed?" in missing["problems"][0]
