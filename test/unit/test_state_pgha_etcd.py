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


# -- member_added / member_removed --------------------------------------------------------------

MEMBERS = [{"id": "1", "name": "pg1", "peer_urls": ["http://10.0.0.11:2380"], "client_urls": []}]


@pytest.mark.parametrize("func,name,present", [
    ("member_added", "http://10.0.0.11:2380", True), ("member_removed", "pg4", False)])
def test_membership_already_right(func, name, present):
    with patch.dict(pgha_etcd_state.__salt__, {"pgha_etcd.members": MagicMock(return_value=MEMBERS)}):
        ret = getattr(pgha_etcd_state, func)(name, ["http://10.0.0.11:2379"])
    assert ret["result"] is True and ret["changes"] == {}
    assert ("already" if present else "not") in ret["comment"]


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
@pytest.mark.parametrize("func,name,verb,call", [
    ("member_added", "http://10.0.0.14:2380", "add", "pgha_etcd.member_add"),
    ("member_removed", "pg1", "remove", "pgha_etcd.member_remove")])
def test_membership_changes(test, func, name, verb, call):
    act = MagicMock(return_value={})
    with patch.dict(pgha_etcd_state.__opts__, {"test": test}), \
            patch.dict(pgha_etcd_state.__salt__, {"pgha_etcd.members": MagicMock(return_value=MEMBERS),
                                                  call: act}):
        ret = getattr(pgha_etcd_state, func)(name, ["http://10.0.0.11:2379"])
    assert ret["changes"] == {verb: name}
    assert ret["result"] is (None if test else True)
    assert act.call_count == (0 if test else 1)


def test_membership_refused():
    error = CommandExecutionError("removing etcd member pg1 would break quorum: 1 of the 2 members left are healthy")
    with patch.dict(pgha_etcd_state.__salt__, {"pgha_etcd.members": MagicMock(return_value=MEMBERS),
                                               "pgha_etcd.member_remove": MagicMock(side_effect=error)}):
        ret = pgha_etcd_state.member_removed("pg1", ["http://10.0.0.12:2379"])
    assert ret == {"name": "pg1", "result": False, "changes": {}, "comment": str(error)}
