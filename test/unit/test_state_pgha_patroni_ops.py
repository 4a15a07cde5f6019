"""Unit tests of pgha_patroni's day-2 states (dynamic_config, pending_restart, restarted,
switched_over, tags_applied, maintenance_ready), with the execution module mocked."""
from unittest.mock import MagicMock, call, patch

import pgha_patroni_state as state
import pgha_standby
import pytest
from salt.exceptions import CommandExecutionError


@pytest.fixture
def configure_loader_modules():
    return {state: {"__salt__": {}, "__opts__": {"test": False}, "__pillar__": {}, "__context__": {},
                    "__utils__": {"pgha_standby.dcs_conflict": pgha_standby.dcs_conflict}}}


class Seq(list):
    """Answers of a mocked function, one per call."""


def _salt(**funcs):
    """patch.dict of __salt__ with pgha_patroni.<name> mocks (a value, an exception, or Seq)."""
    mocks = {}
    funcs.setdefault("show_config", {})     # the DCS's configuration (the standby check reads it)
    for name, value in funcs.items():
        mocks["pgha_patroni." + name] = (MagicMock(side_effect=value) if isinstance(value, (Exception, Seq))
                                         else MagicMock(return_value=value))
    return patch.dict(state.__salt__, mocks), mocks


def _test_mode(on=True):
    return patch.dict(state.__opts__, {"test": on})


# -- dynamic_config ----------------------------------------------------------------------------

DIFF = {"loop_wait": {"old": 10, "new": 5},
        "postgresql.parameters.max_connections": {"old": 200, "new": 100}}


def test_dynamic_config_without_leader_changes_nothing():
    patcher, mocks = _salt(leader=None, edit_config={"changes": {}})
    with patcher:
        ret = state.dynamic_config("dcs", {"ttl": 30})
    assert ret["result"] is True and ret["changes"] == {}
    assert "bootstrap writes" in ret["comment"]
    mocks["pgha_patroni.edit_config"].assert_not_called()


def test_dynamic_config_matches():
    patcher, mocks = _salt(leader="pg1", edit_config={"changes": {}})
    with patcher:
        ret = state.dynamic_config("dcs", {"ttl": 30})
    assert ret == {"name": "dcs", "result": True, "changes": {},
                   "comment": "the dynamic configuration matches"}
    mocks["pgha_patroni.edit_config"].assert_called_once_with({"ttl": 30}, test=True)


def test_dynamic_config_test_mode_shows_the_diff():
    patcher, mocks = _salt(leader="pg1", edit_config={"changes": DIFF})
    with patcher, _test_mode():
        ret = state.dynamic_config("dcs", {"loop_wait": 5})
    assert ret["result"] is None and ret["changes"] == DIFF
    assert ret["comment"] == "would patch loop_wait, postgresql.parameters.max_connections"
    assert mocks["pgha_patroni.edit_config"].call_count == 1


def test_dynamic_config_patches_and_reports_restart():
    patcher, mocks = _salt(leader="pg1", edit_config={"changes": DIFF},
                           restart_params=["max_connections"])
    with patcher:
        ret = state.dynamic_config("dcs", {"loop_wait": 5})
    assert ret["result"] is True and ret["changes"] == DIFF
    assert "needs a restart: max_connections (salt-run state.orch pgha.restart)" in ret["comment"]
    assert mocks["pgha_patroni.edit_config"].call_args_list[-1] == call({"loop_wait": 5})
    mocks["pgha_patroni.restart_params"].assert_called_once_with(["max_connections"])


def test_dynamic_config_reload_only():
    patcher, mocks = _salt(leader="pg1", edit_config={"changes": {"ttl": {"old": 30, "new": 40}}})
    with patcher:
        ret = state.dynamic_config("dcs", {"ttl": 40})
    assert ret["comment"] == "patched ttl; applied with a reload"


