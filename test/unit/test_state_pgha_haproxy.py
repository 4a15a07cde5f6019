"""Unit tests of the pgha_haproxy state module (_states/pgha_haproxy.py), loaded as
``pgha_haproxy_state``."""
from unittest.mock import MagicMock, patch

import pgha_haproxy_state
import pytest
from salt.exceptions import CommandExecutionError

VIP = "10.0.0.100"
STATS = {"port": 7000, "user": "admin"}


@pytest.fixture
def configure_loader_modules():
    return {
        pgha_haproxy_state: {
            "__salt__": {"pgha_haproxy.wait_ready": MagicMock(return_value="ok")},
            "__opts__": {"test": False},
            "__pillar__": {},
            "__context__": {},
        }
    }


def test_virtual():
    assert pgha_haproxy_state.__virtual__() == "pgha_haproxy"
    with patch.object(pgha_haproxy_state, "__salt__", {}):
        assert pgha_haproxy_state.__virtual__()[0] is False


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_ready(test):
    wait = MagicMock(return_value=f"primary pg1 behind {VIP}:5000")
    with patch.dict(pgha_haproxy_state.__opts__, {"test": test}), \
            patch.dict(pgha_haproxy_state.__salt__, {"pgha_haproxy.wait_ready": wait}):
        ret = pgha_haproxy_state.ready("pgha-gate-haproxy-ready", vip=VIP, master_port=5000,
                                       timeout=60, **STATS)
    assert ret == {"name": "pgha-gate-haproxy-ready", "result": True, "changes": {},
                   "comment": f"primary pg1 behind {VIP}:5000"}
    # a real run waits up to the timeout; a dry run looks once; the stats settings pass through
    wait.assert_called_once_with(vip=VIP, master_port=5000, timeout=0 if test else 60, **STATS)


def test_ready_defaults():
    pgha_haproxy_state.ready("gate")
    pgha_haproxy_state.__salt__["pgha_haproxy.wait_ready"].assert_called_once_with(
        vip=None, master_port=5000, timeout=60)


def test_ready_without_vip_from_the_gate():
    """pgha/haproxy/gate.sls renders `vip: ` (None) when the pillar has no cluster_vip."""
    pgha_haproxy_state.ready("gate", vip=None, master_port=5100, timeout=5, port=7100)
    pgha_haproxy_state.__salt__["pgha_haproxy.wait_ready"].assert_called_once_with(
        vip=None, master_port=5100, timeout=5, port=7100)


def test_not_ready_real_run_fails():
    error = CommandExecutionError("HAProxy not ready after 60s: master listener has 2 servers "
                                  "UP: ['pg1', 'pg2']")
    wait = MagicMock(side_effect=error)
    with patch.dict(pgha_haproxy_state.__salt__, {"pgha_haproxy.wait_ready": wait}):
        ret = pgha_haproxy_state.ready("gate", vip=VIP, **STATS)
    assert ret == {"name": "gate", "result": False, "changes": {}, "comment": str(error)}
    wait.assert_called_once_with(vip=VIP, master_port=5000, timeout=60, **STATS)


def test_not_ready_test_mode_does_not_wait_or_fail():
    error = CommandExecutionError("HAProxy not ready after 0s: HAProxy stats unreachable on "
                                  "127.0.0.1:7000: refused")
    wait = MagicMock(side_effect=error)
    with patch.dict(pgha_haproxy_state.__opts__, {"test": True}), \
            patch.dict(pgha_haproxy_state.__salt__, {"pgha_haproxy.wait_ready": wait}):
        ret = pgha_haproxy_state.ready("gate", vip=VIP, timeout=60, **STATS)
    assert ret["result"] is None
    assert ret["changes"] == {}
    assert "unreachable" in ret["comment"]
    wait.assert_called_once_with(vip=VIP, master_port=5000, timeout=0, **STATS)


def test_ready_takes_no_password():
    """The stats password is read from pillar on the minion: as an argument it would show in
    state.show_sls and in the job cache."""
    ret = pgha_haproxy_state.ready("gate", vip=VIP, password="stats-secret", **STATS)
    assert ret["result"] is False
    assert "pgha:haproxy:stats_password" in ret["comment"]
    assert "stats-secret" not in ret["comment"]
    pgha_haproxy_state.__salt__["pgha_haproxy.wait_ready"].assert_not_called()


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_ready_never_changes_anything(test):
    for wait in (MagicMock(return_value="primary pg1 UP"),
                 MagicMock(side_effect=CommandExecutionError("not ready"))):
        with patch.dict(pgha_haproxy_state.__opts__, {"test": test}), \
                patch.dict(pgha_haproxy_state.__salt__, {"pgha_haproxy.wait_ready": wait}):
            assert pgha_haproxy_state.ready("gate")["changes"] == {}
