"""
The orchestrations rendered as the master renders them (Jinja sandboxed and strict, the ``do``
extension, Salt's serializer filters and ``raise``), both file roots on the search path:
stage 1 (``orch/pgha/<workflow>.sls``) with nothing but its pillar, stage 2
(``orch/pgha/steps/<workflow>.sls``) with ``saltutil.runner('pgha.plan')`` answered by the real
runner on a mocked master (see test_runner_pgha). Also: no path in both file roots, no call
out of the orchestrations' Jinja.
"""
import copy
import re
from pathlib import Path
from unittest.mock import patch

import jinja2
import jinja2.sandbox
import pgha_runner
import pytest
import salt.utils.jinja
import yaml
from test_runner_pgha import Master, configure_loader_modules, minion, runner_log, three  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
ROOTS = [REPO, REPO / "orch"]          # file_roots, as test/pghalab/master.py and README set them
WORKFLOWS = ["deploy", "add_node", "add_balancer", "remove_node", "remove", "restore", "switchover",
             "restart", "config", "update", "prepare", "promote"]


def render(path, salt):
    env = jinja2.sandbox.SandboxedEnvironment(loader=jinja2.FileSystemLoader([str(r) for r in ROOTS]),
                                              extensions=["jinja2.ext.do", salt_serializer()],
                                              undefined=jinja2.StrictUndefined)
    env.globals["raise"] = salt_raise
    return yaml.safe_load(env.get_template(path).render(salt=salt)) or {}


def salt_serializer():
    return salt_jinja.SerializerExtension


salt_jinja = salt.utils.jinja       # `salt` is the fake's name in the templates
salt_raise = salt.utils.jinja.jinja_raise


class OnlyPillar(dict):
    """Stage 1's salt: the orchestration's pillar, nothing else (any other call fails)."""

    def __init__(self, pillar):
        super().__init__({"pillar.get": lambda key, default="": pillar.get(key, default)})

    def __missing__(self, key):
        raise AssertionError(f"stage 1 called salt['{key}'] while rendering")


class WithPlan(OnlyPillar):
    """Stage 2's salt: its pillar, and saltutil.runner for pgha.plan only."""

    def __init__(self, pillar, master, defaults):
        super().__init__(pillar)
        self.calls = []

        def runner(fun, **kwargs):
            assert fun == "pgha.plan", fun
            self.calls.append(kwargs)
            with patch.dict(pgha_runner.__salt__, {"cache.pillar": lambda: copy.deepcopy(master.pillars),
                                                   "mine.get": master.mine_get}), \
                    patch.object(pgha_runner, "_ask", master.ask), \
                    patch.object(pgha_runner, "_defaults", lambda: defaults):
                return pgha_runner.plan(**kwargs)
        self["saltutil.runner"] = runner


def steps(rendered):
    """{step id: (state.fun, {arg: value})}."""
    found = {}
    for sid, body in rendered.items():
        (fun, args), = body.items()
        merged = {}
        for item in args:
            merged.update(item)
        found[sid] = (fun, merged)
    return found


def assert_exact_targets(found):
    for sid, (fun, args) in found.items():
        if fun in ("salt.state", "salt.function"):
            assert args.get("tgt_type") == "list", sid
            assert args["tgt"] and not re.search(r"[*?\[\]@ ]", args["tgt"]), (sid, args["tgt"])


# -- stage 1 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_stage_one_renders_from_its_pillar_alone(workflow):
    pillar = {"cluster": "main", "target": ["pg4"], "confirm_remove": "main", "remove_postgres": True,
              "restore": {"type": "immediate"}}
    rendered = render(f"pgha/{workflow}.sls", OnlyPillar(pillar))
    if workflow == "add_balancer":   # the same orchestration
        assert rendered == {"include": ["pgha.add_node"]}
        return
    found, name = steps(rendered), workflow
    expected = [f"pgha-{name}-runners-synced", f"pgha-{name}-utils-synced", f"pgha-{name}-prepared"]
    if workflow != "prepare":
        expected.append(f"pgha-{name}-steps")
    assert list(found) == expected
    assert found[expected[0]] == ("salt.runner", {"name": "saltutil.sync_runners"})
    assert found[expected[1]] == ("salt.runner", {"name": "saltutil.sync_utils"})
    fun, prepared = found[expected[2]]
    assert prepared["name"] == "state.orchestrate" and prepared["mods"] == "pgha.steps.prepare"
    assert prepared["pillar"] == dict(pillar, workflow=name)
    assert prepared["require"] == [{"salt": expected[0]}, {"salt": expected[1]}]
    if workflow != "prepare":
        fun, run = found[expected[3]]
        assert run["name"] == "state.orchestrate" and run["mods"] == f"pgha.steps.{name}"
        assert run["pillar"] == pillar and run["require"] == [{"salt": expected[2]}]


