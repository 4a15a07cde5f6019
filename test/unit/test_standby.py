"""
Standby clusters (issue 20): the decisions of ``_utils/pgha_standby.py`` (validation, Patroni's
standby_cluster, the main side, the highstate's refusal after a promotion, the promotion's
guard, the summary line), the planner's cross-cluster checks and ``pgha.promote``'s plan, the
dynamic configuration state's refusal, and the module's standby leader.
"""
import copy
from unittest.mock import MagicMock, patch

import pgha_derive
import pgha_runner
import pgha_patroni
import pgha_patroni_state
import pgha_standby
import pgha_validate
import pytest
from salt.exceptions import CommandExecutionError

# the runner's mocked master and its fixtures (pytest finds imported fixtures)
from test_runner_pgha import (Master, configure_loader_modules, minion, run,  # noqa: F401 pylint: disable=unused-import
                              runner_log, three)
from pgha_unit_helpers import MINIMAL_VALID, PATRONI_CONFIG_UTILS
from test_derive import layers

STANDBY = {"host": "10.0.0.100", "port": 5432, "primary_slot_name": "dr", "cluster": "main",
           "create_replica_methods": ["basebackup"], "restore_command": "", "recovery_min_apply_delay": ""}
MAIN_SIDE = [{"name": "dr", "addresses": ["10.0.1.11", "10.0.1.12", "10.0.1.0/28"], "slot": "dr"}]


def _cfg(**settings):
    cfg = {"cluster_name": "dr", "cluster_vip": "10.0.1.100", "patroni": {"dcs_slots": {}}, "pgbouncer": {"enabled": "auto"}}
    cfg.update(copy.deepcopy(settings))
    return cfg


# -- validation ------------------------------------------------------------------------------------

def test_a_valid_standby_and_main_pass(defaults):
    standby = dict(MINIMAL_VALID, cluster_name="dr", cluster_vip="10.0.1.100", standby_cluster=STANDBY)
    main = dict(MINIMAL_VALID, cluster_vip="10.0.0.100", standby_clusters=MAIN_SIDE)
    assert pgha_validate.check(standby, defaults, {"os_family": "Debian"}) == []
    assert pgha_validate.check(main, defaults, {"os_family": "Debian"}) == []


def test_the_defaults_alone_are_no_standby():
    assert pgha_standby.rules(_cfg(standby_cluster={"host": "", "port": 5432,
                                                     "create_replica_methods": ["basebackup"]})) == []
    assert pgha_standby.patroni_section(_cfg(standby_cluster={"host": "", "port": 5432})) is None


def test_a_standby_of_its_own_node_address():
    found = pgha_standby.rules(_cfg(address="10.0.1.11", standby_cluster=dict(STANDBY, host="10.0.1.11")))
    assert [key for key, _ in found] == ["standby_cluster:host"]
    assert "standby of itself" in found[0][1]


def test_a_type_a_main_may_replicate_through_haproxys_direct_port():
    main = _cfg(cluster_name="main", with_haproxy_load_balancing=True, standby_clusters=MAIN_SIDE)
    [(key, message)] = pgha_standby.rules(main)
    assert key == "standby_clusters" and "1.23" in message and "direct_ports:master" in message
    main["haproxy"] = {"direct_ports": {"master": 6000}}
    assert pgha_standby.rules(main) == []
    main = _cfg(cluster_name="main", with_haproxy_load_balancing=True, standby_clusters=MAIN_SIDE,
                pgbouncer={"enabled": False})
    assert pgha_standby.rules(main) == []


# -- what the templates read -----------------------------------------------------------------------

def test_patroni_section_leaves_out_empty_values():
    assert pgha_standby.patroni_section(_cfg(standby_cluster=STANDBY)) == {
        "host": "10.0.0.100", "port": 5432, "primary_slot_name": "dr", "create_replica_methods": ["basebackup"]}
    delayed = pgha_standby.patroni_section(_cfg(standby_cluster=dict(STANDBY, recovery_min_apply_delay="5min",
                                                                     restore_command="cp /wal/%f %p")))
    assert delayed["recovery_min_apply_delay"] == "5min" and delayed["restore_command"] == "cp /wal/%f %p"