def test_dynamic_config_while_patroni_starts():
    patcher, _ = _salt(leader=CommandExecutionError("Patroni REST API unreachable"))
    with patcher:
        ret = state.dynamic_config("dcs", {})
    assert ret["result"] is True and ret["changes"] == {}
    assert ret["comment"].startswith("Patroni REST API unreachable: nothing to patch")


def test_dynamic_config_error():
    patcher, _ = _salt(leader="pg1", edit_config=CommandExecutionError("Patroni /config answered 503"))
    with patcher:
        ret = state.dynamic_config("dcs", {})
    assert ret == {"name": "dcs", "result": False, "changes": {},
                   "comment": "Patroni /config answered 503"}


PAUSED = "true  # paused"
PUSH = {"postgresql": {"parameters": {"archive_command": "pgbackrest archive-push %p", "archive_mode": "on"}}}


def _archive(config):
    return config["postgresql"]["parameters"]["archive_command"]


@pytest.mark.parametrize("archiving,current,enforced,noted", [
    ("keep", PAUSED, PAUSED, True),                       # a pause after a restore stays
    ("keep", "pgbackrest archive-push %p", "pgbackrest archive-push %p", False),
    ("pause", "pgbackrest archive-push %p", PAUSED, True),
    ("resume", PAUSED, "pgbackrest archive-push %p", False),
])
def test_dynamic_config_archiving(archiving, current, enforced, noted):
    patcher, mocks = _salt(leader="pg1", edit_config={"changes": {}},
                           show_config={"postgresql": {"parameters": {"archive_command": current}}})
    with patcher:
        ret = state.dynamic_config("dcs", PUSH, archiving=archiving, paused_archive_command=PAUSED)
    assert _archive(mocks["pgha_patroni.edit_config"].call_args[0][0]) == enforced
    assert ("resume it with salt-run state.orch pgha.config" in ret["comment"]) is noted
    assert _archive(PUSH) == "pgbackrest archive-push %p"      # the caller's config is not changed


def test_dynamic_config_archiving_unknown():
    patcher, _ = _salt(leader="pg1")
    with patcher:
        ret = state.dynamic_config("dcs", PUSH, archiving="stop", paused_archive_command=PAUSED)
    assert ret["result"] is False and ret["comment"] == "archiving must be one of keep, pause, resume, not 'stop'"


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_cluster_removed(test):
    patcher, mocks = _salt(remove_cluster="cluster main removed from the DCS")
    with patcher, _test_mode(test):
        ret = state.cluster_removed("main", patronictl="/usr/bin/patronictl")
    assert ret["result"] is (None if test else True) and ret["changes"] == {"removed": "main"}
    assert mocks["pgha_patroni.remove_cluster"].call_count == (0 if test else 1)


# -- pending_restart ---------------------------------------------------------------------------

def test_pending_restart_reports_without_changes():
    patcher, mocks = _salt(status={"state": "running"}, pending_restart=["shared_buffers"])
    with patcher:
        ret = state.pending_restart("pending")
    assert ret == {"name": "pending", "result": True, "changes": {},
                   "comment": "pending restart: shared_buffers (salt-run state.orch pgha.restart applies it)"}


def test_pending_restart_watch_waits_until_applied():
    patcher, mocks = _salt(status={"state": "running"}, wait_applied=[])
    with patcher:
        ret = state.mod_watch("pending", sfun="pending_restart")
    assert ret["result"] is True and ret["comment"] == "no restart pending"
    mocks["pgha_patroni.wait_applied"].assert_called_once_with(timeout=30)


def test_pending_restart_watch_in_test_mode_does_not_wait():
    patcher, mocks = _salt(status={"state": "running"}, pending_restart=[], wait_applied=[])
    with patcher, _test_mode():
        state.mod_watch("pending", sfun="pending_restart")
    mocks["pgha_patroni.wait_applied"].assert_not_called()


@pytest.mark.parametrize("status", [{"state": "starting"}, CommandExecutionError("refused")])
def test_pending_restart_before_postgresql_runs(status):
    patcher, mocks = _salt(status=status, pending_restart=[])
    with patcher:
        ret = state.mod_watch("pending", sfun="pending_restart")
    assert ret["result"] is True and "nothing to report" in ret["comment"]
    mocks["pgha_patroni.pending_restart"].assert_not_called()


