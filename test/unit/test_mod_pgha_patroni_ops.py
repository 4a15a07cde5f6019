"""Unit tests of pgha_patroni's day-2 functions: switchover candidates, failover, restart,
reload, reinit, pause/resume, dynamic configuration, history, list/topology, pending
restarts and the maintenance gates. Same fakes as test_mod_pgha_patroni (REST behind urlopen,
psycopg2 mocked, the config file in tmp_path)."""
import copy
import json
import urllib.error
from unittest.mock import MagicMock, patch

import pgha_patroni
import pytest
from salt.exceptions import CommandExecutionError
from test_mod_pgha_patroni import (CLUSTER, CONFIG, LEADER, ME_LEADER, ME_REPLICA,  # noqa: F401
                                   _patroni, config_file, configure_loader_modules)


def _cluster(**by_name):
    """CLUSTER with members changed: _cluster(pg2={"role": "sync_standby"})."""
    data = copy.deepcopy(CLUSTER)
    for member in data["members"]:
        member.update(by_name.get(member["name"], {}))
    return data


def _rows(*answers):
    """A psycopg2 mock whose cursor answers fetchone/fetchall in turn."""
    module = MagicMock(name="psycopg2")
    cursor = module.connect.return_value.cursor.return_value.__enter__.return_value
    cursor.fetchall.side_effect = [a for a in answers if isinstance(a, list)]
    cursor.fetchone.side_effect = [a for a in answers if isinstance(a, tuple)]
    return patch.object(pgha_patroni, "psycopg2", module), cursor


def _body(fake, method, path):
    for req, _ in fake.requests:
        if req.get_method() == method and req.full_url.endswith(path):
            return req.full_url, json.loads(req.data) if req.data else None
    raise AssertionError(f"no {method} {path} in {[r.full_url for r, _ in fake.requests]}")


# -- candidate / switchover --------------------------------------------------------------------

@pytest.mark.parametrize("cluster,dcs,max_lag,expected", [
    (CLUSTER, {}, None, "pg2"),                                           # least lag
    (_cluster(pg2={"tags": {"nofailover": True}}), {}, None, "pg3"),       # tagged out
    (_cluster(pg3={"role": "sync_standby"}), {"synchronous_mode": True}, None, "pg3"),
    (_cluster(pg2={"lag": 5}, pg3={"lag": 1}), {}, 10, "pg3"),
], ids=["least-lag", "nofailover", "sync-standby", "within-lag"])
def test_candidate(cluster, dcs, max_lag, expected):
    patcher, _ = _patroni({("GET", "/cluster"): (200, cluster), ("GET", "/config"): (200, dcs)})
    with patcher:
        assert pgha_patroni.candidate(max_lag_bytes=max_lag) == expected


@pytest.mark.parametrize("cluster,dcs,wanted,max_lag,message", [
    (CLUSTER, {"synchronous_mode": True, "synchronous_mode_strict": True}, None, None,
     "switchover refused: no synchronous candidate while synchronous_mode_strict is on"),
    (_cluster(pg3={"role": "sync_standby"}), {"synchronous_mode": True}, "pg2", None,
     "switchover refused: pg2 is not a synchronous standby and synchronous_mode is on "
     "\\(choose one of: pg3\\)"),
    (CLUSTER, {}, "pg1", None, "switchover refused: candidate pg1 is leader/running, not a running replica"),
    (_cluster(pg2={"state": "stopped"}), {}, "pg2", None, "candidate pg2 is replica/stopped"),
    (CLUSTER, {}, "pg9", None, "no member 'pg9' in this cluster \\(members: pg1, pg2, pg3\\)"),
    (_cluster(pg2={"lag": 50}, pg3={"lag": "unknown"}), {}, None, 10,
     "switchover refused: no candidate within 10 bytes of lag \\(pg2=50, pg3=unknown\\)"),
    (_cluster(pg2={"state": "stopped"}, pg3={"tags": {"nofailover": True}}), {}, None, None,
     "switchover refused: no running replica to switch over to"),
], ids=["strict-no-sync", "not-sync", "leader", "stopped", "unknown", "lag", "none"])
def test_switchover_refusals_name_the_reason(cluster, dcs, wanted, max_lag, message):
    patcher, fake = _patroni({("GET", "/cluster"): (200, cluster), ("GET", "/config"): (200, dcs)})
    with patcher, pytest.raises(CommandExecutionError, match=message):
        pgha_patroni.switchover(candidate=wanted, max_lag_bytes=max_lag)
    assert all(req.get_method() == "GET" for req, _ in fake.requests)   # nothing was asked


