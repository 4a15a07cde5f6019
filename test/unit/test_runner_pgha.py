"""
The ``pgha`` runner (``_runners/pgha.py``, loaded as ``pgha_runner``): ``pgha.plan`` from a
mocked master (cached pillars, mine ``pgha_address``, minions' answers) and the cluster checks
of ``_utils/pgha_cluster.py``.
"""
import copy
import logging
from unittest.mock import MagicMock, patch

import pgha_cluster
import pgha_runner
import pytest

from pgha_unit_helpers import PGHA_UTILS

SECRETS = {"postgresql": {"version": 15, "superuser": {"password": "su-secret"},
                          "replication_user": {"password": "repl-secret"}},
           "patroni": {"restapi": {"password": "rest-secret"}},
           "haproxy": {"stats_password": "stats-secret"},
           "pgbouncer": {"auth_user": {"password": "bouncer-secret"}},
           "tls": {"enabled": True, "ca_key": "-----BEGIN PRIVATE KEY----- tls-secret"}}


def minion(cluster, *roles, **settings):
    pgha = {"cluster_name": cluster, "roles": list(roles), **copy.deepcopy(SECRETS)}
    for key, value in settings.items():
        if isinstance(value, dict):
            pgha.setdefault(key, {}).update(value)
        else:
            pgha[key] = value
    return {"pgha": pgha}


def three(cluster="main", prefix="pg", **settings):
    return {f"{prefix}{i}": minion(cluster, "postgresql", "etcd", **settings) for i in (1, 2, 3)}


class Master:
    """What the runner reads on the master: cached pillars, the mine, minions' answers."""

    def __init__(self, pillars, mine=None, answers=None):
        self.pillars = pillars
        self.mine = mine if mine is not None else {m: f"10.0.0.{i}" for i, m in enumerate(sorted(pillars), 1)}
        self.answers = answers or {}
        self.asked, self.mine_asked, self.timeouts = [], [], {}

    def mine_get(self, tgt, fun, tgt_type):
        assert fun == "pgha_address" and tgt_type == "list"
        wanted = tgt.split(",")
        self.mine_asked.append(wanted)
        return {m: a for m, a in self.mine.items() if m in wanted}

    def ask(self, minions, fun, arg=(), kwarg=None, timeout=None, gather_job_timeout=None):
        self.asked.append((list(minions), fun))
        self.timeouts[fun] = (timeout, gather_job_timeout)
        found = self.answers.get(fun, {})
        return {m: found[m] for m in minions if m in found}


@pytest.fixture
def configure_loader_modules():
    return {pgha_runner: {"__salt__": {}, "__opts__": {"id": "master", "timeout": 5}, "__context__": {},
                          "__utils__": PGHA_UTILS}}


@pytest.fixture(autouse=True)
def runner_log(caplog, monkeypatch):
    """The runner's log into caplog only (Salt's deferred console handler would write it to a
    stream pytest closed at exit)."""
    logger = logging.getLogger("pgha_runner.test")
    logger.propagate = False
    logger.handlers = [caplog.handler]
    logger.setLevel(logging.DEBUG)
    monkeypatch.setattr(pgha_runner, "log", logger)
    return logger


@pytest.fixture
def run(defaults):
    def _run(master, **kwargs):
        with patch.dict(pgha_runner.__salt__, {"cache.pillar": lambda: copy.deepcopy(master.pillars),
                                               "mine.get": master.mine_get}), \
                patch.object(pgha_runner, "_ask", master.ask), \
                patch.object(pgha_runner, "_defaults", lambda: defaults):
            pgha_runner.__context__.pop("retcode", None)
            found = pgha_runner.plan(**kwargs)
            found["context_retcode"] = pgha_runner.__context__.get("retcode", 0)
            return found
    return _run


# -- which cluster, which minions -------------------------------------------------------------

def test_one_cluster_without_a_name(run):
    plan = run(Master(three()))
    assert plan["cluster"] == "main" and plan["problems"] == [] and plan["retcode"] == 0
    assert plan["minions"] == {"all": ["pg1", "pg2", "pg3"], "postgresql": ["pg1", "pg2", "pg3"],
                               "etcd": ["pg1", "pg2", "pg3"], "balancer": [], "repo_host": [],
                               "backup": ["pg1", "pg2", "pg3"], "monitor": [],
                               "monitored": ["pg1", "pg2", "pg3"]}
    assert plan["pg_nodes"] == ["pg1", "pg2", "pg3"]
    assert plan["primary"] == "pg1" and plan["replicas"] == ["pg2", "pg3"]
    assert plan["addresses"] == {"pg1": "10.0.0.1", "pg2": "10.0.0.2", "pg3": "10.0.0.3"}