def test_main_side_slots_networks_and_names():
    cfg = pgha_standby.derive(_cfg(cluster_name="main", standby_clusters=MAIN_SIDE, patroni={"dcs_slots": {"s1": {"type": "physical"}}}))
    assert cfg["standby_dcs"] is None
    assert cfg["standby_main"] == {"slots": {"dr": {"type": "physical"}},
                                   "addresses": ["10.0.1.0/28", "10.0.1.11", "10.0.1.12"],
                                   "networks": ["10.0.1.0/28", "10.0.1.11/32", "10.0.1.12/32"], "names": ["dr"],
                                   "repo_clients": {}}
    assert cfg["patroni"]["dcs_slots"] == {"dr": {"type": "physical"}, "s1": {"type": "physical"}}


def test_settings_of_a_standby_cluster():
    pillar = dict(MINIMAL_VALID, cluster_name="dr", cluster_vip="10.0.1.100", standby_cluster=STANDBY)
    found = pgha_derive.settings(layers(), pillar, {})
    assert found["pgha"]["standby_dcs"]["host"] == "10.0.0.100"
    assert found["pgha"]["standby_main"]["slots"] == {}


# -- the highstate after a promotion ---------------------------------------------------------------

def test_dcs_conflict():
    want = {"standby_cluster": {"host": "10.0.0.100", "port": 5432}}
    assert pgha_standby.dcs_conflict(want, {"standby_cluster": {"host": "10.0.0.100"}}) is None
    assert pgha_standby.dcs_conflict({}, {"ttl": 30}) is None
    promoted = pgha_standby.dcs_conflict(want, {"ttl": 30}, "dr")
    assert "no longer a standby cluster" in promoted and "remove pgha:standby_cluster" in promoted
    assert "never turns a running primary back" in promoted
    forgotten = pgha_standby.dcs_conflict({}, want, "dr")
    assert "pgha.promote" in forgotten and '"cluster": "dr"' in forgotten


def test_dynamic_config_refuses_to_demote_a_promoted_cluster():
    edit = MagicMock()
    salt = {"pgha_patroni.leader": MagicMock(return_value="dr1"),
            "pgha_patroni.show_config": MagicMock(return_value={"ttl": 30}), "pgha_patroni.edit_config": edit}
    with patch.object(pgha_patroni_state, "__salt__", salt, create=True), \
            patch.object(pgha_patroni_state, "__opts__", {"test": False}, create=True), \
            patch.object(pgha_patroni_state, "__utils__", {"pgha_standby.dcs_conflict": pgha_standby.dcs_conflict},
                         create=True):
        ret = pgha_patroni_state.dynamic_config("dcs", {"standby_cluster": {"host": "10.0.0.100"}}, cluster="dr")
    assert ret["result"] is False and ret["changes"] == {}
    assert "cluster dr is no longer a standby cluster" in ret["comment"]
    edit.assert_not_called()


# -- promotion's guard -----------------------------------------------------------------------------

STREAMING = {"status": "streaming", "sender_host": "10.0.0.100", "sender_port": 5432, "last_msg_age_seconds": 1.0,
             "lag_bytes": 0, "is_standby_cluster": True}


def test_promote_refused_while_the_main_cluster_leads_or_streams():
    found = pgha_standby.promote_problems("dr", True, "main", "pg1", STREAMING)
    assert len(found) == 2
    assert "still has a running leader (pg1)" in found[0] and '"force": true' in found[0]
    assert "still streams from 10.0.0.100:5432" in found[1]
    assert pgha_standby.promote_problems("dr", True, "main", "pg1", STREAMING, force=True) == []


def test_promote_asks_whether_the_main_answers_rather_than_the_receiver():
    """Just after the loss, the WAL receiver still says streaming (until wal_receiver_timeout):
    the connection test decides."""
    lost = dict(STREAMING, main_reachable=False, host="10.0.0.100", port=5432)
    assert pgha_standby.promote_problems("dr", True, "main", None, lost) == []
    alive = dict(STREAMING, status=None, main_reachable=True, host="10.0.0.100", port=5432)
    [problem] = pgha_standby.promote_problems("dr", True, "main", None, alive)
    assert "still accepts connections at 10.0.0.100:5432" in problem


def test_promote_when_the_main_site_is_lost():
    lost = dict(STREAMING, status=None, last_msg_age_seconds=None)
    assert pgha_standby.promote_problems("dr", True, "main", None, lost) == []
    stale = dict(STREAMING, last_msg_age_seconds=120.0)
    assert pgha_standby.promote_problems("dr", True, "main", None, stale) == []


