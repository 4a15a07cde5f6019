"""Unit tests of the pgha_settings state module (_states/pgha_settings.py): the membership a
node publishes to the mine."""
import importlib.util
from pathlib import Path
from unittest.mock import MagicMock, patch

import pytest
from salt.exceptions import CommandExecutionError

_SPEC = importlib.util.spec_from_file_location(
    "pgha_settings_state", Path(__file__).resolve().parents[2] / "_states" / "pgha_settings.py")
pgha_settings_state = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(pgha_settings_state)

MEMBER = {"cluster_name": "main", "roles": ["postgresql", "etcd"], "address": "10.0.0.11"}


@pytest.fixture
def configure_loader_modules():
    return {pgha_settings_state: {"__salt__": {}, "__opts__": {"id": "pg1", "test": False}}}


def _funcs(member=None, published=None, send=True):
    send_mock = send if isinstance(send, MagicMock) else MagicMock(return_value=send)
    return {"pgha_settings.member": MagicMock(return_value=dict(member or MEMBER)),
            "mine.get": MagicMock(return_value={} if published is None else {"pg1": published}),
            "mine.send": send_mock}


@pytest.fixture(params=[False, True], ids=["real", "test"])
def test_mode(request):
    with patch.dict(pgha_settings_state.__opts__, {"test": request.param}):
        yield request.param


def test_virtual():
    with patch.dict(pgha_settings_state.__salt__, _funcs()):
        assert pgha_settings_state.__virtual__() == "pgha_settings"
    result, reason = pgha_settings_state.__virtual__()
    assert result is False and "saltutil.sync_all" in reason


def test_already_published_is_quiet(test_mode):
    funcs = _funcs(published=dict(MEMBER))
    with patch.dict(pgha_settings_state.__salt__, funcs):
        ret = pgha_settings_state.member_published("pub")
    assert ret["result"] is True and ret["changes"] == {}
    funcs["mine.get"].assert_called_once_with("pg1", "pgha_member")
    funcs["mine.send"].assert_not_called()


@pytest.mark.parametrize("published", [None, dict(MEMBER, roles=["postgresql"])], ids=["new", "changed"])
def test_published_test_mode(published):
    funcs = _funcs(published=published)
    with patch.dict(pgha_settings_state.__opts__, {"test": True}), \
            patch.dict(pgha_settings_state.__salt__, funcs):
        ret = pgha_settings_state.member_published("pub")
    assert ret["result"] is None and ret["changes"] == {"old": published, "new": MEMBER}
    funcs["mine.send"].assert_not_called()


@pytest.mark.parametrize("published", [None, dict(MEMBER, cluster_name="Main")], ids=["new", "changed"])
def test_published_real(published):
    funcs = _funcs(published=published)
    with patch.dict(pgha_settings_state.__salt__, funcs):
        ret = pgha_settings_state.member_published("pub")
    assert ret["result"] is True and ret["changes"] == {"old": published, "new": MEMBER}
    funcs["mine.send"].assert_called_once_with("pgha_member", mine_function="pgha_settings.member")


def test_no_address_fails(test_mode):
    funcs = _funcs(member=dict(MEMBER, address=None))
    with patch.dict(pgha_settings_state.__salt__, funcs):
        ret = pgha_settings_state.member_published("pub")
    assert ret["result"] is False and "pgha:address" in ret["comment"]
    funcs["mine.send"].assert_not_called()


@pytest.mark.parametrize("send", [False, MagicMock(side_effect=CommandExecutionError("down"))],
                         ids=["returns-false", "raises"])
def test_send_failure_fails(send):
    funcs = _funcs(send=send)
    with patch.dict(pgha_settings_state.__salt__, funcs):
        ret = pgha_settings_state.member_published("pub")
    assert ret["result"] is False and ret["changes"] == {}