def test_no_cluster_known(run):
    plan = run(Master({"web1": {"other": 1}}))
    assert plan["retcode"] == 1 and plan["context_retcode"] == 1
    assert plan["problems"] == ["no minion has pgha:cluster_name in its pillar: assign the pgha pillar to "
                                "the cluster's minions (see pillar.example)"]


def test_several_clusters_need_a_name(run):
    pillars = {**three("main"), **three("other", prefix="x"), **three("third", prefix="t")}
    plan = run(Master(pillars))
    assert plan["problems"] == ["this master knows several clusters (main, other, third): name one with "
                                "pillar='{\"cluster\": \"NAME\"}'"]
    assert plan["retcode"] == 1
    named = run(Master(pillars), cluster="other")
    assert named["problems"] == [] and named["minions"]["all"] == ["x1", "x2", "x3"]


@pytest.mark.parametrize("name", ["main", "Main"])
def test_clusters_that_differ_only_in_case_are_refused_with_both_names(run, name):
    pillars = {**three("main"), **three("Main", prefix="db"), **three("other", prefix="x")}
    plan = run(Master(pillars), cluster=name)
    assert plan["retcode"] == 1
    twins = sorted({"main", "Main"} - {name})
    assert plan["problems"] == [f"clusters {', '.join([name] + twins)} on this master differ only in case: "
                                "rename all but one (pgha:cluster_name), nothing was changed"]
    assert "minions" not in plan
    assert run(Master(pillars), cluster="other")["problems"] == []


def test_only_the_named_clusters_minions_are_read_and_targeted(run):
    master = Master({**three("main"), **three("other", prefix="x")})
    plan = run(master, cluster="other")
    assert plan["minions"]["all"] == ["x1", "x2", "x3"] and plan["pg_nodes"] == ["x1", "x2", "x3"]
    assert master.mine_asked == [["x1", "x2", "x3"]]


@pytest.mark.parametrize("name", ["ma*", "m?in", "[m]ain", "*", "main,other", "main other", "-main",
                                  "", 7, ["main"], "ma\nin"])
def test_a_cluster_argument_outside_the_grammar_is_refused(run, name):
    plan = run(Master({**three("main"), **three("other", prefix="x")}), cluster=name)
    if name == "":
        # no name: the master knows two clusters, name one
        assert plan["problems"][0].startswith("this master knows several clusters (main, other)")
        return
    assert plan["retcode"] == 1
    assert plan["problems"] == [f"pillar cluster: must be a name of letters, digits, '.', '_' or '-' that "
                                f"starts with a letter or a digit, and no glob (got {name!r})"]
    assert "minions" not in plan


def test_a_name_in_another_case_matches_nothing(run):
    plan = run(Master({**three("main")}), cluster="MAIN")
    assert plan["retcode"] == 1
    assert plan["problems"][0].startswith("no minion has pgha:cluster_name MAIN in its cached pillar")
    assert plan["minions"]["all"] == []


def test_roles_lists_and_type_a(run):
    pillars = {**three(with_haproxy_load_balancing=True, cluster_vip="10.0.0.100"),
               "lb1": minion("main", "balancer", with_haproxy_load_balancing=True, cluster_vip="10.0.0.100"),
               "lb2": minion("main", "balancer", with_haproxy_load_balancing=True, cluster_vip="10.0.0.100"),
               "repo1": minion("main", "pgbackrest", with_haproxy_load_balancing=True, cluster_vip="10.0.0.100")}
    plan = run(Master(pillars))
    assert plan["problems"] == []
    assert plan["minions"]["balancer"] == ["lb1", "lb2"] and plan["minions"]["repo_host"] == ["repo1"]
    assert plan["minions"]["backup"] == ["pg1", "pg2", "pg3", "repo1"]
    assert plan["type_a"] is True and plan["balancers"] == ["lb1", "lb2"] and plan["repo_hosts"] == ["repo1"]
    assert plan["site"]["cluster_vip"] == "10.0.0.100" and plan["site"]["haproxy_master_port"] == 5000


def test_two_repository_hosts_are_a_problem(run):
    pillars = {**three(), "repo1": minion("main", "pgbackrest"), "repo2": minion("main", "pgbackrest")}
    plan = run(Master(pillars))
    assert "cluster main has 2 minions with the pgbackrest role (repo1, repo2): one repository host per cluster" \
        in plan["problems"]


def test_no_database_node_in_the_mine(run):
    plan = run(Master(three(), mine={}))
    assert plan["problems"] == ["cluster main has no minion with the postgresql role and a pgha_address in the mine"]


