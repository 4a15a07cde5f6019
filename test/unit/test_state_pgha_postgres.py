"""Unit tests of the pgha_postgres state module (_states/pgha_postgres.py, loaded as
``pgha_postgres_state``) over the real execution module and a fake PostgreSQL: test mode
returns what would change with result None and changes nothing; a second run reports no
changes; no state takes a password, and no return holds one."""
import importlib.util
import json
import sys
from pathlib import Path
from unittest.mock import patch

import pytest

import pgha_postgres
from pgha_fake_postgres import FakePostgres

_PATH = Path(__file__).resolve().parents[2] / "_states" / "pgha_postgres.py"
_SPEC = importlib.util.spec_from_file_location("pgha_postgres_state", _PATH)
pgha_postgres_state = importlib.util.module_from_spec(_SPEC)
sys.modules["pgha_postgres_state"] = pgha_postgres_state
_SPEC.loader.exec_module(pgha_postgres_state)

NAME = 'My "App" $(id); #1: *ü'
PASSWORD = "pässwörd #1; -- 'x' \"y\" \\"
CONN = {"runas": "postgres", "port": 5432, "host": "/var/run/postgresql"}
KEY = "pgha:postgresql:users:0:password"


@pytest.fixture
def pg():
    return FakePostgres()


@pytest.fixture
def configure_loader_modules(pg):
    functions = {f"pgha_postgres.{f}": getattr(pgha_postgres, f) for f in (
        "role_present", "database_present", "extension_present", "auth_function_present")}
    return {
        pgha_postgres: {"__salt__": {"cmd.run_all": pg.run_all},
                        "__pillar__": {"pgha": {"postgresql": {"users": [{"name": NAME, "password": PASSWORD}]}}}},
        pgha_postgres_state: {"__salt__": functions, "__opts__": {"test": False}},
    }


def test_virtual():
    assert pgha_postgres_state.__virtual__() == "pgha_postgres"


def _run(function, *args, test=False, **kwargs):
    with patch.dict(pgha_postgres_state.__opts__, {"test": test}):
        ret = getattr(pgha_postgres_state, function)(*args, **kwargs)
    assert PASSWORD not in json.dumps(ret, ensure_ascii=False)
    return ret


CASES = [
    ("role_present", (NAME,), {"password_pillar": KEY, "login": True, "createdb": False},
     {"role": "created", "login": True, "createdb": False, "password": "set"}),
    ("database_present", ("postgres",), {"owner": NAME}, {"owner": {"old": "postgres", "new": NAME}}),
    ("extension_present", ("pg_trgm", "postgres"), {"schema": NAME}, {"extension": "created", "schema": NAME}),
    ("auth_function_present", ("template1",), {"auth_user": "postgres"},
     {"auth_function": "pgbouncer.get_auth(text) for postgres",
      "fixed": ["function", "grants to postgres"]}),
]


@pytest.mark.parametrize("function, args, kwargs, changes", CASES, ids=[c[0] for c in CASES])
def test_test_mode_then_real_then_no_change(pg, function, args, kwargs, changes):
    if function == "database_present":
        pgha_postgres.role_present(NAME, login=True, **CONN)
    before = len(pg.executed)
    ret = _run(function, *args, test=True, **kwargs, **CONN)
    assert (ret["result"], ret["changes"]) == (None, changes)
    assert all(c.seq[0].string.startswith("SELECT") for _, c in pg.executed[before:])
    ret = _run(function, *args, **kwargs, **CONN)
    assert (ret["result"], ret["changes"]) == (True, changes)
    ret = _run(function, *args, **kwargs, **CONN)
    assert (ret["result"], ret["changes"]) == (True, {})
    assert "as wanted" in ret["comment"]
    ret = _run(function, *args, test=True, **kwargs, **CONN)
    assert (ret["result"], ret["changes"]) == (True, {})


def test_test_mode_creates_nothing(pg):
    _run("role_present", NAME, password_pillar=KEY, test=True, **CONN)
    _run("database_present", NAME, owner="postgres", test=True, **CONN)
    assert NAME not in pg.roles and NAME not in pg.databases


def test_a_password_argument_is_refused(pg):
    ret = _run("role_present", "app", password="x", **CONN)
    assert ret["result"] is False and "password_pillar" in ret["comment"]
    assert not pg.runs


def test_an_error_is_a_failed_state_naming_the_problem(pg):
    ret = _run("role_present", "r" * 64, login=True, **CONN)
    assert (ret["result"], ret["changes"]) == (False, {})
    assert "64 bytes" in ret["comment"]
    pg.databases["appdb"] = ("LATIN1", "C", "C", "postgres")
    ret = _run("database_present", "appdb", encoding="UTF8", **CONN)
    assert ret["result"] is False and "encoding is 'LATIN1'" in ret["comment"]


def test_salt_internal_arguments_are_ignored(pg):
    ret = _run("role_present", NAME, login=True, __id__="x", __sls__="pgha.postgresql.users", **CONN)
    assert ret["result"] is True