def test_promote_refuses_a_normal_cluster_and_a_bad_force():
    assert "is not a standby cluster" in pgha_standby.promote_problems("main", False, "", None, None)[0]
    assert "force must be true or false" in pgha_standby.promote_problems("dr", True, "", None, None, "yes")[0]


def test_summary_line():
    line = pgha_standby.summary("dr", dict(STREAMING, lag_bytes=8192, replay_delay_seconds=0.4), "main")
    assert line == ("Standby cluster dr of main (10.0.0.100:5432): WAL receiver streaming, lag 8192 bytes, "
                    "replay 0.4 s behind")
    assert "not running" in pgha_standby.summary("dr", {"host": "10.0.0.100", "port": 5432})


# -- the planner -----------------------------------------------------------------------------------

def _two_clusters(main_settings=None, standby=None):
    main = three("main", cluster_vip="10.0.0.100", standby_clusters=MAIN_SIDE, **(main_settings or {}))
    dr = {f"dr{i}": minion("dr", "postgresql", "etcd", cluster_vip="10.0.1.100",
                           standby_cluster=dict(STANDBY, **(standby or {}))) for i in (1, 2, 3)}
    return {**main, **dr}


def test_an_orchestration_without_cluster_names_both(run):
    plan = run(Master(_two_clusters()))
    assert plan["problems"] == ["this master knows several clusters (dr, main): name one with "
                                "pillar='{\"cluster\": \"NAME\"}'"]


def test_each_cluster_plans_its_own_minions(run):
    master = Master(_two_clusters())
    dr = run(master, cluster="dr", workflow="deploy")
    main = run(master, cluster="main", workflow="deploy")
    assert dr["problems"] == [] and main["problems"] == []
    assert dr["minions"]["all"] == ["dr1", "dr2", "dr3"] and main["minions"]["all"] == ["pg1", "pg2", "pg3"]
    assert dr["site"]["standby"] is True and dr["site"]["standby_of"] == "main"
    assert main["site"]["standby_clusters"] == ["dr"]
    assert all(set(minions) <= {"dr1", "dr2", "dr3"} for minions, _ in master.asked if minions)


def test_a_standby_of_a_type_a_main_behind_pgbouncer(run):
    plan = run(Master(_two_clusters({"with_haproxy_load_balancing": True}, {"port": 5000})),
               cluster="dr", workflow="deploy")
    assert any("main cluster main is Type A" in p and "1.23" in p for p in plan["problems"])


def test_a_standby_the_main_does_not_list(run):
    pillars = _two_clusters()
    for name in ("pg1", "pg2", "pg3"):
        pillars[name]["pgha"]["standby_clusters"] = []
    plan = run(Master(pillars), cluster="dr", workflow="deploy")
    assert any("does not list dr" in p for p in plan["problems"])


def test_a_standby_of_its_own_member(run):
    pillars = _two_clusters(standby={"host": "10.0.0.1"})   # dr1's address in the mocked mine
    plan = run(Master(pillars), cluster="dr", workflow="deploy")
    assert any("is a node of cluster dr itself" in p for p in plan["problems"])


def test_promote_plan_refused_while_the_main_leads(run):
    master = Master(_two_clusters(), answers={"pgha_patroni.leader": {"pg1": "pg1"},
                                              "pgha_patroni.standby_status": {"dr1": STREAMING}})
    plan = run(master, cluster="dr", workflow="promote")
    assert plan["retcode"] == 1 and len(plan["problems"]) == 2
    assert (["pg1", "pg2", "pg3"], "pgha_patroni.leader") in master.asked
    forced = run(master, cluster="dr", workflow="promote", force=True)
    assert forced["problems"] == [] and forced["promote"]["node"] == "dr1"
    assert forced["promote"]["receiver"]["status"] == "streaming"


def test_promote_plan_when_the_main_is_lost(run):
    lost = dict(STREAMING, status=None, last_msg_age_seconds=None, lag_bytes=4096)
    master = Master(_two_clusters(), answers={"pgha_patroni.standby_status": {"dr2": lost, "dr3": lost}})
    plan = run(master, cluster="dr", workflow="promote")
    assert plan["problems"] == [] and plan["promote"]["node"] == "dr2"
    assert plan["promote"]["receiver"]["lag_bytes"] == 4096
    # the lost site's minions are asked with short timeouts, not the master's (60 s in the lab)
    assert master.timeouts["pgha_patroni.leader"] == (pgha_runner.MAIN_SITE_TIMEOUT,) * 2