def test_switchover_posts_to_the_leader():
    patcher, fake = _patroni({("GET", "/cluster"): (200, CLUSTER), ("GET", "/config"): (200, {}),
                              ("POST", "/switchover"): (200, "ok")})
    with patcher:
        pgha_patroni.switchover(max_lag_bytes=1048576)
    url, body = _body(fake, "POST", "/switchover")
    assert url == "http://10.0.0.11:8008/switchover"
    assert body == {"leader": "pg1", "candidate": "pg2"}


# -- failover ----------------------------------------------------------------------------------

def test_failover_refused_with_a_running_leader():
    patcher, fake = _patroni({("GET", "/cluster"): (200, CLUSTER)})
    with patcher, pytest.raises(CommandExecutionError,
                                match="failover refused: pg1 is a running leader; use pgha_patroni.switchover"):
        pgha_patroni.failover("pg2")
    assert len(fake.requests) == 1


@pytest.mark.parametrize("force", [False, True])
def test_failover(force):
    cluster = CLUSTER if force else _cluster(pg1={"state": "stopped"})
    patcher, fake = _patroni({("GET", "/cluster"): (200, cluster),
                              ("POST", "/failover"): (200, "Successfully failed over to \"pg3\"")})
    with patcher:
        result = pgha_patroni.failover("pg3", force=force)
    assert result["to"] == "pg3" and result["from"] == ("pg1" if force else None)
    url, body = _body(fake, "POST", "/failover")
    assert url == "http://10.0.0.13:8008/failover" and body == {"candidate": "pg3"}


def test_failover_to_a_stopped_member():
    patcher, _ = _patroni({("GET", "/cluster"): (200, _cluster(pg1={"state": "stopped"},
                                                               pg3={"state": "stopped"}))})
    with patcher, pytest.raises(CommandExecutionError, match="candidate pg3 is stopped"):
        pgha_patroni.failover("pg3")


def test_failover_refused_by_patroni():
    patcher, _ = _patroni({("GET", "/cluster"): (200, _cluster(pg1={"state": "stopped"})),
                           ("POST", "/failover"): (412, "failover is not possible")})
    with patcher, pytest.raises(CommandExecutionError, match="failover refused by Patroni \\(412\\)"):
        pgha_patroni.failover("pg2")


# -- restart / reload / reinit -----------------------------------------------------------------

def test_restart_this_node():
    patcher, fake = _patroni({("GET", "/patroni"): (200, ME_LEADER),
                              ("POST", "/restart"): (200, "restarted successfully")})
    with patcher:
        assert pgha_patroni.restart() == {"pg1": True}
    url, body = _body(fake, "POST", "/restart")
    assert url == "http://10.0.0.11:8008/restart" and body == {}


def test_restart_other_member_only_when_pending():
    patcher, fake = _patroni({("GET", "/cluster"): (200, CLUSTER),
                              ("GET", "/patroni"): (200, ME_REPLICA)})
    with patcher:
        assert pgha_patroni.restart(member="pg3", pending_only=True) == {"pg3": False}
    assert fake.requests[-1][0].full_url == "http://10.0.0.13:8008/patroni"


def test_restart_pending_member():
    patcher, fake = _patroni({("GET", "/cluster"): (200, CLUSTER),
                              ("GET", "/patroni"): (200, dict(ME_REPLICA, pending_restart=True)),
                              ("POST", "/restart"): (200, "ok")})
    with patcher:
        assert pgha_patroni.restart(member="pg3", pending_only=True) == {"pg3": True}
    assert _body(fake, "POST", "/restart")[0] == "http://10.0.0.13:8008/restart"


def test_restart_failure():
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_LEADER),
                           ("POST", "/restart"): (503, "restart failed")})
    with patcher, pytest.raises(CommandExecutionError, match="restart of pg1 failed \\(503\\): restart failed"):
        pgha_patroni.restart()


