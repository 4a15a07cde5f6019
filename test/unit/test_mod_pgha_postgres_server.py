"""pgha_postgres against a real, throwaway PostgreSQL (initdb in a temporary directory, socket
only): nasty names round-trip exactly, passwords log in, a second run changes nothing.
Skipped where no PostgreSQL server binaries are installed or the test cannot run them as the
``postgres`` OS user (initdb refuses root)."""
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest.mock import patch

import pytest

import pgha_postgres

BINDIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
NASTY = ['My "App"', "it's", "back\\slash", "#hash", "$(touch /tmp/pwned)", "100%", "a space",
         "*star", ": colon", "Ünïcødé", "Foo", "x; DROP ROLE postgres; --", "{brace}",
         "m" * 63, "é" * 31 + "e"]
PASSWORDS = ["pässwörd #1; --", "it's \"quoted\" \\ $x %s `tick`", "0123", "Ⅸ ﬁ"]


def _usable():
    if not BINDIRS or os.geteuid() != 0:
        return False
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return os.path.exists(os.path.join(BINDIRS[0], "postgres"))


pytestmark = pytest.mark.skipif(not _usable(), reason="no PostgreSQL server binaries usable here")


def _as_postgres(argv, **kwargs):
    proc = subprocess.run(argv, user="postgres", group="postgres", check=False, capture_output=True,
                          text=True, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def server():
    # not under pytest's tmp_path: its parents are 0700 root, and the server runs as postgres
    base = Path(tempfile.mkdtemp(prefix="pgha-pg-"))
    os.chmod(base, 0o755)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    shutil.chown(sock, "postgres", "postgres")
    shutil.chown(base, "postgres", "postgres")
    binary = BINDIRS[0]
    _as_postgres([f"{binary}/initdb", "-D", str(data), "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"], cwd=base)
    with socket.socket() as probe:      # a free port: other test runs may hold a fixed one
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    _as_postgres([f"{binary}/pg_ctl", "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                  f"-k {sock} -p {port} -c listen_addresses=127.0.0.1", "start"], cwd=base)
    yield {"host": str(sock), "port": port, "binary": binary}
    _as_postgres([f"{binary}/pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"], cwd=base)
    shutil.rmtree(base)


def _run_all(argv, runas=None, stdin=None, env=None, **_):
    # The test's Python (with psycopg2) is not readable by the postgres OS user: the runner runs
    # as root here and connects as the database role postgres (trust over the socket).
    assert argv[:2] == [sys.executable, "-c"] and runas == "postgres"
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {}), "PGUSER": "postgres"})
    return {"retcode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.fixture
def mod(server):
    users = [{"name": n, "password": PASSWORDS[i % len(PASSWORDS)]} for i, n in enumerate(NASTY)]
    with patch.dict(pgha_postgres.__dict__, {"__salt__": {"cmd.run_all": _run_all},
                                             "__pillar__": {"pgha": {"postgresql": {"users": users}}}},
                    clear=False):
        yield pgha_postgres


def _conn(server):
    return {"runas": "postgres", "port": server["port"], "host": server["host"]}


def _psql(server, sql, db="postgres", user="postgres", password=None, host=None):
    env = {"PGPASSWORD": password} if password is not None else {}
    proc = subprocess.run([f"{server['binary']}/psql", "-XAtq", "-h", host or server["host"], "-p", server["port"],
                           "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", "-f", "-"], input=sql,
                          capture_output=True, text=True, check=False, env={**os.environ, **env})
    return proc


def test_nasty_roles_databases_and_extensions_round_trip(mod, server):
    conn = _conn(server)
    for i, name in enumerate(NASTY):
        key = f"pgha:postgresql:users:{i}:password"
        assert mod.role_present(name, password_pillar=key, login=True, createdb=False, **conn)["role"] == "created"
        assert mod.role_present(name, password_pillar=key, login=True, createdb=False, **conn) == {}
        assert mod.database_present(name, owner=name, encoding="UTF8", lc_collate="C.UTF-8",
                                    lc_ctype="C.UTF-8", **conn) == {"database": "created", "owner": name,
                                                                   "encoding": "UTF8", "lc_collate": "C.UTF-8",
                                                                   "lc_ctype": "C.UTF-8"}
        assert mod.database_present(name, owner=name, encoding="UTF8", lc_collate="C.UTF-8",
                                    lc_ctype="C.UTF-8", **conn) == {}
    rows = mod._execute([("SELECT rolname FROM pg_roles WHERE rolname = ANY({}) ORDER BY 1", [mod._l(NASTY)]),
                         ("SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY({})",
                          [mod._l(NASTY)])], **conn)
    assert sorted(r[0] for r in rows[0]) == sorted(NASTY)
    assert sorted(tuple(r) for r in rows[1]) == sorted((n, n) for n in NASTY)
    assert not os.path.exists("/tmp/pwned")
    mod._execute([("CREATE SCHEMA {}", [mod._i(NASTY[1])])], dbname=NASTY[0], **conn)
    assert mod.extension_present("pg_trgm", NASTY[0], schema=NASTY[1], **conn) == {
        "extension": "created", "schema": NASTY[1]}
    assert mod.extension_present("pg_trgm", NASTY[0], schema=NASTY[1], **conn) == {}


def test_passwords_log_in_exactly(mod, server):
    conn = _conn(server)
    for i, name in enumerate(NASTY[:4]):
        mod.role_present(name, password_pillar=f"pgha:postgresql:users:{i}:password", login=True, **conn)
        verifier = mod._role(name, conn)["verifier"]
        assert verifier.startswith("SCRAM-SHA-256$4096:")
        password = PASSWORDS[i % len(PASSWORDS)]
        assert mod._scram_matches(password, verifier)
        assert not mod._scram_matches(password[:-1], verifier)
        # a real login over TCP (scram-sha-256), libpq doing its own SASLprep
        login = _psql(server, "SELECT current_user", user=name, password=password, host="127.0.0.1")
        assert (login.returncode, login.stdout) == (0, name + "\n"), login.stderr
        assert _psql(server, "SELECT 1", user=name, password=password[:-1], host="127.0.0.1").returncode != 0


def test_server_computes_the_same_verifier_as_pgha(mod, server):
    """A password set by PostgreSQL itself (its own SASLprep) is recognised as unchanged."""
    conn = _conn(server)
    for i, password in enumerate(PASSWORDS):
        name = f"server-set-{i}"
        mod._execute([("CREATE ROLE {} LOGIN", [mod._i(name)]),
                      ("SET password_encryption = 'scram-sha-256'", []),
                      ("ALTER ROLE {} PASSWORD {}", [mod._i(name), mod._l(password)])], **conn)
        assert mod._scram_matches(password, mod._role(name, conn)["verifier"]), password


def test_mixed_case_auth_user_gets_the_function(mod, server):
    conn = _conn(server)
    mod.role_present("PgBouncer Auth", login=True, **conn)
    for db in ("template1", "postgres", NASTY[0]):
        changes = mod.auth_function_present("PgBouncer Auth", db, **conn)
        assert changes["auth_function"] == "pgbouncer.get_auth(text) for PgBouncer Auth"
        assert mod.auth_function_present("PgBouncer Auth", db, **conn) == {}
    rows = mod._execute([("SELECT has_function_privilege({}, 'pgbouncer.get_auth(text)', 'EXECUTE'), "
                          "has_function_privilege('public', 'pgbouncer.get_auth(text)', 'EXECUTE'), "
                          "(SELECT count(*) FROM pg_roles WHERE rolname = 'pgbouncer auth')",
                          [mod._l("PgBouncer Auth")])], **conn)
    assert rows[0] == [[True, False, 0]]


def test_a_role_attribute_change_is_reported_once(mod, server):
    conn = _conn(server)
    mod.role_present("flags", login=True, **conn)
    assert mod.role_present("flags", login=True, createdb=True, replication=True, **conn) == {
        "createdb": {"old": False, "new": True}, "replication": {"old": False, "new": True}}
    assert mod.role_present("flags", login=True, createdb=True, replication=True, **conn) == {}
    assert mod.role_present("flags", login=False, test=True, **conn) == {"login": {"old": True, "new": False}}
    assert mod._role("flags", conn)["flags"]["login"] is True


def test_an_error_names_the_statement_not_the_password(mod, server):
    conn = _conn(server)
    with pytest.raises(pgha_postgres.CommandExecutionError) as err:
        mod.database_present("owned by nobody", owner="no such role", **conn)
    assert "no such role" in str(err.value) or "does not exist" in str(err.value)
    assert "SCRAM" not in str(err.value)
