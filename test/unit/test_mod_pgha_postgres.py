"""Unit tests of the pgha_postgres execution module (_modules/pgha_postgres.py): names reach
SQL only as ``sql.Identifier``, values only as ``sql.Literal``, a password only as its SCRAM
verifier and never in argv, a return or a log; a second run changes nothing. The module's real
RUNNER program runs in-process against a fake PostgreSQL (pgha_fake_postgres);
test_mod_pgha_postgres_server.py runs it against a real one where one is installed."""
import base64
import hashlib
import hmac
import json
import logging
import sys
from unittest.mock import patch

import pytest
from psycopg2 import sql
from salt.exceptions import CommandExecutionError

import pgha_postgres
from pgha_fake_postgres import FakePostgres, template_of

NASTY = ['My "App"', "it's", "back\\slash", "#hash", "$(touch /tmp/pwned)", "100%", "a space",
         "*star", ": colon", "Ünïcødé", "Foo", 'x"; CREATE ROLE evil SUPERUSER; --', "{brace}",
         "m" * 63, "é" * 31 + "e"]
PASSWORDS = ["pässwörd #1; --", "it's \"quoted\" \\ $x %s `tick`", "0123", "p" * 40]
CONN = {"runas": "postgres", "port": 5432, "host": "/var/run/postgresql"}


@pytest.fixture
def pg():
    return FakePostgres()


@pytest.fixture
def configure_loader_modules(pg):
    users = [{"name": n, "password": PASSWORDS[i % len(PASSWORDS)]} for i, n in enumerate(NASTY)]
    users.append({"name": "typed", "password": 123})
    return {pgha_postgres: {
        "__salt__": {"cmd.run_all": pg.run_all},
        "__pillar__": {"pgha": {"tests": {"pw0": PASSWORDS[0], "pw1": PASSWORDS[1]}, "postgresql": {"users": users, "superuser": {"password": "su secret"}},
                                "pgbouncer": {"auth_user": {"name": "pgbouncer", "password": "pgb's \"pw\""}}}}}}


def _key(i):
    return f"pgha:postgresql:users:{i}:password"


def _assert_only_quoted(pg, names, secrets):
    """Every name is an Identifier (or a Literal in a WHERE), never SQL text; every secret
    appears nowhere, not even as a literal (only its SCRAM verifier does)."""
    assert pg.executed
    for _, composed in pg.executed:
        text, args = template_of(composed)
        for name in names:
            assert name not in text
        for arg in args:
            assert isinstance(arg, (sql.Identifier, sql.Literal))
        for secret in secrets:
            assert secret not in repr(composed)


# -- identifiers ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NASTY)
def test_a_nasty_identifier_is_accepted_as_it_is(name):
    assert pgha_postgres.check_identifier(name) == name


@pytest.mark.parametrize("name, message", [
    ("m" * 64, "64 bytes"), ("é" * 32, "64 bytes"), ("", "non-empty"), (None, "non-empty"),
    (12, "non-empty"), ("a\x00b", "NUL")])
def test_a_bad_identifier_is_refused(name, message):
    with pytest.raises(CommandExecutionError, match=message):
        pgha_postgres.check_identifier(name)


def test_a_too_long_role_is_refused_before_any_sql(pg):
    with pytest.raises(CommandExecutionError, match="64 bytes in UTF-8"):
        pgha_postgres.role_present("r" * 64, login=True, **CONN)
    assert not pg.runs


# -- roles ------------------------------------------------------------------------------------

@pytest.mark.parametrize("i", range(len(NASTY)))
def test_a_nasty_role_is_created_quoted_then_left_alone(pg, i):
    name, password = NASTY[i], PASSWORDS[i % len(PASSWORDS)]
    changes = pgha_postgres.role_present(name, password_pillar=_key(i), login=True, createdb=False, **CONN)
    assert changes == {"role": "created", "createdb": False, "login": True, "password": "set"}
    template, args = template_of(pg.executed[-1][1])
    assert template == "CREATE ROLE {} WITH NOCREATEDB LOGIN PASSWORD {}"
    assert args[0] == sql.Identifier(name)            # exact, case kept: "Foo" is not foo
    assert isinstance(args[1], sql.Literal) and args[1].wrapped.startswith("SCRAM-SHA-256$4096:")
    assert pgha_postgres._scram_matches(password, pg.roles[name]["rolpassword"])
    assert pgha_postgres.role_present(name, password_pillar=_key(i), login=True, createdb=False, **CONN) == {}
    _assert_only_quoted(pg, [name], [password])


def test_passwords_never_reach_argv_or_a_return_or_a_log(pg, caplog):
    caplog.set_level(logging.DEBUG)
    for i, name in enumerate(NASTY):
        ret = pgha_postgres.role_present(name, password_pillar=_key(i), login=True, **CONN)
        assert not any(p in json.dumps(ret) for p in PASSWORDS)
    for argv, runas, stdin in pg.runs:
        assert runas == "postgres"
        assert not any(p in " ".join(argv) for p in PASSWORDS)
        assert not any(p in stdin or json.dumps(p)[1:-1] in stdin for p in PASSWORDS)
    assert not any(p in caplog.text for p in PASSWORDS)


