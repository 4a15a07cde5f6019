"""
Type A: PgBouncer on the database nodes, its auth_query role and function.
"""
import pytest

from .render_helpers import ONLY_ON, _states, _state, _render_file


@pytest.mark.parametrize("grains_id", ONLY_ON["typea"])
def test_pgbouncer_files(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typea")
    # the auth_query role's password only: owner-only, never diffed
    module, function, args = _state(states, "pgha-pgbouncer-userlist-file-managed")
    assert (module, function, args["name"]) == ("file", "managed", "/etc/pgbouncer/userlist.txt")
    assert (args["mode"], args["show_changes"]) == ("0600", False)
    assert (args["user"], args["group"]) == ("postgres", "postgres")
    assert "contents" not in args and args["context"] == {"tplroot": "pgha"}     # read by the template
    if grains_id == "debian12":
        text = _render_file(states, "pgha-pgbouncer-userlist-file-managed", grains_id, "typea")
        assert text == '"pgbouncer" "pgb-secret"\n'
    module, function, args = _state(states, "pgha-pgbouncer-config-file-managed")
    assert args["name"] == "/etc/pgbouncer/pgbouncer.ini"
    text = _render_file(states, "pgha-pgbouncer-config-file-managed", grains_id, "typea")
    lines = text.splitlines()
    assert "app = host=127.0.0.1 port=5432 dbname=appdb pool_size=10 pool_mode=transaction" in lines
    assert "* = host=127.0.0.1 port=5432" in lines
    assert lines.index("[databases]") < lines.index("[pgbouncer]")
    for line in ("listen_addr = 0.0.0.0", "listen_port = 6432", "auth_type = scram-sha-256",
                 "auth_file = /etc/pgbouncer/userlist.txt", "auth_user = pgbouncer",
                 "auth_query = SELECT usename, passwd FROM pgbouncer.get_auth($1)",
                 "pool_mode = session", "unix_socket_dir = /var/run/postgresql"):
        assert line in lines, line
    assert "pgb-secret" not in text
    module, function, args = _state(states, "pgha-pgbouncer-service-running")
    assert (module, function, args["name"], args["reload"]) == (
        "service", "running", "pgbouncer", True)
    assert args["watch"] == [{"sls": "pgha.pgbouncer.config"}]


def test_pgbouncer_auth_role_and_function_on_the_leader(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea")
    module, function, args = _state(states, "pgha-postgresql-user-pgbouncer-present")
    assert (module, function) == ("pgha_postgres", "role_present")
    # the password is read on the minion from pillar, never a state argument
    assert (args["name"], args["password_pillar"], args["login"]) == (
        "pgbouncer", "pgha:pgbouncer:auth_user:password", True)
    assert "password" not in args and not args.get("superuser")
    functions = sorted(s for s in states if s.startswith("pgha-postgresql-pgbouncer-auth-function-"))
    assert functions == [f"pgha-postgresql-pgbouncer-auth-function-{db}-present"
                         for db in ("appdb", "postgres", "template1")]
    for db in ("template1", "postgres", "appdb"):
        module, function, args = _state(states, f"pgha-postgresql-pgbouncer-auth-function-{db}-present")
        assert (module, function) == ("pgha_postgres", "auth_function_present")
        assert (args["name"], args["auth_user"], args["runas"], args["port"]) == (db, "pgbouncer", "postgres", 5432)
        expected = [{"pgha_postgres": "pgha-postgresql-user-pgbouncer-present"}]
        if db == "appdb":   # a pillar database exists before its function is created
            expected.append({"pgha_postgres": "pgha-postgresql-database-appdb-present"})
        assert args["require"] == expected


@pytest.mark.parametrize("pillar_id", ["typeb_vip"])
def test_no_pgbouncer_role_in_type_b(rendered, pillar_id):
    states = _states(rendered, "show_sls", "debian12", pillar_id)   # the leader: users render
    assert "pgha-postgresql-user-app-present" in states
    assert not [s for s in states if "pgbouncer" in s and s.startswith("pgha-postgresql-")]
    assert _state(states, "pgha-pgbouncer-not-used")[:2] == ("test", "nop")