def test_promote_plan_of_a_normal_cluster(run):
    plan = run(Master(_two_clusters(), answers={"pgha_patroni.standby_status": {"pg1": {"is_standby_cluster": False}}}),
               cluster="main", workflow="promote")
    assert "is not a standby cluster" in plan["problems"][0]


# -- the module: a standby leader ------------------------------------------------------------------

def test_a_streaming_standby_leader_is_the_leader():
    data = {"members": [{"name": "dr1", "role": "standby_leader", "state": "streaming", "host": "10.0.1.11"},
                        {"name": "dr2", "role": "replica", "state": "streaming"}]}
    assert pgha_patroni._leader(data)["name"] == "dr1"
    data["members"][0]["state"] = "stopped"
    assert pgha_patroni._leader(data) is None


def test_the_standby_leader_gate_checks_its_wal_receiver():
    lead = {"name": "dr1", "host": "10.0.1.11"}
    row = ("streaming", "10.0.0.100", 5432, 1024, 0.5, 2.0, True)
    with patch.object(pgha_patroni, "_sql", MagicMock(return_value=row)):
        ok, why = pgha_patroni._standby_leader_check(lead, {})
    assert ok and why == "standby leader dr1 streams from 10.0.0.100:5432, lag 1024 bytes"
    with patch.object(pgha_patroni, "_sql", MagicMock(return_value=(None,) * 6 + (True,))):
        ok, why = pgha_patroni._standby_leader_check(lead, {"bootstrap": {"dcs": {"standby_cluster": STANDBY}}})
    assert not ok and "does not stream from the main cluster (10.0.0.100:5432)" in why


def _patroni_utils():
    """pgha_patroni's utils (this file's loader fixture is the runner's)."""
    return patch.object(pgha_patroni, "__utils__", PATRONI_CONFIG_UTILS, create=True)


def test_promote_needs_the_cluster_name():
    with patch.object(pgha_patroni, "_config", MagicMock(return_value={"scope": "dr"})), _patroni_utils():
        with pytest.raises(CommandExecutionError,
                           match="promote refused: it must be confirmed with this node's cluster name 'dr', got 'main'"):
            pgha_patroni.promote("main")


def test_promote_removes_standby_cluster_and_waits_for_writes():
    requests = []

    def request(path, method="GET", body=None, host=None, timeout=5, conf=None):
        requests.append((path, method, body))
        return 200, {}

    leader = {"members": [{"name": "dr1", "role": "leader", "state": "running", "host": "10.0.1.11"}]}
    with patch.object(pgha_patroni, "_config", MagicMock(return_value={"scope": "dr"})), \
            patch.object(pgha_patroni, "show_config", MagicMock(return_value={"standby_cluster": STANDBY})), \
            patch.object(pgha_patroni, "_request", request), \
            patch.object(pgha_patroni, "cluster", MagicMock(return_value=leader)), \
            patch.object(pgha_patroni, "_sql", MagicMock(return_value=(False, 1234))), _patroni_utils():
        found = pgha_patroni.promote("dr")
    assert requests == [("/config", "PATCH", {"standby_cluster": None})]
    assert found["leader"] == "dr1" and "promoted" in found["comment"]


# -- the orchestration -----------------------------------------------------------------------------

def test_promote_orchestration_needs_a_cluster_name():
    from test_orch_render import OnlyPillar, render, steps  # pylint: disable=import-outside-toplevel
    found = steps(render("pgha/promote.sls", OnlyPillar({})))
    assert list(found) == ["pgha-promote-refused"]
    assert "needs the standby cluster's name" in found["pgha-promote-refused"][1]["comment"]
    named = steps(render("pgha/promote.sls", OnlyPillar({"cluster": "dr", "force": True})))
    assert named["pgha-promote-steps"][1]["pillar"] == {"cluster": "dr", "force": True}