def test_reload():
    patcher, fake = _patroni({("GET", "/cluster"): (200, CLUSTER),
                              ("POST", "/reload"): (202, "reload scheduled")})
    with patcher:
        assert pgha_patroni.reload(member="pg2") == "reload scheduled"
    assert _body(fake, "POST", "/reload")[0] == "http://10.0.0.12:8008/reload"


def test_reinit_refuses_the_leader():
    patcher, _ = _patroni({("GET", "/cluster"): (200, CLUSTER)})
    with patcher, pytest.raises(CommandExecutionError, match="reinit refused: pg1 is the leader"):
        pgha_patroni.reinit("pg1")


def test_reinit_waits_for_a_new_postmaster(clock):
    before = dict(ME_REPLICA, postmaster_start_time="t1")
    patcher, fake = _patroni({
        ("GET", "/cluster"): (200, CLUSTER),
        ("GET", "/patroni"): [(200, before), (503, {"state": "creating replica"}), (200, before),
                              (200, dict(before, postmaster_start_time="t2"))],
        ("POST", "/reinitialize"): (200, "reinitialize started")})
    with patcher:
        assert pgha_patroni.reinit("pg3") == {"pg3": "reinitialized"}
    assert _body(fake, "POST", "/reinitialize") == ("http://10.0.0.13:8008/reinitialize", {"force": False})
    assert clock.sleeps == [1, 1]


# -- dynamic configuration, pause, history, list -------------------------------------------------

DCS = {"ttl": 30, "loop_wait": 10, "pause": False,
       "postgresql": {"use_slots": True, "parameters": {"max_connections": 200, "hot_standby": "on"}}}


def test_edit_config_sends_only_what_differs(clock):
    patched = copy.deepcopy(DCS)
    patched.update(loop_wait=5)
    patched["postgresql"]["parameters"]["max_connections"] = "100"
    # then each member's /config: pg1 up to date, pg2 stale once, pg3 unreachable
    patcher, fake = _patroni({("GET", "/config"): [(200, DCS), (200, patched), (200, DCS),
                                                   OSError("refused"), (200, patched)],
                              ("PATCH", "/config"): (200, patched),
                              ("GET", "/cluster"): (200, CLUSTER)})
    patch_ = {"ttl": 30, "loop_wait": 5,
              "postgresql": {"use_slots": True, "parameters": {"max_connections": "100",
                                                               "hot_standby": True}}}
    with patcher:
        result = pgha_patroni.edit_config(patch_)
    assert result == {"changes": {
        "loop_wait": {"old": 10, "new": 5},
        "postgresql.parameters.max_connections": {"old": 200, "new": "100"}}}
    assert _body(fake, "PATCH", "/config")[1] == {
        "loop_wait": 5, "postgresql": {"parameters": {"max_connections": "100"}}}
    assert clock.sleeps == [0.5]                  # until every member reads the new config


def test_edit_config_members_that_never_see_it(clock):
    patcher, _ = _patroni({("GET", "/config"): (200, DCS), ("PATCH", "/config"): (200, {}),
                           ("GET", "/cluster"): (200, CLUSTER)})
    with patcher, pytest.raises(CommandExecutionError,
                                match="the DCS has the new configuration, but pg1, pg2, pg3 still "
                                      "run with the old one after 2s"):
        pgha_patroni.edit_config({"ttl": 40}, timeout=2)


def test_edit_config_test_mode_and_no_change_send_nothing():
    patcher, fake = _patroni({("GET", "/config"): (200, DCS)})
    with patcher:
        assert pgha_patroni.edit_config({"ttl": 31}, test=True) == {
            "changes": {"ttl": {"old": 30, "new": 31}}}
        assert pgha_patroni.edit_config('{"ttl": 30}') == {"changes": {}}   # YAML from the CLI
    assert all(req.get_method() == "GET" for req, _ in fake.requests)


def test_edit_config_errors():
    with pytest.raises(CommandExecutionError, match="patch must be a mapping"):
        pgha_patroni.edit_config("[1, 2]")
    patcher, _ = _patroni({("GET", "/config"): (200, DCS), ("PATCH", "/config"): (400, "bad")})
    with patcher, pytest.raises(CommandExecutionError, match="refused the configuration change \\(400\\)"):
        pgha_patroni.edit_config({"ttl": 1})


