"""Unit tests of the pgha_etcd state module (_states/pgha_etcd.py), loaded as
``pgha_etcd_state``."""
from unittest.mock import MagicMock, patch

import pgha_etcd_state
import pytest
from salt.exceptions import CommandExecutionError

ENDPOINTS = ["http://10.0.0.11:2379", "http://10.0.0.12:2379", "http://10.0.0.13:2379"]


@pytest.fixture
def configure_loader_modules():
    return {
        pgha_etcd_state: {
            "__salt__": {"pgha_etcd.wait_healthy": MagicMock(return_value={})},
            "__opts__": {"test": False},
            "__pillar__": {},
            "__context__": {},
        }
    }


def test_virtual():
    assert pgha_etcd_state.__virtual__() == "pgha_etcd"
    with patch.object(pgha_etcd_state, "__salt__", {}):
        assert pgha_etcd_state.__virtual__()[0] is False


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_healthy(test):
    wait = MagicMock(return_value={url: True for url in ENDPOINTS})
    with patch.dict(pgha_etcd_state.__opts__, {"test": test}), \
            patch.dict(pgha_etcd_state.__salt__, {"pgha_etcd.wait_healthy": wait}):
        ret = pgha_etcd_state.healthy("pgha-gate-etcd-healthy", ENDPOINTS, timeout=45)
    assert ret == {"name": "pgha-gate-etcd-healthy", "result": True, "changes": {},
                   "comment": "etcd healthy: 3 member(s)"}
    # a real run waits up to the timeout; a dry run looks once
    wait.assert_called_once_with(ENDPOINTS, timeout=0 if test else 45)


def test_unhealthy_real_run_fails():
    error = CommandExecutionError("etcd not healthy after 90s: {'http://10.0.0.12:2379': 'refused'}")
    wait = MagicMock(side_effect=error)
    with patch.dict(pgha_etcd_state.__salt__, {"pgha_etcd.wait_healthy": wait}):
        ret = pgha_etcd_state.healthy("gate", ENDPOINTS)
    assert ret["result"] is False
    assert ret["changes"] == {}
    assert ret["comment"] == str(error)
    wait.assert_called_once_with(ENDPOINTS, timeout=90)


def test_unhealthy_test_mode_does_not_wait_or_fail():
    error = CommandExecutionError("etcd not healthy after 0s: {'http://10.0.0.12:2379': 'refused'}")
    wait = MagicMock(side_effect=error)
    with patch.dict(pgha_etcd_state.__opts__, {"test": True}), \
            patch.dict(pgha_etcd_state.__salt__, {"pgha_etcd.wait_healthy": wait}):
        ret = pgha_etcd_state.healthy("gate", ENDPOINTS)
    assert ret["result"] is None
    assert ret["changes"] == {}
    assert ret["comment"].startswith("would wait up to 90s for etcd:")
    assert "refused" in ret["comment"]
    wait.assert_called_once_with(ENDPOINTS, timeout=0)


@pytest.mark.parametrize("test,result", [(False, False), (True, None)], ids=["real", "test"])
def test_no_endpoints(test, result):
    wait = MagicMock(side_effect=CommandExecutionError("no etcd endpoints to check"))
    with patch.dict(pgha_etcd_state.__opts__, {"test": test}), \
            patch.dict(pgha_etcd_state.__salt__, {"pgha_etcd.wait_healthy": wait}):
        ret = pgha_etcd_state.healthy("gate", [])
    assert ret["result"] is result
    assert "no etcd endpoints" in ret["comment"]