def test_promote_steps_target_the_standby_only(defaults):
    from test_orch_render import WithPlan, assert_exact_targets, render, steps  # pylint: disable=import-outside-toplevel
    lost = dict(STREAMING, status=None, main_reachable=False, lag_bytes=4096)
    master = Master(_two_clusters(), answers={"pgha_patroni.standby_status": {"dr1": lost}})
    found = steps(render("pgha/steps/promote.sls", WithPlan({"cluster": "dr"}, master, defaults)))
    assert_exact_targets(found)
    assert list(found) == ["pgha-promote-lag-reported", "pgha-promote", "pgha-promote-vip-ready",
                           "pgha-promote-summary"]
    assert found["pgha-promote"][1]["tgt"] == "dr1"
    assert found["pgha-promote"][1]["kwarg"] == {"confirm": "dr"}
    assert found["pgha-promote-vip-ready"][1]["tgt"] == "dr1,dr2,dr3"
    assert '"lag_bytes": 4096' in found["pgha-promote-lag-reported"][1]["name"]


def test_promote_steps_refused_while_the_main_leads(defaults):
    from test_orch_render import WithPlan, render, steps  # pylint: disable=import-outside-toplevel
    master = Master(_two_clusters(), answers={"pgha_patroni.leader": {"pg2": "pg2"},
                                              "pgha_patroni.standby_status": {"dr1": STREAMING}})
    found = steps(render("pgha/steps/promote.sls", WithPlan({"cluster": "dr"}, master, defaults)))
    assert list(found) == ["pgha-promote-refused"]
    assert "still has a running leader (pg2)" in found["pgha-promote-refused"][1]["comment"]


def test_the_summaries_of_a_standby_cluster_name_its_main(defaults):
    from test_orch_render import WithPlan, render, steps  # pylint: disable=import-outside-toplevel
    master = Master(_two_clusters())
    config = steps(render("pgha/steps/config.sls", WithPlan({"cluster": "dr"}, master, defaults)))
    assert config["pgha-config-summary"][1]["kwarg"] == {"main": "main"}
    deploy = steps(render("pgha/steps/deploy.sls", WithPlan({"cluster": "dr"}, master, defaults)))
    assert deploy["pgha-cluster-summary"][1]["kwarg"] == {"vip": "10.0.1.100", "main": "main"}
    main = steps(render("pgha/steps/config.sls", WithPlan({"cluster": "main"}, master, defaults)))
    assert "kwarg" not in main["pgha-config-summary"][1]


# -- a standby cluster restoring from its main cluster's repository host (h10-drrepo) ------------

REPO_STANDBY = dict(STANDBY, create_replica_methods=["pgbackrest", "basebackup"],
                    pgbackrest={"enabled": True, "stanza": "", "repo_host_user": "pgbackrest"})
REPO_MAIN = {"cluster_name": "main", "pgbackrest": {"enabled": True, "stanza": "", "repo_host_user": "pgbackrest"},
             "standby_clusters": [dict(MAIN_SIDE[0], pgbackrest=True)]}


def test_standby_reads_the_main_stanza_and_restores_its_wal():
    cfg = pgha_standby.derive(_cfg(standby_cluster=REPO_STANDBY, pgbackrest={"enabled": True},
                                   paths={"pgbackrest_bin": "/usr/bin/pgbackrest"}))
    assert cfg["standby_repo"] == {"stanza": "main", "user": "pgbackrest", "cluster": "main", "host": "", "minion": ""}
    assert cfg["standby_dcs"]["restore_command"] == '/usr/bin/pgbackrest --stanza=main archive-get %f "%p"'
    assert cfg["standby_dcs"]["create_replica_methods"] == ["pgbackrest", "basebackup"]
    # a restore_command of the pillar's own is kept
    own = pgha_standby.derive(_cfg(standby_cluster=dict(REPO_STANDBY, restore_command="cp /wal/%f %p"),
                                   pgbackrest={"enabled": True}))
    assert own["standby_dcs"]["restore_command"] == "cp /wal/%f %p"


