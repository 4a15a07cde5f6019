"""
Type A: PgBouncer on the database nodes, its auth_query role and function.
"""
import pytest

from .render_helpers import ONLY_ON, REPO, _states, _state, _render_file


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


# -- issue 21: PgBouncer in Type B, its settings by version, switchover --------------------------

def _ini(states, state_id, grains_id, pillar_id):
    text = _render_file(states, state_id, grains_id, pillar_id)
    return text, text.splitlines()


def test_type_a_writes_the_new_settings_with_their_defaults(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea")
    text, lines = _ini(states, "pgha-pgbouncer-config-file-managed", "debian12", "typea")
    for line in ("max_db_connections = 0", "query_wait_timeout = 120"):
        assert line in lines, line
    # unset (~ / ''): not written, so PgBouncer 1.18 (Debian 12) reads every line it is given
    for name in ("max_prepared_statements", "auth_dbname", "so_reuseport"):
        assert not [line for line in lines if line.startswith(name)], name
    assert "pgha-pgbouncer-unit-template-managed" not in states
    assert not [s for s in states if s.startswith("pgha-pgbouncer-config-file-2")]


def test_type_b_with_pgbouncer_every_setting_and_two_processes(rendered):
    states = _states(rendered, "show_sls", "debian13", "typeb_pgbouncer")
    text, lines = _ini(states, "pgha-pgbouncer-config-file-managed", "debian13", "typeb_pgbouncer")
    for line in ("listen_addr = 0.0.0.0", "listen_port = 6432", "* = host=127.0.0.1 port=5432",
                 "auth_user = pgbouncer", "auth_query = SELECT usename, passwd FROM pgbouncer.get_auth($1)",
                 "auth_dbname = postgres", "pool_mode = transaction", "max_db_connections = 50",
                 "max_prepared_statements = 100", "query_wait_timeout = 30", "so_reuseport = 1",
                 "unix_socket_dir = /var/run/postgresql", "admin_users = pgbouncer"):
        assert line in lines, line
    assert "pgb-secret" not in text
    # process 2: the same settings, its own socket directory and file
    _, _, args = _state(states, "pgha-pgbouncer-config-file-2-managed")
    assert (args["name"], args["mode"], args["context"]["instance"]) == ("/etc/pgbouncer/pgbouncer-2.ini", "0640", 2)
    _, second = _ini(states, "pgha-pgbouncer-config-file-2-managed", "debian13", "typeb_pgbouncer")
    assert "unix_socket_dir = /run/pgbouncer-2" in second and "so_reuseport = 1" in second
    assert [line for line in second if not line.startswith(("unix_socket_dir", ";;"))] == \
        [line for line in lines if not line.startswith(("unix_socket_dir", ";;"))]
    # the template unit and process 2's service, reloaded on its own file and the userlist
    _, _, args = _state(states, "pgha-pgbouncer-unit-template-managed")
    assert args["name"] == "/etc/systemd/system/pgbouncer@.service"
    unit = _render_file(states, "pgha-pgbouncer-unit-template-managed", "debian13", "typeb_pgbouncer")
    for line in ("User=postgres", "RuntimeDirectory=pgbouncer-%i", "Type=simple",
                 "ExecStart=/usr/sbin/pgbouncer /etc/pgbouncer/pgbouncer-%i.ini"):
        assert line in unit.splitlines(), line
    module, function, args = _state(states, "pgha-pgbouncer-2-service-running")
    assert (module, function, args["name"], args["reload"], args["enable"]) == (
        "service", "running", "pgbouncer@2", True, True)
    assert {"file": "pgha-pgbouncer-config-file-2-managed"} in args["watch"]
    assert {"file": "pgha-pgbouncer-userlist-file-managed"} in args["watch"]
    assert "pgha-pgbouncer-3-service-running" not in states
    # a node that leaves the cluster stops process 2 too
    assert _state(states, "pgha-ops-leave-pgbouncer@2-dead")[2] == {"name": "pgbouncer@2", "enable": False}
    # the deploy's gate, and the firewall's port (when on) comes with pgbouncer:enabled
    module, function, args = _state(states, "pgha-pgbouncer-gate-ready")
    assert (module, function, args["port"]) == ("pgha_pgbouncer", "ready", 6432)


def test_type_b_highstate_includes_pgbouncer(rendered):
    states = _states(rendered, "highstate", "debian12", "typeb_pgbouncer_userlist")
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.pgbouncer.install", "pgha.pgbouncer.config", "pgha.pgbouncer.service"} <= sls
    assert "pgha.pgbouncer.gate" not in sls


def test_userlist_mode(rendered):
    states = _states(rendered, "show_sls", "debian12", "typeb_pgbouncer_userlist")
    text, lines = _ini(states, "pgha-pgbouncer-config-file-managed", "debian12", "typeb_pgbouncer_userlist")
    assert not [line for line in lines if line.startswith(("auth_user", "auth_query", "auth_dbname"))]
    assert "auth_file = /etc/pgbouncer/userlist.txt" in lines and "admin_users = pgbouncer" in lines
    # the verifiers are read on the node by the template: nothing secret among the arguments
    module, function, args = _state(states, "pgha-pgbouncer-userlist-file-managed")
    assert (args["mode"], args["show_changes"], args["context"]) == ("0600", False, {"tplroot": "pgha"})
    # the role stays (PgBouncer's admin user), without the auth function
    assert "pgha-postgresql-user-pgbouncer-present" in states
    assert not [s for s in states if s.startswith("pgha-postgresql-pgbouncer-auth-function-")]


def test_userlist_template_lists_the_users_with_a_password():
    text = (REPO / "pgha/pgbouncer/files/userlist.txt.jinja").read_text()
    assert "salt['pgha_pgbouncer.userlist'](names" in text
    assert "user.get('password') and user.get('login', True)" in text


def test_switchover_is_patronis_alone(rendered):
    """pgbouncer:switchover_pause is refused for now (the validator says why): Patroni's
    switchover alone, with PgBouncer on."""
    states = _states(rendered, "show_sls", "debian12", "typeb_pgbouncer_userlist")
    assert _state(states, "pgha-ops-switched-over")[:2] == ("pgha_patroni", "switched_over")
    states = _states(rendered, "show_sls", "debian13", "typeb_pgbouncer")
    assert _state(states, "pgha-ops-switched-over")[:2] == ("pgha_patroni", "switched_over")