def test_before_the_preparation_neither_mine_nor_checks(run):
    master = Master({"pg1": minion("main", "postgresql"), "pg2": minion("main", "postgresql")}, mine={})
    plan = run(master, prepared=False)
    assert plan["problems"] == [] and master.mine_asked == [] and "primary" not in plan


# -- no secret in the plan --------------------------------------------------------------------

def test_no_secret_in_the_plan(run):
    pillars = {**three(restore={"type": "time", "target": "2026-01-01 00:00:00+00", "password": "x-secret"},
                       pgbackrest={"enabled": True}),
               "lb1": minion("main", "balancer"), "lb2": minion("main", "balancer")}
    for workflow in (None, "deploy", "restore"):
        plan = run(Master(pillars, answers={"pgha_patroni.is_leader": {"pg2": True}}),
                   workflow=workflow, confirm_restore="main")
        assert "secret" not in repr(plan), workflow
    assert plan["restore"]["spec"] == {"type": "time", "target": "2026-01-01 00:00:00+00"}


def test_the_check_sees_only_roles_and_cluster_keys():
    shown = pgha_cluster.checked_part(minion("main", "postgresql", cluster_vip="10.0.0.100",
                                             patroni={"ttl": 30, "maximum_lag_on_failover": 1})["pgha"])
    assert shown == {"roles": ["postgresql"], "cluster_vip": "10.0.0.100", "postgresql": {"version": 15},
                     "patroni": {"ttl": 30}}


# -- the primary ------------------------------------------------------------------------------

def test_bootstrap_node_is_the_primary(run):
    plan = run(Master(three(patroni={"bootstrap_node": "pg2"})))
    assert plan["primary"] == "pg2" and plan["replicas"] == ["pg1", "pg3"]


def test_a_bootstrap_node_that_is_no_database_node_is_ignored(run):
    plan = run(Master(three(patroni={"bootstrap_node": "pg9"})))
    assert plan["primary"] == "pg1"


def test_the_existing_postgresql_wins(run, caplog):
    pillars = three()
    pillars["pg3"]["pgha"]["postgresql_exists"] = True
    plan = run(Master(pillars), workflow="deploy")
    assert plan["primary"] == "pg3" and plan["replicas"] == ["pg1", "pg2"] and plan["problems"] == []
    assert "the existing PostgreSQL on pg3 will stop for a few seconds" in plan["warnings"][0]
    assert "will stop for a few seconds" in caplog.text


def test_two_existing_postgresql_are_refused(run):
    pillars = three()
    for name in ("pg1", "pg3"):
        pillars[name]["pgha"]["postgresql_exists"] = True
    plan = run(Master(pillars), workflow="deploy")
    assert plan["problems"] == ["pgha:postgresql_exists is true on pg1, pg3: only one node's data can "
                                "become the cluster"]


def test_existing_postgresql_against_bootstrap_node(run):
    pillars = three(patroni={"bootstrap_node": "pg1"})
    pillars["pg2"]["pgha"]["postgresql_exists"] = True
    plan = run(Master(pillars), workflow="deploy")
    assert plan["problems"] == ["pgha:patroni:bootstrap_node is pg1 but pgha:postgresql_exists is set on pg2"]


# -- cluster checks ---------------------------------------------------------------------------

def test_a_cluster_check_problem_refuses(run):
    pillars = {"pg1": minion("main", "postgresql", "etcd"), "pg2": minion("main", "postgresql", "etcd"),
               "pg3": minion("main", "postgresql")}
    plan = run(Master(pillars), workflow="config")
    assert plan["retcode"] == 1 and plan["context_retcode"] == 1
    assert plan["problems"][0] == "cluster main is not valid (no node was changed):"
    assert plan["problems"][1].startswith("pgha:roles: 2 minions have the etcd role")


def test_cluster_check_warnings_are_logged(run, caplog):
    plan = run(Master({"pg1": minion("main", "postgresql", "etcd"), "pg2": minion("main", "postgresql")}))
    assert plan["problems"] == []
    assert plan["warnings"] == ["cluster main: pgha:roles: 1 minion has the etcd role (pg1): the cluster "
                                "stops when it fails; use 3 or 5 members"]
    assert "1 minion has the etcd role" in caplog.text


def test_a_setting_that_differs_is_a_problem(run):
    pillars = three()
    pillars["pg2"]["pgha"]["cluster_vip"] = "10.0.0.200"
    plan = run(Master(pillars))
    assert any(p.startswith("pgha:cluster_vip: differs between minions") for p in plan["problems"])