def test_pending_restart_not_applied_fails():
    patcher, _ = _salt(status={"state": "running"},
                       wait_applied=CommandExecutionError("Patroni has not applied work_mem after 30s"))
    with patcher:
        ret = state.mod_watch("pending", sfun="pending_restart")
    assert ret["result"] is False and "work_mem" in ret["comment"]


def test_mod_watch_of_other_functions():
    assert state.mod_watch("x", sfun="healthy")["result"] is False


# -- restarted ---------------------------------------------------------------------------------

def test_restarted_rejects_unknown_stage():
    assert "stage must be" in state.restarted("r", stage="all")["comment"]


@pytest.mark.parametrize("stage,leads", [("replica", True), ("leader", False), ("primary_first", False)])
def test_restarted_other_role_does_nothing(stage, leads):
    patcher, mocks = _salt(is_leader=leads, restart=None)
    with patcher:
        ret = state.restarted("r", stage=stage)
    assert ret["result"] is True and ret["changes"] == {} and "nothing to do" in ret["comment"]
    mocks["pgha_patroni.restart"].assert_not_called()


def test_restarted_nothing_pending():
    patcher, mocks = _salt(is_leader=False, pending_restart=[], restart=None)
    with patcher:
        ret = state.restarted("r", stage="replica")
    assert ret["comment"] == "no restart pending" and ret["changes"] == {}
    mocks["pgha_patroni.restart"].assert_not_called()


def test_restarted_replica():
    patcher, mocks = _salt(is_leader=False, pending_restart=Seq([["shared_buffers"], []]),
                           restart={"pg2": True}, wait_healthy="streaming", wait_replayed="ok",
                           wait_restart_flagged="ok")
    with patcher:
        ret = state.restarted("r", stage="replica", timeout=99)
    assert ret["result"] is True and ret["changes"] == {"restarted": ["shared_buffers"]}
    mocks["pgha_patroni.restart"].assert_called_once_with(timeout=99)
    mocks["pgha_patroni.wait_healthy"].assert_called_once_with(role="replica", timeout=99)
    mocks["pgha_patroni.wait_replayed"].assert_called_once_with(timeout=99)   # before the restart
    mocks["pgha_patroni.wait_restart_flagged"].assert_called_once_with()     # Patroni applied it


def test_restarted_replica_test_mode():
    patcher, mocks = _salt(is_leader=False, pending_restart=["shared_buffers"], restart=None)
    with patcher, _test_mode():
        ret = state.restarted("r", stage="replica")
    assert ret["result"] is None and "would restart (replica)" in ret["comment"]
    mocks["pgha_patroni.restart"].assert_not_called()


def test_restarted_still_pending_fails():
    patcher, _ = _salt(is_leader=False, pending_restart=Seq([["max_connections"], ["max_connections"]]),
                       restart={"pg2": True}, wait_healthy="ok", wait_replayed="ok",
                       wait_restart_flagged="ok")
    with patcher:
        ret = state.restarted("r", stage="replica")
    assert ret["result"] is False
    assert ret["comment"] == "still pending after the restart: max_connections"


def test_restarted_primary_first_only_when_a_minimum_goes_down():
    patcher, mocks = _salt(is_leader=True, pending_restart=["work_mem"], decreasing=[], restart=None)
    with patcher:
        ret = state.restarted("r", stage="primary_first")
    assert "restarts last" in ret["comment"]
    mocks["pgha_patroni.restart"].assert_not_called()
    patcher, mocks = _salt(is_leader=True, pending_restart=Seq([["max_connections"], []]),
                           decreasing=["max_connections"], restart={"pg1": True}, wait_healthy="ok",
                           wait_restart_flagged="ok")
    with patcher:
        ret = state.restarted("r", stage="primary_first")
    assert ret["changes"] == {"restarted": ["max_connections"]}
    mocks["pgha_patroni.wait_healthy"].assert_called_once_with(role="leader", timeout=300)