def test_stage_one_passes_no_unknown_pillar():
    found = steps(render("pgha/deploy.sls", OnlyPillar({"secret": "x", "cluster": "main"})))
    assert found["pgha-deploy-steps"][1]["pillar"] == {"cluster": "main"}


# -- stage 2 ----------------------------------------------------------------------------------

def test_prepare_targets_exactly_the_clusters_minions(defaults):
    master = Master({**three(), **three("other", prefix="db")})
    salt = WithPlan({"cluster": "main", "workflow": "deploy"}, master, defaults)
    found = steps(render("pgha/steps/prepare.sls", salt))
    assert found["pgha-prepare-utils-synced"] == ("salt.function", {
        "name": "saltutil.sync_utils", "tgt": "pg1,pg2,pg3", "tgt_type": "list", "kwarg": {"refresh": False}})
    assert found["pgha-prepare-modules-synced"] == ("salt.function", {
        "name": "saltutil.sync_modules", "tgt": "pg1,pg2,pg3", "tgt_type": "list", "kwarg": {"refresh": True},
        "require": [{"salt": "pgha-prepare-utils-synced"}]})
    # the gate's state file renders from pgha's modules (map.jinja): synced first
    assert found["pgha-prepare-pillar-validated"] == ("salt.state", {
        "tgt": "pg1,pg2,pg3", "tgt_type": "list", "sls": "pgha.gate.prepared",
        "require": [{"salt": "pgha-prepare-modules-synced"}]})
    assert found["pgha-prepare-failed"][1]["onfail"] == [{"salt": "pgha-prepare-pillar-validated"}]
    assert salt.calls == [{"workflow": "deploy", "prepared": False, "cluster": "main"}]
    assert master.mine_asked == []


def test_prepare_refuses_before_anything_runs(defaults):
    master = Master({**three(), **three("other", prefix="db")})
    found = steps(render("pgha/steps/prepare.sls", WithPlan({"workflow": "deploy"}, master, defaults)))
    fun, args = found["pgha-deploy-refused"]
    assert list(found) == ["pgha-deploy-refused"] and fun == "test.fail_without_changes"
    assert args["comment"] == ("pgha.deploy refused (no node was changed):\nthis master knows several clusters "
                               "(main, other): name one with pillar='{\"cluster\": \"NAME\"}'")


