"""Unit tests of the pgha_patroni state module (_states/pgha_patroni.py), loaded as
``pgha_patroni_state``."""
from unittest.mock import MagicMock, patch

import pgha_patroni_state
import pgha_standby
import pytest
from salt.exceptions import CommandExecutionError


@pytest.fixture
def configure_loader_modules():
    return {
        pgha_patroni_state: {
            "__salt__": {"pgha_patroni.wait_healthy": MagicMock(return_value="ok"),
                         "pgha_patroni.wait_vip": MagicMock(return_value="ok"),
                         "pgha_patroni.show_config": MagicMock(return_value={})},
            "__opts__": {"test": False},
            "__pillar__": {},
            "__context__": {},
            "__utils__": {"pgha_standby.dcs_conflict": pgha_standby.dcs_conflict},
        }
    }


def test_virtual():
    assert pgha_patroni_state.__virtual__() == "pgha_patroni"
    with patch.object(pgha_patroni_state, "__salt__", {}):
        assert pgha_patroni_state.__virtual__()[0] is False


# -- healthy -----------------------------------------------------------------------------------

@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
@pytest.mark.parametrize("role", ["leader", "replica", "member"])
def test_healthy(test, role):
    wait = MagicMock(return_value="leader pg1 accepts writes")
    with patch.dict(pgha_patroni_state.__opts__, {"test": test}), \
            patch.dict(pgha_patroni_state.__salt__, {"pgha_patroni.wait_healthy": wait}):
        ret = pgha_patroni_state.healthy("pgha-gate-patroni-healthy", role=role, timeout=180)
    assert ret == {"name": "pgha-gate-patroni-healthy", "result": True, "changes": {},
                   "comment": "leader pg1 accepts writes"}
    wait.assert_called_once_with(role=role, timeout=0 if test else 180, service="patroni")


def test_healthy_defaults():
    pgha_patroni_state.healthy("gate")
    pgha_patroni_state.__salt__["pgha_patroni.wait_healthy"].assert_called_once_with(
        role="member", timeout=120, service="patroni")


def test_unhealthy_real_run_fails():
    error = CommandExecutionError("not healthy as replica after 120s: replica WAL receiver is 'none'")
    with patch.dict(pgha_patroni_state.__salt__,
                    {"pgha_patroni.wait_healthy": MagicMock(side_effect=error)}):
        ret = pgha_patroni_state.healthy("gate", role="replica")
    assert ret == {"name": "gate", "result": False, "changes": {}, "comment": str(error)}


def test_unhealthy_test_mode_does_not_wait_or_fail():
    wait = MagicMock(side_effect=CommandExecutionError("not healthy as member after 0s: "
                                                       "Patroni REST API unreachable"))
    with patch.dict(pgha_patroni_state.__opts__, {"test": True}), \
            patch.dict(pgha_patroni_state.__salt__, {"pgha_patroni.wait_healthy": wait}):
        ret = pgha_patroni_state.healthy("gate", timeout=180)
    assert ret["result"] is None
    assert ret["changes"] == {}
    assert ret["comment"].startswith("would wait up to 180s:")
    assert "unreachable" in ret["comment"]
    wait.assert_called_once_with(role="member", timeout=0, service="patroni")


# -- vip_ready ---------------------------------------------------------------------------------

@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_vip_ready(test):
    wait = MagicMock(return_value="holds 10.0.0.100 as leader")
    with patch.dict(pgha_patroni_state.__opts__, {"test": test}), \
            patch.dict(pgha_patroni_state.__salt__, {"pgha_patroni.wait_vip": wait}):
        ret = pgha_patroni_state.vip_ready("10.0.0.100", timeout=30)
    assert ret == {"name": "10.0.0.100", "result": True, "changes": {},
                   "comment": "holds 10.0.0.100 as leader"}
    wait.assert_called_once_with("10.0.0.100", timeout=0 if test else 30)


@pytest.mark.parametrize("test,result", [(False, False), (True, None)], ids=["real", "test"])
def test_vip_not_ready(test, result):
    error = CommandExecutionError("VIP 10.0.0.100 missing on a leader after 60s: check vip-manager")
    wait = MagicMock(side_effect=error)
    with patch.dict(pgha_patroni_state.__opts__, {"test": test}), \
            patch.dict(pgha_patroni_state.__salt__, {"pgha_patroni.wait_vip": wait}):
        ret = pgha_patroni_state.vip_ready("10.0.0.100")
    assert ret["result"] is result
    assert ret["changes"] == {}
    assert "check vip-manager" in ret["comment"]
    if test:
        assert ret["comment"].startswith("would wait up to 60s:")
    wait.assert_called_once_with("10.0.0.100", timeout=0 if test else 60)


def test_dynamic_config_comment_announces_a_preset_change():
    """Keys that follow the failover preset: the comment says that a preset change alters the
    DCS of an existing cluster at its next highstate, without restarting PostgreSQL."""
    pgha_patroni_state.__salt__.update({
        "pgha_patroni.leader": MagicMock(return_value="pg1"),
        "pgha_patroni.edit_config": MagicMock(return_value={"changes": {"ttl": {"old": 30, "new": 20}}}),
    })
    ret = pgha_patroni_state.dynamic_config("dcs", {"ttl": 20}, preset="fast",
                                            preset_keys=["loop_wait", "ttl"])
    assert ret["result"] is True
    assert ret["comment"] == ("patched ttl; applied with a reload; ttl from failover preset fast "
                              "(pgha:patroni:rto_profile): a preset change alters the DCS of an existing "
                              "cluster at its next highstate, with a reload and no PostgreSQL restart")
    ret = pgha_patroni_state.dynamic_config("dcs", {"ttl": 20}, preset="fast", preset_keys=["loop_wait"])
    assert ret["comment"] == "patched ttl; applied with a reload"