def test_type_a_without_a_balancer(run):
    plan = run(Master(three(with_haproxy_load_balancing=True)))
    assert "pgha:with_haproxy_load_balancing: is true but no minion of the cluster has the balancer role " \
           "(pgha:roles)" in plan["problems"]


# -- targets ----------------------------------------------------------------------------------

def test_add_node_targets(run):
    pillars = {**three(), "pg4": minion("main", "postgresql"), "lb5": minion("main", "balancer")}
    plan = run(Master(pillars), workflow="add_node", target=["pg4", "lb5"])
    assert plan["problems"] == []
    assert plan["targets"] == [
        {"id": "pg4", "roles": ["postgresql"], "members": ["pg1", "pg2", "pg3"]},
        {"id": "lb5", "roles": ["balancer"], "members": ["pg1", "pg2", "pg3", "pg4"]}]


def test_a_missing_target(run):
    plan = run(Master(three()), workflow="add_node")
    assert plan["problems"] == ["pillar target is missing: name the minion(s), e.g. pillar='{\"target\": \"pg4\"}'"]


@pytest.mark.parametrize("other", [None, "Main", "other"])
def test_a_target_of_another_cluster(run, other):
    pillars = {**three(), "pg4": minion(other, "postgresql") if other else {"x": 1}}
    plan = run(Master(pillars), cluster="main", workflow="add_node", target="pg4")
    if other == "Main":
        assert plan["problems"] == ["clusters main, Main on this master differ only in case: rename all but one "
                                    "(pgha:cluster_name), nothing was changed"]
        return
    assert plan["problems"] == [f"target pg4 has no pgha pillar for cluster main (pgha:cluster_name is {other}): "
                                "assign the cluster's pillar and pgha:roles to it first"]


def test_remove_node(run):
    pillars = {**three(), "lb1": minion("main", "balancer")}
    plan = run(Master(pillars), workflow="remove_node", target="pg1")
    assert plan["problems"] == []
    assert plan["removal"] == {"target": "pg1", "roles": ["postgresql", "etcd"], "helper": "pg2",
                               "etcd_member": True,
                               "staying": {"all": ["lb1", "pg2", "pg3"], "postgresql": ["pg2", "pg3"],
                                           "balancer": ["lb1"]}}


def test_remove_node_refusals(run):
    plan = run(Master(three()), workflow="remove_node", target=["pg1", "pg2"])
    assert plan["problems"] == ["pgha.remove_node removes one node per run; pillar target names pg1, pg2"]
    plan = run(Master({"pg1": minion("main", "postgresql", "etcd")}), workflow="remove_node", target="pg1")
    assert plan["problems"] == ["pgha.remove_node refused: pg1 is the last database node of cluster main"]
    strict = {"synchronous_mode": True, "synchronous_mode_strict": True, "synchronous_node_count": 1}
    pillars = {"pg1": minion("main", "postgresql", "etcd", patroni=strict),
               "pg2": minion("main", "postgresql", patroni=strict)}
    plan = run(Master(pillars), workflow="remove_node", target="pg2")
    assert plan["problems"] == ["pgha.remove_node refused: synchronous_mode_strict is on and removing pg2 "
                                "leaves no replica: writes would stop"]


# -- workflows --------------------------------------------------------------------------------

def test_update_asks_the_leader_and_ends_with_it(run):
    master = Master(three(), answers={"pgha_patroni.leader": {"pg1": "pg2"}})
    plan = run(master, workflow="update")
    assert master.asked == [(["pg1"], "pgha_patroni.leader")]
    assert plan["rolling_update"] == [{"node": "pg1", "via": "pg2"}, {"node": "pg3", "via": "pg1"},
                              {"node": "pg2", "via": "pg1"}]


def test_update_refusals(run):
    plan = run(Master(three(), answers={"pgha_patroni.leader": {"pg1": None}}), workflow="update")
    assert plan["problems"] == ["pgha.update refused: cluster main has no running leader (None)"]
    plan = run(Master({"pg1": minion("main", "postgresql", "etcd")}), workflow="update")
    assert plan["problems"] == ["pgha.update refused: cluster main has one database node; a rolling update "
                                "needs a replica to switch over to"]


def test_restore_needs_the_pin_and_pgbackrest(run):
    plan = run(Master(three(pgbackrest={"enabled": True})), workflow="restore", prepared=False)
    assert plan["problems"] == ["pgha.restore replaces the data of cluster main with a backup: confirm with "
                                "pillar='{\"confirm_restore\": \"main\", ...}' (nothing was changed)"]
    plan = run(Master(three()), workflow="restore", confirm_restore="main")
    assert plan["problems"] == ["pgha.restore restores from pgBackRest, but pgha:pgbackrest:enabled is false "
                                "for cluster main"]