def test_a_changed_password_and_flag_are_reported_without_the_password(pg):
    pgha_postgres.role_present("app", password_pillar="pgha:tests:pw0", login=True, **CONN)
    changes = pgha_postgres.role_present("app", password_pillar="pgha:tests:pw1", login=True, superuser=True, **CONN)
    assert changes == {"superuser": {"old": False, "new": True}, "password": "changed"}
    assert [template_of(c)[0] for _, c in pg.executed[-2:]] == [
        "ALTER ROLE {} WITH SUPERUSER", "ALTER ROLE {} PASSWORD {}"]
    assert pgha_postgres._scram_matches(PASSWORDS[1], pg.roles["app"]["rolpassword"])


def test_a_role_set_elsewhere_is_verified_by_its_own_salt(pg):
    """A verifier PostgreSQL stored (its own salt and iterations) counts as the same password."""
    salt = b"0123456789abcdef"
    pg.roles["app"] = {**pg.roles["postgres"], "rolsuper": False,
                       "rolpassword": pgha_postgres._scram_verifier(PASSWORDS[0], salt, 10000)}
    assert pgha_postgres.role_present("app", password_pillar="pgha:tests:pw0", **CONN) == {}


def test_unset_attributes_stay_as_they_are(pg):
    # the superuser keeps initdb's REPLICATION: only what is named is compared
    assert pgha_postgres.role_present("postgres", login=True, superuser=True, **CONN) == {}


def test_test_mode_changes_nothing(pg):
    changes = pgha_postgres.role_present("new", password_pillar="pgha:tests:pw0", login=True, test=True, **CONN)
    assert changes == {"role": "created", "login": True, "password": "set"}
    assert "new" not in pg.roles
    assert all(template_of(c)[0].startswith("SELECT") for _, c in pg.executed)


@pytest.mark.parametrize("name, key, message", [
    ("app", "pgha:postgresql:users:99:password", "is missing or empty"),
    ("typed", "pgha:postgresql:users:15:password", "is a int, not a string; quote it in YAML"),
    ("app", "pgha:postgresql:users:1:password", "pgha:postgresql:users:1 is role \"it's\", not 'app'")])
def test_a_bad_password_key_is_refused_before_any_change(pg, name, key, message):
    with pytest.raises(CommandExecutionError) as err:
        pgha_postgres.role_present(name, password_pillar=key, **CONN)
    assert message in str(err.value)
    assert not pg.executed


def test_a_string_for_a_flag_is_refused(pg):
    with pytest.raises(CommandExecutionError, match="superuser must be true or false"):
        pgha_postgres.role_present("app", superuser="no", **CONN)


# -- SCRAM ------------------------------------------------------------------------------------

def test_scram_verifier_matches_rfc_7677_derivation():
    salt, password = b"saltsaltsaltsalt", "pencil"
    verifier = pgha_postgres._scram_verifier(password, salt, 4096)
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 4096)
    server = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    assert verifier.startswith(f"SCRAM-SHA-256$4096:{base64.b64encode(salt).decode()}$")
    assert verifier.endswith(":" + base64.b64encode(server).decode())
    assert pgha_postgres._scram_matches("pencil", verifier)
    assert not pgha_postgres._scram_matches("pencil ", verifier)
    assert not pgha_postgres._scram_matches("pencil", "md5abc")
    assert not pgha_postgres._scram_matches("pencil", None)


def test_saslprep_as_postgresql():
    assert pgha_postgres._saslprep("I\u00adX") == "IX"            # soft hyphen: mapped to nothing
    assert pgha_postgres._saslprep("a\u00a0b") == "a b"           # non-ASCII space: a space
    assert pgha_postgres._saslprep("\u2168") == "IX"              # NFKC
    assert pgha_postgres._saslprep("a\x07ü") == "a\x07ü"          # prohibited: used as it is
    assert pgha_postgres._saslprep("plain ascii\x07") == "plain ascii\x07"


# -- databases and extensions -----------------------------------------------------------------

@pytest.mark.parametrize("name", NASTY)
def test_a_nasty_database_is_created_from_template0_then_left_alone(pg, name):
    pg.roles[name] = dict(pg.roles["postgres"])
    kwargs = {"owner": name, "encoding": "UTF8", "lc_collate": "C.UTF-8", "lc_ctype": "C.UTF-8", **CONN}
    assert pgha_postgres.database_present(name, **kwargs)["database"] == "created"
    template, args = template_of(pg.executed[-1][1])
    assert template == "CREATE DATABASE {} OWNER {} ENCODING {} LC_COLLATE {} LC_CTYPE {} TEMPLATE template0"
    assert args[:2] == [sql.Identifier(name), sql.Identifier(name)]
    assert [a.wrapped for a in args[2:]] == ["UTF8", "C.UTF-8", "C.UTF-8"]
    assert pgha_postgres.database_present(name, **kwargs) == {}
    _assert_only_quoted(pg, [name], [])