def test_show_config_bad_answer():
    patcher, _ = _patroni({("GET", "/config"): (503, "no DCS")})
    with patcher, pytest.raises(CommandExecutionError, match="Patroni /config answered 503"):
        pgha_patroni.show_config()


def test_show_config_waits_while_the_dcs_holds_none(clock):
    """502: a leader started against an emptied DCS has not written its configuration yet."""
    patcher, fake = _patroni({("GET", "/config"): [(502, "no config"), (502, "no config"), (200, DCS)]})
    with patcher:
        assert pgha_patroni.show_config(wait=10) == DCS
    assert len(fake.requests) == 3
    patcher, _ = _patroni({("GET", "/config"): [(502, "no config")] * 20})
    with patcher, pytest.raises(CommandExecutionError, match="Patroni /config answered 502"):
        pgha_patroni.show_config(wait=5)
    patcher, fake = _patroni({("GET", "/config"): [(503, "no DCS"), (200, DCS)]})
    with patcher, pytest.raises(CommandExecutionError, match="answered 503"):   # only 502 is waited for
        pgha_patroni.show_config(wait=10)


@pytest.mark.parametrize("func,flag", [("pause", True), ("resume", False)])
def test_pause_resume_wait_for_every_member(clock, func, flag):
    patcher, fake = _patroni({
        ("PATCH", "/config"): (200, {}), ("GET", "/cluster"): (200, CLUSTER),
        ("GET", "/patroni"): [(200, {"pause": not flag})] + [(200, {"pause": flag})] * 3})
    with patcher:
        assert getattr(pgha_patroni, func)() == {"paused": flag}
    assert _body(fake, "PATCH", "/config")[1] == {"pause": flag}
    assert clock.sleeps == [0.5]


def test_pause_times_out(clock):
    patcher, _ = _patroni({("PATCH", "/config"): (200, {}), ("GET", "/cluster"): (200, CLUSTER),
                           ("GET", "/patroni"): (200, {})})
    with patcher, pytest.raises(CommandExecutionError, match="not every member reports pause=True"):
        pgha_patroni.pause(timeout=2)


def test_history():
    patcher, _ = _patroni({("GET", "/history"): (200, [[1, 25165984, "no recovery target specified",
                                                        "2026-11-26T00:10:00+00:00", "pg2"]])})
    with patcher:
        assert pgha_patroni.history() == [{"timeline": 1, "lsn": 25165984,
                                           "reason": "no recovery target specified",
                                           "timestamp": "2026-11-26T00:10:00+00:00",
                                           "new_leader": "pg2"}]


def test_list_and_topology():
    cluster = _cluster(pg3={"pending_restart": True, "tags": {"nofailover": True}})
    cluster["pause"] = True
    patcher, _ = _patroni({("GET", "/cluster"): (200, cluster)})
    with patcher:
        listing = pgha_patroni.list_()
        tree = pgha_patroni.topology()
    assert listing["leader"] == "pg1" and listing["paused"] is True
    assert listing["members"]["pg3"] == {"host": "10.0.0.13", "role": "replica", "state": "streaming",
                                         "timeline": 3, "lag": 3145728, "pending_restart": True,
                                         "tags": {"nofailover": True}}
    assert list(tree) == ["pg1"] and sorted(tree["pg1"]["replicas"]) == ["pg2", "pg3"]
    assert pgha_patroni.__func_alias__ == {"list_": "list"}


def test_topology_without_leader():
    patcher, _ = _patroni({("GET", "/cluster"): (200, _cluster(pg1={"state": "stopped"}))})
    with patcher:
        assert list(pgha_patroni.topology()) == ["(no leader)"]


# -- pending restart and ordering ----------------------------------------------------------------

def test_pending_restart_joins_postgresql_and_command_line_parameters():
    patcher, _ = _patroni({("GET", "/config"): (200, DCS), ("GET", "/patroni"): (200, ME_LEADER)})
    sql, cursor = _rows([("shared_buffers",)], [("max_connections", "100"), ("hot_standby", "on")])
    with patcher, sql:
        assert pgha_patroni.pending_restart() == ["max_connections", "shared_buffers"]
    assert cursor.execute.call_args_list[1][0][1] == (["max_connections", "hot_standby"],)