def test_deploy_steps(defaults):
    pillars = {**three(cluster_vip="10.0.0.100", with_haproxy_load_balancing=True,
                       pgbackrest={"enabled": True}, patroni={"bootstrap_node": "pg2"}),
               **{f"lb{i}": minion("main", "balancer", cluster_vip="10.0.0.100", with_haproxy_load_balancing=True)
                  for i in (1, 2)},
               "repo1": minion("main", "pgbackrest", cluster_vip="10.0.0.100", with_haproxy_load_balancing=True),
               "other1": minion("other", "postgresql", "etcd")}
    found = steps(render("pgha/steps/deploy.sls", WithPlan({"cluster": "main"}, Master(pillars), defaults)))
    assert list(found) == ["pgha-base-deployed", "pgha-pgbackrest-ssh-keys", "pgha-pgbackrest-repository-deployed",
                           "pgha-patroni-pg2-deployed", "pgha-patroni-pg1-deployed", "pgha-patroni-pg3-deployed",
                           "pgha-vip-and-users-deployed", "pgha-pgbackrest-deployed", "pgha-pgbouncer-deployed",
                           "pgha-balancers-deployed", "pgha-cluster-summary", "pgha-watchdog-summary"]
    assert_exact_targets(found)
    assert found["pgha-base-deployed"][1]["tgt"] == "lb1,lb2,pg1,pg2,pg3,repo1"
    assert found["pgha-pgbackrest-ssh-keys"][1]["tgt"] == "pg1,pg2,pg3,repo1"
    assert found["pgha-patroni-pg2-deployed"][1]["pillar"] == {"pgha_gate": {"role": "leader"}}
    assert found["pgha-patroni-pg2-deployed"][1]["require"] == [{"salt": "pgha-pgbackrest-repository-deployed"}]
    assert found["pgha-patroni-pg1-deployed"][1]["pillar"] == {"pgha_gate": {"role": "member"}}
    assert found["pgha-patroni-pg3-deployed"][1]["require"] == [{"salt": "pgha-patroni-pg1-deployed"}]
    assert found["pgha-balancers-deployed"][1]["tgt"] == "lb1,lb2"
    assert found["pgha-cluster-summary"] == ("salt.function", {
        "name": "pgha_patroni.table", "tgt": "pg2", "tgt_type": "list",
        "kwarg": {"vip": "10.0.0.100", "port": 5000}, "require": [{"salt": "pgha-balancers-deployed"}]})
    # Patroni's watchdog, one line per database node
    assert found["pgha-watchdog-summary"] == ("salt.function", {
        "name": "pgha_system.watchdog_summary", "tgt": "pg1,pg2,pg3", "tgt_type": "list",
        "require": [{"salt": "pgha-cluster-summary"}]})


def test_deploy_type_b_minimal(defaults):
    found = steps(render("pgha/steps/deploy.sls", WithPlan({}, Master(three()), defaults)))
    assert list(found) == ["pgha-base-deployed", "pgha-patroni-pg1-deployed", "pgha-patroni-pg2-deployed",
                           "pgha-patroni-pg3-deployed", "pgha-vip-and-users-deployed", "pgha-cluster-summary",
                           "pgha-watchdog-summary"]
    assert found["pgha-cluster-summary"][1]["require"] == [{"salt": "pgha-vip-and-users-deployed"}]


def test_a_refused_plan_is_one_failed_step(defaults):
    pillars = {"pg1": minion("main", "postgresql", "etcd"), "pg2": minion("main", "postgresql", "etcd")}
    found = steps(render("pgha/steps/config.sls", WithPlan({}, Master(pillars), defaults)))
    (sid, (fun, args)), = found.items()
    assert sid == "pgha-config-refused" and fun == "test.fail_without_changes"
    assert args["comment"].startswith("pgha.config refused (no node was changed):\ncluster main is not valid "
                                      "(no node was changed):\npgha:roles: 2 minions have the etcd role")


def test_add_node_steps(defaults):
    pillars = {**three(firewall={"enabled": True}), "pg4": minion("main", "postgresql", firewall={"enabled": True}),
               "pg5": minion("main", "postgresql", firewall={"enabled": True})}
    found = steps(render("pgha/steps/add_node.sls",
                         WithPlan({"target": ["pg4", "pg5"]}, Master(pillars), defaults)))
    assert list(found) == ["pgha-add-firewall-opened", "pgha-add-pg4-tls", "pgha-add-pg4-base",
                           "pgha-add-pg4-members-updated", "pgha-add-pg4-replica", "pgha-add-pg5-tls", "pgha-add-pg5-base", "pgha-add-pg5-members-updated",
                           "pgha-add-pg5-replica", "pgha-add-vip-ready", "pgha-cluster-summary",
                           "pgha-watchdog-summary"]
    assert_exact_targets(found)
    assert found["pgha-add-pg4-members-updated"][1]["tgt"] == "pg1,pg2,pg3"
    assert found["pgha-add-pg5-members-updated"][1]["tgt"] == "pg1,pg2,pg3,pg4"
    assert found["pgha-add-pg5-tls"][1]["require"] == [{"salt": "pgha-add-pg4-replica"}]
    assert found["pgha-add-pg5-base"][1]["require"] == [{"salt": "pgha-add-pg5-tls"}]
    assert found["pgha-add-vip-ready"][1]["tgt"] == "pg1,pg2,pg3,pg4,pg5"


