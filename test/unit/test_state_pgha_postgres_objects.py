"""The pgha_postgres states of issue 22 (membership, removal, database limit and drop, schemas,
privileges, an extension waiting for its preloaded library) over the real execution module and
a throwaway PostgreSQL: test mode says what would change (result None) and changes nothing, a
real run changes it, a second run reports nothing; a refusal is a failed state naming the key
to set; a changed password is reported without the password."""
import json
from unittest.mock import patch

import pytest

import pgha_postgres
from test_mod_pgha_postgres_server import _conn, server  # noqa: F401  (fixture)
from test_state_pgha_postgres import pgha_postgres_state

FUNCTIONS = ("role_present", "role_membership", "role_absent", "database_present", "database_conn_limit",
             "database_absent", "schema_present", "privileges_present", "extension_present", "preload_missing")
PASSWORDS = ["first-Pw #1", "second-Pw 'x' \"y\""]


@pytest.fixture
def states(server):
    from test_mod_pgha_postgres_server import _run_all  # pylint: disable=import-outside-toplevel
    pillar = {"pgha": {"postgresql": {"users": [{"name": "st_app", "password": PASSWORDS[0]}]}}}
    with patch.dict(pgha_postgres.__dict__, {"__salt__": {"cmd.run_all": _run_all}, "__pillar__": pillar}), \
            patch.dict(pgha_postgres_state.__dict__, {
                "__salt__": {f"pgha_postgres.{f}": getattr(pgha_postgres, f) for f in FUNCTIONS},
                "__opts__": {"test": False}}):
        yield pillar


def _run(function, *args, test=False, **kwargs):
    with patch.dict(pgha_postgres_state.__opts__, {"test": test}):
        ret = getattr(pgha_postgres_state, function)(*args, **kwargs)
    text = json.dumps(ret, ensure_ascii=False)
    assert not any(p in text for p in PASSWORDS)
    return ret


def _converges(function, *args, **kwargs):
    planned = _run(function, *args, test=True, **kwargs)
    assert planned["result"] is None and planned["changes"], planned
    done = _run(function, *args, **kwargs)
    assert (done["result"], done["changes"]) == (True, planned["changes"]), done
    again = _run(function, *args, **kwargs)
    assert (again["result"], again["changes"]) == (True, {}), again
    return done["changes"]


def test_objects_converge_and_a_second_run_changes_nothing(states, server):
    conn = _conn(server)
    key = "pgha:postgresql:users:0:password"
    _converges("role_present", "st_app", password_pillar=key, login=True, **conn)
    _converges("role_present", "st_group", login=False, **conn)
    assert _converges("role_membership", "st_app", groups=["st_group"], conn_limit=3, **conn) == {
        "groups": {"added": ["st_group"]}, "conn_limit": {"old": -1, "new": 3}}
    _converges("database_present", "st_db", owner="st_app", **conn)
    _converges("database_conn_limit", "st_db", 9, **conn)
    _converges("schema_present", "st_schema", "st_db", owner="st_app", **conn)
    assert _converges("privileges_present", "postgresql:privs:0", "st_db", "schema", ["st_group"], ["USAGE"],
                      ["st_schema"], **conn) == {"privileges": ["granted USAGE on schema st_schema to st_group"]}
    _converges("database_absent", "st_db", **conn)
    _converges("role_absent", "st_group", **conn)


def test_a_changed_password_is_reported_without_it(states, server):
    conn = _conn(server)
    key = "pgha:postgresql:users:0:password"
    _run("role_present", "st_app", password_pillar=key, login=True, **conn)
    states["pgha"]["postgresql"]["users"][0]["password"] = PASSWORDS[1]
    assert _converges("role_present", "st_app", password_pillar=key, login=True, **conn) == {"password": "changed"}


def test_a_role_that_owns_objects_is_a_failed_state(states, server):
    conn = _conn(server)
    _run("role_present", "st_owner", login=True, **conn)
    _run("database_present", "st_owned", owner="st_owner", **conn)
    for test in (True, False):
        ret = _run("role_absent", "st_owner", test=test, **conn)
        assert ret["result"] is False and "reassign_owned_to" in ret["comment"], ret
    assert _converges("role_absent", "st_owner", reassign_owned_to="postgres", **conn)["role"] == "dropped"


def test_an_extension_waits_for_its_library(states, server):
    ret = _run("extension_present", "pg_cron", "postgres", preload="pg_cron", **_conn(server))
    assert (ret["result"], ret["changes"]) == (True, {})
    assert "pending_restart" in ret["warnings"][0] and "restarts nothing" in ret["warnings"][0]
    ret = _run("extension_present", "pg_stat_statements", "postgres", preload="plpgsql", **_conn(server))
    assert ret["result"] is True and "warnings" in ret