def test_pending_restart_reported_only_by_patroni():
    patcher, _ = _patroni({("GET", "/config"): (200, {}),
                           ("GET", "/patroni"): (200, dict(ME_LEADER, pending_restart=True))})
    sql, _ = _rows([])
    with patcher, sql:
        assert pgha_patroni.pending_restart() == ["(Patroni reports a pending restart)"]


def test_restart_params():
    sql, _ = _rows([("shared_buffers",)])
    with sql:
        assert pgha_patroni.restart_params(["work_mem", "shared_buffers", "max_connections"]) == [
            "max_connections", "shared_buffers"]


def test_decreasing():
    patcher, _ = _patroni({("GET", "/config"): (200, DCS)})
    sql, _ = _rows([("max_connections", "300")])
    with patcher, sql:
        assert pgha_patroni.decreasing() == ["max_connections"]
    patcher, _ = _patroni({("GET", "/config"): (200, {})})
    with patcher:
        assert pgha_patroni.decreasing() == []


def test_wait_applied(clock, config_file):
    conf = dict(CONFIG, postgresql=dict(CONFIG["postgresql"], parameters={
        "work_mem": "8MB", "logging_collector": False, "max_connections": 100}))
    config_file.write_text(json.dumps(conf))
    patcher, _ = _patroni({("GET", "/config"): (200, {}), ("GET", "/patroni"): (200, ME_LEADER)})
    sql, cursor = _rows([("work_mem", "4MB"), ("logging_collector", "off")],
                        [("work_mem", "8MB"), ("logging_collector", "off")], [])
    with patcher, sql:
        assert pgha_patroni.wait_applied(interval=1) == []
    assert clock.sleeps == [1]
    assert cursor.execute.call_args_list[0][0][1] == (["work_mem", "logging_collector"],)


def test_wait_applied_times_out(clock):
    conf_params = {"work_mem": "8MB"}
    with patch.object(pgha_patroni, "_config", return_value=dict(
            CONFIG, postgresql=dict(CONFIG["postgresql"], parameters=conf_params))):
        sql, _ = _rows(*[[("work_mem", "4MB")]] * 20)
        with sql, pytest.raises(CommandExecutionError, match="Patroni has not applied work_mem after 3s"):
            pgha_patroni.wait_applied(timeout=3, interval=1)


# -- tags and maintenance gates ------------------------------------------------------------------

def test_wait_tags(clock, config_file):
    config_file.write_text(json.dumps(dict(CONFIG, tags={"nofailover": True, "nosync": False})))
    patcher, _ = _patroni({("GET", "/patroni"): [(200, ME_REPLICA),
                                                 (200, dict(ME_REPLICA, tags={"nofailover": True}))]})
    with patcher:
        assert pgha_patroni.wait_tags() == "Patroni runs with tags {'nofailover': True}"
    assert clock.sleeps == [0.5]


def test_wait_tags_times_out(clock):
    patcher, _ = _patroni({("GET", "/patroni"): (200, dict(ME_REPLICA, tags={"nosync": True}))})
    with patcher, pytest.raises(CommandExecutionError, match="runs with tags {'nosync': True}, not {}"):
        pgha_patroni.wait_tags(timeout=1)


def test_wait_maintenance_ready_lag_then_long_transaction(clock, config_file):
    config_file.write_text(json.dumps(dict(CONFIG, name="pg3")))
    patcher, _ = _patroni({("GET", "/cluster"): [(200, CLUSTER), (200, _cluster(pg3={"lag": 0}))]})
    sql, _ = _rows((40.0,), (40.0,), (40.0,))
    with patcher, sql, pytest.raises(CommandExecutionError) as exc:
        pgha_patroni.wait_maintenance_ready(1048576, 15, timeout=2)
    assert str(exc.value) == ("refused after waiting 2s: a transaction on leader pg1 has run 40s "
                              "(limit 15s)")