def test_remove_node_steps(defaults):
    pillars = {**three(), "lb1": minion("main", "balancer")}
    found = steps(render("pgha/steps/remove_node.sls", WithPlan({"target": "pg1"}, Master(pillars), defaults)))
    assert list(found) == ["pgha-remove-etcd-checked", "pgha-remove-checked", "pgha-remove-leadership-moved",
                           "pgha-remove-services-stopped", "pgha-remove-etcd-member-removed",
                           "pgha-remove-etcd-stopped", "pgha-remove-address-forgotten", "pgha-remove-member-forgotten",
                           "pgha-remove-members-updated", "pgha-remove-members-healthy", "pgha-remove-vip-ready"]
    assert_exact_targets(found)
    assert found["pgha-remove-etcd-checked"] == ("salt.function", {
        "name": "pgha_etcd.removal_allowed", "tgt": "pg2", "tgt_type": "list", "arg": ["pg1"]})
    assert found["pgha-remove-checked"][1]["require"] == [{"salt": "pgha-remove-etcd-checked"}]
    assert found["pgha-remove-members-updated"][1]["tgt"] == "lb1,pg2,pg3"
    assert found["pgha-remove-vip-ready"][1]["tgt"] == "pg2,pg3"


def test_remove_steps_decide_the_leader_at_run_time(defaults):
    master = Master(three(pgbackrest={"enabled": True}))
    found = steps(render("pgha/steps/remove.sls", WithPlan(
        {"confirm_remove": "main", "remove_postgres": True, "remove_etcd": True, "remove_stanza": True},
        master, defaults)))
    assert list(found) == ["pgha-remove-announced", "pgha-remove-patroni-replicas-stopped",
                           "pgha-remove-patroni-leader-stopped", "pgha-remove-dcs-cleared",
                           "pgha-remove-stanza-deleted", "pgha-remove-postgres-removed", "pgha-remove-etcd-removed"]
    assert_exact_targets(found)
    assert master.asked == []
    assert found["pgha-remove-patroni-replicas-stopped"][1]["pillar"] == {"pgha_ops": {"stage": "replicas"}}
    assert found["pgha-remove-patroni-leader-stopped"][1]["tgt"] == "pg1,pg2,pg3"
    assert found["pgha-remove-patroni-leader-stopped"][1]["require"] == [
        {"salt": "pgha-remove-patroni-replicas-stopped"}]


def test_remove_refused_without_the_pin(defaults):
    found = steps(render("pgha/steps/prepare.sls", WithPlan({"workflow": "remove", "cluster": "main"},
                                                             Master(three()), defaults)))
    assert "confirm with pillar='{\"confirm_remove\": \"main\"" in found["pgha-remove-refused"][1]["comment"]


def test_restore_steps(defaults):
    master = Master(three(pgbackrest={"enabled": True}), answers={"pgha_patroni.is_leader": {"pg3": True}})
    found = steps(render("pgha/steps/restore.sls", WithPlan(
        {"confirm_restore": "main", "restore": {"type": "time", "target": "2026-01-01 00:00:00+00"}},
        master, defaults)))
    assert_exact_targets(found)
    assert list(found)[:4] == ["pgha-restore-checked", "pgha-restore-announced", "pgha-restore-replicas-stopped",
                               "pgha-restore-primary-stopped"]
    assert found["pgha-restore-checked"][1]["kwarg"] == {
        "target_type": "time", "target": "2026-01-01 00:00:00+00", "backup_set": None, "stanza": None}
    assert found["pgha-restore-replicas-stopped"][1]["tgt"] == "pg1,pg2"
    assert found["pgha-restore-primary-recovered"][1]["tgt"] == "pg3"
    assert found["pgha-restore-summary"][1]["require"] == [{"salt": "pgha-restore-vip-ready"}]


def test_update_steps(defaults):
    master = Master(three(), answers={"pgha_patroni.leader": {"pg1": "pg1"}})
    found = steps(render("pgha/steps/update.sls", WithPlan({}, master, defaults)))
    assert_exact_targets(found)
    assert [s for s in found if s.endswith("-leadership-moved")] == [
        "pgha-update-pg2-leadership-moved", "pgha-update-pg3-leadership-moved", "pgha-update-pg1-leadership-moved"]
    assert found["pgha-update-pg1-leadership-moved"][1]["tgt"] == "pg2"