def test_an_existing_database_gets_its_owner_but_never_a_new_encoding(pg):
    pg.databases["appdb"] = ("LATIN1", "C", "C", "postgres")
    assert pgha_postgres.database_present("appdb", owner="app", **CONN) == {
        "owner": {"old": "postgres", "new": "app"}}
    with pytest.raises(CommandExecutionError, match="encoding is 'LATIN1', pillar says 'UTF8'.*dump and restore"):
        pgha_postgres.database_present("appdb", owner="app", encoding="UTF8", **CONN)
    assert not [c for _, c in pg.executed if template_of(c)[0].startswith(("DROP", "ALTER DATABASE {} SET"))]


def test_test_mode_before_the_database_exists(pg):
    assert pgha_postgres.extension_present("pg_trgm", "later", test=True, **CONN) == {"extension": "created"}
    assert pgha_postgres.auth_function_present("postgres", "later", test=True, **CONN)["fixed"] == ["function"]
    with pytest.raises(CommandExecutionError, match='cannot connect: FATAL:  database "later" does not exist'):
        pgha_postgres.extension_present("pg_trgm", "later", **CONN)


def test_an_extension_in_a_nasty_database_and_schema(pg):
    db, schema = NASTY[0], NASTY[4]
    pg.databases[db] = ("UTF8", "C", "C", "postgres")
    assert pgha_postgres.extension_present("pg_trgm", db, schema=schema, **CONN) == {
        "extension": "created", "schema": schema}
    assert template_of(pg.executed[-1][1]) == ("CREATE EXTENSION IF NOT EXISTS {} SCHEMA {}",
                                               [sql.Identifier("pg_trgm"), sql.Identifier(schema)])
    assert pg.requests()[-1]["conn"] == {"dbname": db, "port": 5432, "host": "/var/run/postgresql"}
    assert pgha_postgres.extension_present("pg_trgm", db, schema=schema, **CONN) == {}
    assert pgha_postgres.extension_present("pg_trgm", db, schema="public", **CONN) == {
        "schema": {"old": schema, "new": "public"}}


# -- PgBouncer's auth function ----------------------------------------------------------------

@pytest.mark.parametrize("user", ["PgBouncer", 'pg"bouncer', "pgbouncer"])
def test_the_auth_function_is_granted_to_the_exact_role(pg, user):
    pgha_postgres.role_present(user, login=True, **CONN)
    changes = pgha_postgres.auth_function_present(user, "template1", **CONN)
    assert changes["auth_function"] == f"pgbouncer.get_auth(text) for {user}"
    statements = [template_of(c) for db, c in pg.executed if db == "template1"][1:]
    assert [t for t, _ in statements] == [
        "CREATE SCHEMA IF NOT EXISTS {}",
        "CREATE OR REPLACE FUNCTION {}(p_usename text) RETURNS TABLE(usename name, passwd text) "
        "LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS {}",
        "REVOKE ALL ON FUNCTION {}(text) FROM PUBLIC",
        "GRANT USAGE ON SCHEMA {} TO {}",
        "GRANT EXECUTE ON FUNCTION {}(text) TO {}"]
    assert statements[-1][1] == [sql.Identifier("pgbouncer", "get_auth"), sql.Identifier(user)]
    assert statements[3][1] == [sql.Identifier("pgbouncer"), sql.Identifier(user)]
    assert pgha_postgres.auth_function_present(user, "template1", **CONN) == {}


def test_the_auth_function_needs_its_role(pg):
    with pytest.raises(CommandExecutionError, match="does not exist"):
        pgha_postgres.auth_function_present("nobody", "postgres", **CONN)
    assert pgha_postgres.auth_function_present("nobody", "postgres", test=True, **CONN)["fixed"]


# -- the runner -------------------------------------------------------------------------------

def test_runner_error_names_the_statement_only(pg):
    def boom(dbname, composed):
        import psycopg2  # pylint: disable=import-outside-toplevel
        raise psycopg2.Error("SCRAM-SHA-256$secret in the statement")
    with patch.object(pg, "execute", boom):
        with pytest.raises(CommandExecutionError) as err:
            pgha_postgres.role_present("app", password_pillar="pgha:tests:pw0", **CONN)
    assert "statement 0 (SELECT rolsuper" in str(err.value)
    assert "SCRAM" not in str(err.value)


def test_the_runner_argv_carries_no_data(pg):
    pgha_postgres.database_present("$(reboot)", owner="postgres", **CONN)
    for argv, _, stdin in pg.runs:
        assert argv[1:] == ["-c", pgha_postgres.RUNNER]
        args = [a for _, op_args in json.loads(stdin)["ops"] for a in op_args]
        assert {"l": "$(reboot)"} in args or {"i": ["$(reboot)"]} in args


def test_virtual():
    assert pgha_postgres.__virtual__() == "pgha_postgres"
    with patch.dict(sys.modules, {"psycopg2": None}):
        assert pgha_postgres.__virtual__()[0] is False