def test_restarted_leader_switches_over_first():
    patcher, mocks = _salt(is_leader=True, pending_restart=Seq([["shared_buffers"], [], []]), wait_restart_flagged="ok",
                           switchover={"from": "pg1", "to": "pg2"}, restart=None, wait_healthy="ok")
    with patcher:
        ret = state.restarted("r", stage="leader")
    assert ret["changes"] == {"switchover": {"old": "pg1", "new": "pg2"}}
    mocks["pgha_patroni.restart"].assert_not_called()     # the switchover restarted it
    assert mocks["pgha_patroni.wait_healthy"].call_args_list == [
        call(role="replica", timeout=300), call(role="replica", timeout=300)]


def test_restarted_forced_leader_restarts_after_switchover():
    patcher, mocks = _salt(is_leader=True, pending_restart=Seq([[], []]),
                           switchover={"from": "pg1", "to": "pg3"}, restart={"pg1": True},
                           wait_healthy="ok")
    with patcher:
        ret = state.restarted("r", stage="leader", pending_only=False)
    assert ret["changes"] == {"switchover": {"old": "pg1", "new": "pg3"}, "restarted": ["(all)"]}


def test_restarted_error():
    patcher, _ = _salt(is_leader=True, pending_restart=["x"], wait_restart_flagged="ok",
                       switchover=CommandExecutionError("switchover refused: no running replica"))
    with patcher:
        ret = state.restarted("r", stage="leader")
    assert ret["result"] is False and ret["comment"] == "switchover refused: no running replica"


# -- switched_over -----------------------------------------------------------------------------

def test_switched_over_already_leader_or_not_the_node_to_leave():
    patcher, mocks = _salt(leader="pg2", switchover=None)
    with patcher:
        assert state.switched_over("s", candidate="pg2")["changes"] == {}
        ret = state.switched_over("s", away_from="pg1")
    assert ret["comment"] == "pg1 is not the leader (pg2 is)" and ret["changes"] == {}
    mocks["pgha_patroni.switchover"].assert_not_called()


def test_switched_over():
    patcher, mocks = _salt(leader="pg1", switchover={"from": "pg1", "to": "pg3"}, wait_healthy="ok")
    with patcher:
        ret = state.switched_over("s", away_from="pg1", max_lag_bytes=10)
    assert ret["changes"] == {"leader": {"old": "pg1", "new": "pg3"}}
    mocks["pgha_patroni.switchover"].assert_called_once_with(candidate=None, max_lag_bytes=10, timeout=60)
    mocks["pgha_patroni.wait_healthy"].assert_called_once_with(role="leader", timeout=60)


def test_switched_over_test_mode():
    patcher, mocks = _salt(leader="pg1", candidate="pg2", switchover=None)
    with patcher, _test_mode():
        ret = state.switched_over("s")
    assert ret["result"] is None and ret["changes"] == {"leader": {"old": "pg1", "new": "pg2"}}
    mocks["pgha_patroni.switchover"].assert_not_called()


def test_switched_over_refused():
    error = CommandExecutionError("switchover refused: no synchronous candidate while "
                                  "synchronous_mode_strict is on")
    patcher, _ = _salt(leader="pg1", switchover=error)
    with patcher:
        ret = state.switched_over("s")
    assert ret == {"name": "s", "result": False, "changes": {}, "comment": str(error)}


# -- gates ---------------------------------------------------------------------------------------

def test_tags_applied_and_maintenance_ready():
    patcher, mocks = _salt(wait_tags="Patroni runs with tags none",
                           wait_maintenance_ready="within limits")
    with patcher:
        assert state.tags_applied("t")["comment"] == "Patroni runs with tags none"
        ret = state.maintenance_ready("m", 10, 15, timeout=5)
    assert ret == {"name": "m", "result": True, "changes": {}, "comment": "within limits"}
    mocks["pgha_patroni.wait_maintenance_ready"].assert_called_once_with(10, 15, timeout=5)