@pytest.mark.parametrize("workflow", ["switchover", "restart", "config"])
def test_rolling_steps(defaults, workflow):
    pillars = {**three(with_haproxy_load_balancing=True), "lb1": minion("main", "balancer", with_haproxy_load_balancing=True),
               "lb2": minion("main", "balancer", with_haproxy_load_balancing=True)}
    found = steps(render(f"pgha/steps/{workflow}.sls", WithPlan({"candidate": "pg2"}, Master(pillars), defaults)))
    assert_exact_targets(found)
    assert found[f"pgha-{workflow}-balancers-ready"][1]["tgt"] == "lb1,lb2"
    if workflow == "switchover":
        assert found["pgha-switchover"][1]["pillar"] == {"pgha_ops": {"candidate": "pg2"}}
    elif workflow == "restart":
        assert [s for s in found if s.startswith("pgha-restart-replica-")] == [
            "pgha-restart-replica-pg1", "pgha-restart-replica-pg2", "pgha-restart-replica-pg3"]
    else:
        # pgha.config reports pending restarts by default (autobase's pending_restart: false)
        assert not [s for s in found if s.startswith("pgha-restart-")]
        assert found["pgha-config-summary"][1]["name"] == "pgha_patroni.table"


def test_config_restarts_pending_members_when_asked(defaults):
    """patroni:pending_restart: true: pgha.config restarts the members that wait for it, in
    PostgreSQL's order, then shows the summary."""
    pillars = three(patroni={"pending_restart": True})
    found = steps(render("pgha/steps/config.sls", WithPlan({}, Master(pillars), defaults)))
    assert_exact_targets(found)
    assert [s for s in found if s.startswith("pgha-restart-")] == [
        "pgha-restart-primary-first", "pgha-restart-replica-pg1", "pgha-restart-replica-pg2",
        "pgha-restart-replica-pg3", "pgha-restart-leader"]
    assert found["pgha-config-summary"][1]["require"] == [{"salt": "pgha-restart-leader"}]


# -- the file roots and the orchestrations' Jinja ---------------------------------------------

def _files(root, skip=()):
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()
            and not any(part in skip or part.startswith(".") for part in p.relative_to(root).parts)}


def test_no_path_in_both_file_roots():
    """The master serves file_roots [repo, repo/orch]: a path in both would be served from the
    first root only."""
    orch = _files(REPO / "orch")
    root = _files(REPO, skip=("orch", "test", "__pycache__", "node_modules"))
    assert not orch & root, sorted(str(p) for p in orch & root)


def test_no_call_out_of_the_orchestrations_jinja():
    """Rendering an orchestration asks no minion, reads no pillar cache, runs no orchestration:
    only pgha.plan (stage 2) and the orchestration's own pillar."""
    calls = re.compile(r"salt\[['\"]([^'\"]+)['\"]\]\s*\(\s*(['\"][^'\"]*['\"])?")
    found = []
    for path in sorted((REPO / "orch").rglob("*")):
        if path.suffix not in (".sls", ".jinja"):
            continue
        for name, arg in calls.findall(path.read_text()):
            if name in ("saltutil.cmd", "cache.pillar", "state.orchestrate", "state.orch", "mine.get") or (
                    name == "saltutil.runner" and arg.strip("'\"") in ("state.orchestrate", "state.orch",
                                                                      "cache.pillar", "mine.get")):
                found.append(f"{path.relative_to(REPO)}: salt['{name}']({arg})")
            assert name in ("pillar.get", "saltutil.runner"), f"{path.relative_to(REPO)}: salt['{name}']"
            if name == "saltutil.runner":
                # pgha.monitors: pgha.monitor's monitor minions (issue 24)
                assert arg.strip("'\"") in ("pgha.plan", "pgha.monitors"), f"{path.relative_to(REPO)}: {arg}"
    assert not found, found


# -- issue 21: PgBouncer in Type B ---------------------------------------------------------------

