"""Unit tests of the pgha state module (_states/pgha.py), loaded as ``pgha_state``."""
from unittest.mock import MagicMock, patch

import pgha_state
import pytest
from salt.exceptions import CommandExecutionError


@pytest.fixture
def configure_loader_modules():
    return {
        pgha_state: {
            "__salt__": {"pgha.validate": MagicMock(return_value=[])},
            "__opts__": {"id": "pg1", "test": False},
            "__pillar__": {},
            "__context__": {},
        }
    }


@pytest.fixture(params=[False, True], ids=["real", "test"])
def test_mode(request):
    with patch.dict(pgha_state.__opts__, {"test": request.param}):
        yield request.param


def test_virtual():
    assert pgha_state.__virtual__() == "pgha"
    with patch.object(pgha_state, "__salt__", {}):
        result, reason = pgha_state.__virtual__()
    assert result is False and "saltutil.sync_all" in reason


# -- pillar_valid ----------------------------------------------------------------------------

def test_pillar_valid(test_mode):
    ret = pgha_state.pillar_valid("pgha-gate-pillar-valid")
    assert ret == {"name": "pgha-gate-pillar-valid", "result": True, "changes": {},
                   "comment": "pgha pillar is valid"}


def test_pillar_invalid_names_every_key(test_mode):
    problems = ["pgha:postgresql:superuser:password: is missing or empty: set a password in pillar",
                "pgha:cluster_vip: 'x' is not an IPv4 address"]
    with patch.dict(pgha_state.__salt__, {"pgha.validate": MagicMock(return_value=problems)}):
        ret = pgha_state.pillar_valid("check")
    # invalid pillar fails in test mode too: a dry run must show it
    assert ret["result"] is False
    assert ret["changes"] == {}
    assert ret["comment"].startswith("invalid pillar, nothing was changed:")
    assert ret["comment"].splitlines()[1:] == problems


# -- address_published -----------------------------------------------------------------------

def _mine(address="10.0.0.11", published=None, send=True):
    get = MagicMock(return_value={} if published is None else {"pg1": published})
    send_mock = send if isinstance(send, MagicMock) else MagicMock(return_value=send)
    return {"pgha.address": MagicMock(return_value=address), "mine.get": get,
            "mine.send": send_mock}


def test_address_already_published_is_quiet(test_mode):
    funcs = _mine(published="10.0.0.11")
    with patch.dict(pgha_state.__salt__, funcs):
        ret = pgha_state.address_published("pgha-gate-address-published")
    assert ret == {"name": "pgha-gate-address-published", "result": True, "changes": {},
                   "comment": "mine pgha_address is 10.0.0.11"}
    funcs["mine.get"].assert_called_once_with("pg1", "pgha_address")
    funcs["mine.send"].assert_not_called()


@pytest.mark.parametrize("published", [None, "10.0.0.99"], ids=["new", "changed"])
def test_address_published_test_mode(published):
    funcs = _mine(published=published)
    with patch.dict(pgha_state.__opts__, {"test": True}), patch.dict(pgha_state.__salt__, funcs):
        ret = pgha_state.address_published("pub")
    assert ret["result"] is None
    assert ret["changes"] == {"old": published, "new": "10.0.0.11"}
    assert ret["comment"] == "mine pgha_address would be set to 10.0.0.11"
    funcs["mine.send"].assert_not_called()


@pytest.mark.parametrize("published", [None, "10.0.0.99"], ids=["new", "changed"])
def test_address_published_real(published):
    funcs = _mine(published=published)
    with patch.dict(pgha_state.__salt__, funcs):
        ret = pgha_state.address_published("pub")
    assert ret["result"] is True
    assert ret["changes"] == {"old": published, "new": "10.0.0.11"}
    assert ret["comment"] == "mine pgha_address set to 10.0.0.11"
    funcs["mine.send"].assert_called_once_with("pgha_address", mine_function="pgha.address")


def test_address_published_custom_mine_key():
    funcs = _mine()
    with patch.dict(pgha_state.__salt__, funcs):
        ret = pgha_state.address_published("pub", mine_key="other_key")
    funcs["mine.get"].assert_called_once_with("pg1", "other_key")
    funcs["mine.send"].assert_called_once_with("other_key", mine_function="pgha.address")
    assert ret["comment"] == "mine other_key set to 10.0.0.11"


@pytest.mark.parametrize("address", [None, ""], ids=["none", "empty"])
def test_address_published_without_address(test_mode, address):
    funcs = _mine(address=address)
    with patch.dict(pgha_state.__salt__, funcs):
        ret = pgha_state.address_published("pub")
    assert ret["result"] is False
    assert "set pgha:address" in ret["comment"]
    assert ret["changes"] == {}
    funcs["mine.get"].assert_not_called()


@pytest.mark.parametrize("send", [
    MagicMock(side_effect=CommandExecutionError("master unreachable")),
    MagicMock(return_value=False),
], ids=["raises", "returns-false"])
def test_address_published_send_fails(send):
    with patch.dict(pgha_state.__salt__, _mine(send=send)):
        ret = pgha_state.address_published("pub")
    assert ret["result"] is False
    assert ret["changes"] == {}
    assert "mine.send" in ret["comment"] and "failed" in ret["comment"]


# -- existing_postgresql_matches -----------------------------------------------------------------

@pytest.mark.parametrize("found,result,fragment", [
    ({"running": True, "version": "15", "data_directory": "/d"}, True,
     "PostgreSQL 15 in /d (running) can be taken over by Patroni"),
    ({"running": True, "version": "13", "data_directory": "/d"}, False,
     "nothing was stopped: pgha:postgresql:version is 15, but the existing PostgreSQL is 13"),
    ({"running": True, "version": "15", "data_directory": "/other"}, False,
     "pgha:postgresql:data_dir is /d, but the existing PostgreSQL uses /other"),
    ({"running": False, "version": None, "data_directory": None}, False,
     "pgha:postgresql_exists is true, but no PostgreSQL runs here and /d holds no cluster"),
], ids=["match", "version", "data-dir", "none"])
def test_existing_postgresql_matches(found, result, fragment):
    with patch.dict(pgha_state.__salt__, {"pgha.existing_postgresql": MagicMock(return_value=found)}):
        ret = pgha_state.existing_postgresql_matches("check", 15, "/d")
    assert ret["result"] is result and ret["changes"] == {}
    assert fragment in ret["comment"]