def test_restore_on_the_leader_or_pillar_primary(run):
    pillars = three(pgbackrest={"enabled": True}, restore={"type": "time", "target": "T1"})
    master = Master(pillars, answers={"pgha_patroni.is_leader": {"pg1": False, "pg2": True, "pg3": False}})
    plan = run(master, workflow="restore", confirm_restore="main", restore={"target": "T2"})
    assert plan["restore"] == {"primary": "pg2", "replicas": ["pg1", "pg3"],
                               "spec": {"type": "time", "target": "T2"},
                               "check": {"target_type": "time", "target": "T2", "backup_set": None, "stanza": None}}
    master = Master(pillars)
    plan = run(master, workflow="restore", confirm_restore="main", primary="pg3")
    assert plan["restore"]["primary"] == "pg3" and master.asked == []
    plan = run(Master(pillars), workflow="restore", confirm_restore="main")
    assert plan["problems"] == ["pgha.restore: cluster main has no running leader; name the node to restore on "
                                "with pillar primary (one of pg1, pg2, pg3)"]


def test_remove_needs_the_pin_and_boolean_flags(run):
    plan = run(Master(three()), workflow="remove", prepared=False, remove_postgres=True)
    assert plan["problems"] == ["pgha.remove removes cluster main: confirm with pillar='{\"confirm_remove\": "
                                "\"main\", \"remove_postgres\": true, \"remove_etcd\": true}' (nothing was changed)"]
    plan = run(Master(three()), workflow="remove", prepared=False, confirm_remove="main", remove_data="yes",
               remove_stanza=True)
    assert plan["problems"] == [
        "pgha.remove: pillar remove_data must be true or false (got yes); nothing was changed",
        "pgha.remove: remove_stanza needs remove_postgres (the stanza can only go once PostgreSQL is stopped); "
        "nothing was changed"]
    plan = run(Master(three()), workflow="remove", confirm_remove="main", remove_postgres=True)
    assert plan["problems"] == [] and plan["stanza_host"] == "pg1"
    assert plan["flags"] == {"remove_postgres": True, "remove_etcd": False, "remove_data": False,
                             "remove_stanza": False}



def test_remove_etcd_needs_remove_postgres(run):
    # etcd holds Patroni's state: removing it under a running Patroni leaves the cluster without a DCS
    plan = run(Master(three()), workflow="remove", prepared=False, confirm_remove="main", remove_etcd=True)
    assert plan["problems"] == ["pgha.remove: remove_etcd needs remove_postgres (Patroni keeps its state in "
                                "etcd); nothing was changed"]
    assert plan["retcode"] == 1
    plan = run(Master(three()), workflow="remove", confirm_remove="main", remove_postgres=True, remove_etcd=True)
    assert plan["problems"] == []
    assert plan["flags"]["remove_etcd"] is True and plan["flags"]["remove_postgres"] is True

def test_unknown_workflow_and_internal_kwargs(run):
    plan = run(Master(three()), workflow="nope")
    assert plan["retcode"] == 1 and plan["problems"][0].startswith("unknown workflow nope")
    plan = run(Master(three()), __pub_user="root", __pub_fun="pgha.plan")
    assert plan["problems"] == []


def test_check_returns_the_verdict(defaults):
    master = Master(three())
    with patch.dict(pgha_runner.__salt__, {"cache.pillar": lambda: master.pillars, "mine.get": master.mine_get}), \
            patch.object(pgha_runner, "_defaults", lambda: defaults):
        assert pgha_runner.check() == {"cluster": "main", "workflow": None, "problems": [], "warnings": [],
                                       "retcode": 0}


def test_ask_passes_its_timeouts_to_salt():
    """A minion that is down costs timeout + gather_job_timeout: _ask can shorten both."""
    client = MagicMock()
    client.cmd.return_value = {"pg1": {"ret": "pg1", "retcode": 0}, "pg2": {"ret": None, "retcode": 1}}
    with patch.object(pgha_runner.salt.client, "get_local_client", return_value=client):
        assert pgha_runner._ask(["pg1", "pg2"], "pgha_patroni.leader", timeout=3, gather_job_timeout=3) == {"pg1": "pg1"}
        pgha_runner._ask(["pg1"], "test.ping")
    first, second = client.cmd.call_args_list
    assert first.kwargs["timeout"] == 3 and first.kwargs["gather_job_timeout"] == 3
    assert second.kwargs["timeout"] == 5 and "gather_job_timeout" not in second.kwargs