def test_deploy_type_b_with_pgbouncer(defaults):
    """pgbouncer:enabled true in Type B: PgBouncer's step (configured, started, gated) on every
    database node after the users, before the summary; no balancer step."""
    pillars = three(cluster_vip="10.0.0.100", pgbouncer={"enabled": True})
    found = steps(render("pgha/steps/deploy.sls", WithPlan({}, Master(pillars), defaults)))
    assert list(found) == ["pgha-base-deployed", "pgha-patroni-pg1-deployed", "pgha-patroni-pg2-deployed",
                           "pgha-patroni-pg3-deployed", "pgha-vip-and-users-deployed", "pgha-pgbouncer-deployed",
                           "pgha-cluster-summary", "pgha-watchdog-summary"]
    assert found["pgha-pgbouncer-deployed"] == ("salt.state", {
        "tgt": "pg1,pg2,pg3", "tgt_type": "list", "sls": ["pgha.pgbouncer.optional", "pgha.pgbouncer.gate"],
        "require": [{"salt": "pgha-vip-and-users-deployed"}]})
    assert found["pgha-cluster-summary"][1]["require"] == [{"salt": "pgha-pgbouncer-deployed"}]
    assert found["pgha-cluster-summary"][1]["kwarg"] == {"vip": "10.0.0.100"}


@pytest.mark.parametrize("pgbouncer,type_a,runs", [
    ({}, False, False), ({"enabled": True}, False, True), ({"enabled": "auto"}, True, True),
    ({"enabled": False}, True, False), ({}, True, True)])
def test_the_plan_says_where_pgbouncer_runs(defaults, pgbouncer, type_a, runs):
    extra = {"with_haproxy_load_balancing": True} if type_a else {}
    pillars = three(cluster_vip="10.0.0.100", pgbouncer=pgbouncer, **extra)
    if type_a:
        pillars["lb1"] = minion("main", "balancer", cluster_vip="10.0.0.100", pgbouncer=pgbouncer, **extra)
    found = steps(render("pgha/steps/deploy.sls", WithPlan({}, Master(pillars), defaults)))
    assert ("pgha-pgbouncer-deployed" in found) is runs


def test_deploy_of_a_standby_restoring_from_the_main_repository(defaults):
    """h10-drrepo: dr's nodes get pgBackRest (their keys published) and the first checks the
    main's stanza before any Patroni starts; nothing targets the main's minions."""
    repo = {"enabled": True, "stanza": "", "repo_host_user": "pgbackrest"}
    standby = {"host": "10.0.0.100", "primary_slot_name": "dr", "cluster": "main",
               "create_replica_methods": ["pgbackrest", "basebackup"], "pgbackrest": {"enabled": True}}
    pillars = {**three(cluster_vip="10.0.0.100", pgbackrest=repo,
                       standby_clusters=[{"name": "dr", "addresses": ["10.0.1.11"], "slot": "dr", "pgbackrest": True}]),
               "repo1": minion("main", "pgbackrest", pgbackrest=repo),
               **{f"dr{i}": minion("dr", "postgresql", *(["etcd"] if i == 1 else []), cluster_vip="10.0.1.100",
                                   pgbackrest={"enabled": True}, standby_cluster=standby) for i in (1, 2)}}
    found = steps(render("pgha/steps/deploy.sls", WithPlan({"cluster": "dr"}, Master(pillars), defaults)))
    assert_exact_targets(found)
    order = list(found)
    assert order.index("pgha-pgbackrest-standby-ssh-keys") < order.index("pgha-pgbackrest-main-repository-checked") \
        < order.index("pgha-patroni-dr1-deployed")
    assert found["pgha-pgbackrest-standby-ssh-keys"][1]["tgt"] == "dr1,dr2"
    assert found["pgha-pgbackrest-main-repository-checked"][1] == {
        "name": "pgha_pgbackrest.restorable", "tgt": "dr1", "tgt_type": "list", "kwarg": {"stanza": "main"},
        "require": [{"salt": "pgha-pgbackrest-standby-ssh-keys"}]}
    assert found["pgha-patroni-dr1-deployed"][1]["require"] == [{"salt": "pgha-pgbackrest-main-repository-checked"}]
    for _, args in found.values():
        assert not {"pg1", "pg2", "pg3", "repo1"} & set(str(args.get("tgt", "")).split(","))