def test_wait_maintenance_ready(clock, config_file):
    config_file.write_text(json.dumps(dict(CONFIG, name="pg2")))
    patcher, _ = _patroni({("GET", "/cluster"): (200, CLUSTER)})
    sql, _ = _rows((0.2,))
    with patcher, sql:
        assert pgha_patroni.wait_maintenance_ready(1048576, 15) == (
            "replication lag and transaction age within limits")


def test_wait_replayed(clock):
    patcher, _ = _patroni({("GET", "/cluster"): (200, CLUSTER)})
    sql, cursor = _rows(("0/5000000",), (1024,), (0,))
    with patcher, sql:
        assert pgha_patroni.wait_replayed(interval=1) == "replayed up to 0/5000000"
    assert clock.sleeps == [1]
    assert cursor.execute.call_args_list[1][0][1] == ("0/5000000",)


def test_wait_replayed_errors(clock):
    patcher, _ = _patroni({("GET", "/cluster"): (200, _cluster(pg1={"state": "stopped"}))})
    with patcher, pytest.raises(CommandExecutionError, match="no running leader to catch up with"):
        pgha_patroni.wait_replayed()
    patcher, _ = _patroni({("GET", "/cluster"): (200, CLUSTER)})
    sql, _ = _rows(("0/5000000",), *[(None,)] * 5)
    with patcher, sql, pytest.raises(CommandExecutionError, match="still None bytes behind pg1 after 2s"):
        pgha_patroni.wait_replayed(timeout=2, interval=1)


def test_wait_restart_flagged(clock):
    patcher, _ = _patroni({("GET", "/patroni"): [(200, ME_REPLICA), (200, dict(ME_REPLICA, pending_restart=True))]})
    with patcher:
        assert pgha_patroni.wait_restart_flagged() == "Patroni flags a pending restart"
    assert clock.sleeps == [0.5]
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_REPLICA)})
    with patcher, pytest.raises(CommandExecutionError, match="has not applied the configuration change after 2s"):
        pgha_patroni.wait_restart_flagged(timeout=2)


def test_edit_config_retries_a_conflict(clock):
    patched = dict(DCS, ttl=40)
    patcher, fake = _patroni({("GET", "/config"): [(200, DCS), (200, patched)],
                              ("PATCH", "/config"): [(409, "Conflict"), (200, patched)],
                              ("GET", "/cluster"): (200, CLUSTER)})
    with patcher:
        assert pgha_patroni.edit_config({"ttl": 40})["changes"] == {"ttl": {"old": 30, "new": 40}}
    assert [r.get_method() for r, _ in fake.requests].count("PATCH") == 2


# -- remove_cluster (pgha.restore) -------------------------------------------------------------

def _run_all(retcode=0):
    return patch.dict(pgha_patroni.__salt__, {"cmd.run_all": MagicMock(
        return_value={"retcode": retcode, "stdout": "", "stderr": "Cluster names specified do not match"})})


def test_remove_cluster_answers_patronictl_on_stdin(config_file):
    # Patroni stopped here: the REST API does not answer
    patcher, _ = _patroni({("GET", "/cluster"): urllib.error.URLError("Connection refused")})
    with patcher, _run_all():
        assert pgha_patroni.remove_cluster(CONFIG["scope"], patronictl="/usr/bin/patronictl") == (
            f"cluster {CONFIG['scope']} removed from the DCS")
        args, kwargs = pgha_patroni.__salt__["cmd.run_all"].call_args
    assert args[0][:2] == ["/usr/bin/patronictl", "-c"] and args[0][-2:] == ["remove", CONFIG["scope"]]
    assert kwargs["stdin"] == f"{CONFIG['scope']}\nYes I am aware\n" and kwargs["python_shell"] is False


@pytest.mark.parametrize("confirm,routes,message", [
    ("other", {}, "remove_cluster refused: it must be confirmed with this node's cluster name 'main', got 'other'"),
    (None, {("GET", "/cluster"): (200, CLUSTER)}, "Patroni still runs PostgreSQL on pg1"),
])
def test_remove_cluster_refused(config_file, confirm, routes, message):
    patcher, _ = _patroni(routes)
    with patcher, _run_all(), pytest.raises(CommandExecutionError, match=message):
        try:
            pgha_patroni.remove_cluster(confirm or CONFIG["scope"])
        finally:
            pgha_patroni.__salt__["cmd.run_all"].assert_not_called()