def test_repository_hosts_from_the_mine_each_side():
    clusters = {"main": {"pgbackrest": {"repo2": "10.0.0.42", "repo1": "10.0.0.41"}, "postgresql": {"pg1": "10.0.0.11"}},
                "dr": {"pgbackrest": {}, "postgresql": {"dr1": "10.0.1.11", "dr2": "10.0.1.12"}}}
    standby = pgha_standby.derive(_cfg(standby_cluster=REPO_STANDBY, pgbackrest={"enabled": True}))
    pgha_standby.with_repository_hosts(standby, clusters.get)
    assert (standby["standby_repo"]["minion"], standby["standby_repo"]["host"]) == ("repo1", "10.0.0.41")
    assert standby["standby_main"]["repo_clients"] == {}
    main = pgha_standby.derive(_cfg(cluster_name="main", standby_clusters=REPO_MAIN["standby_clusters"]))
    pgha_standby.with_repository_hosts(main, clusters.get)
    assert main["standby_main"]["repo_clients"] == {"dr1": "10.0.1.11", "dr2": "10.0.1.12"}
    assert main["standby_repo"] is None
    # without the opt-in, the main's repository host trusts nobody of the standby's
    plain = pgha_standby.derive(_cfg(cluster_name="main", standby_clusters=MAIN_SIDE))
    assert pgha_standby.with_repository_hosts(plain, clusters.get)["standby_main"]["repo_clients"] == {}


def test_settings_find_the_main_repository_host_by_exact_name():
    mine = {"dr1": {"cluster_name": "dr", "roles": ["postgresql", "etcd"], "address": "10.0.1.11"},
            "repo1": {"cluster_name": "main", "roles": ["pgbackrest"], "address": "10.0.0.41"},
            "repo8": {"cluster_name": "Main", "roles": ["pgbackrest"], "address": "10.0.0.8"}}
    pillar = dict(copy.deepcopy(MINIMAL_VALID), cluster_name="dr", cluster_vip="10.0.1.100", address="10.0.1.11",
                  roles=["postgresql", "etcd"], pgbackrest={"enabled": True}, standby_cluster=REPO_STANDBY)
    cfg = pgha_derive.settings(layers(), pillar, mine)["pgha"]
    assert cfg["standby_repo"]["host"] == "10.0.0.41" and cfg["standby_repo"]["minion"] == "repo1"
    assert cfg["pgbackrest"]["repo_host"] == ""      # the standby has no repository host of its own


@pytest.mark.parametrize("main,repo_host,expected", [
    (REPO_MAIN, True, []),
    (dict(REPO_MAIN, standby_clusters=MAIN_SIDE), True, ["set pgbackrest: true in its standby_clusters entry"]),
    (dict(REPO_MAIN, pgbackrest={"enabled": False}), True, ["has no pgBackRest"]),
    (REPO_MAIN, False, ["has no repository host"]),
    (dict(REPO_MAIN, pgbackrest={"enabled": True, "stanza": "prod"}), True, ["is not the main cluster's stanza (prod)"]),
    (dict(REPO_MAIN, pgbackrest={"enabled": True, "repo_host_user": "backup"}), True,
     ["is not the main cluster's repository user (backup)"]),
])
def test_planner_compares_the_repository_with_the_main(main, repo_host, expected):
    found = pgha_standby.cross_cluster_problems("dr", REPO_STANDBY, ["10.0.1.11"], main, main_repo_host=repo_host)
    assert len(found) == len(expected), found
    for problem, text in zip(found, expected):
        assert problem.startswith("pgha:standby_cluster:pgbackrest") and text in problem, problem


def test_planner_leaves_basebackup_standbys_alone():
    assert pgha_standby.cross_cluster_problems("dr", STANDBY, [], dict(REPO_MAIN, pgbackrest={"enabled": False}),
                                               main_repo_host=False) == []


def test_planner_finds_the_main_repository_host_among_the_minions(run):
    repo = {"enabled": True, "stanza": "", "repo_host_user": "pgbackrest"}
    pillars = _two_clusters({"pgbackrest": repo},
                            {"create_replica_methods": ["pgbackrest", "basebackup"], "pgbackrest": {"enabled": True}})
    for name in ("pg1", "pg2", "pg3"):
        pillars[name]["pgha"]["standby_clusters"] = REPO_MAIN["standby_clusters"]
    for name in ("dr1", "dr2", "dr3"):
        pillars[name]["pgha"]["pgbackrest"] = {"enabled": True}
    without = run(Master(pillars), cluster="dr", workflow="deploy")
    assert any("has no repository host" in p for p in without["problems"]), without["problems"]
    pillars["repo1"] = minion("main", "pgbackrest", pgbackrest=repo)
    plan = run(Master(pillars), cluster="dr", workflow="deploy")
    assert plan["problems"] == [], plan["problems"]
    assert plan["site"]["standby_repo_stanza"] == "main"
