"""Application roles and objects (issue 22) on the running Type B cluster, through the
pillar and pgha.config: a role in a group, a schema with privileges (checked by logging in
as the grantee), PostGIS created from its Debian package, a pg_ident map used by a peer line,
a role dropped after its objects were reassigned (refused before the pillar says to whom),
and a second run that changes nothing. Runs after test_typeb, test_day2 and test_sources on
the same cluster (conftest.MODULE_ORDER)."""

import psycopg2
import pytest

from pghalab.cluster import connect, leader_name, pillar_changed, query, run_orch, salt_json
from pghalab.image import SUITES

from .helpers import assert_orch_ok, node_has_package

SCENARIO = "typeb"
DB = "objdb"
OWNER = ("app_owner", "owner-Pw-7x2")
READER = ("reader", "reader-Pw-9k4")
LEAVING = "leaving"


def _objects(pillar, leaving=None):
    pg = pillar["pgha"].setdefault("postgresql", {})
    users = [{"name": OWNER[0], "password": OWNER[1]},
             {"name": "readers", "password": "group-Pw-3q8", "login": False},
             {"name": READER[0], "password": READER[1], "role": "readers", "conn_limit": 10}]
    if leaving is not None:
        users.append({"name": LEAVING, "state": "absent", **leaving})
    pg["users"] = pg.get("users", []) + users
    pg["databases"] = pg.get("databases", []) + [{"name": DB, "owner": OWNER[0], "conn_limit": 50}]
    pg["schemas"] = [{"schema": "sales", "db": DB, "owner": OWNER[0]}]
    pg["privs"] = [
        {"role": "readers", "privs": "CONNECT", "type": "database", "db": DB, "objs": DB},
        {"role": "readers", "privs": "USAGE", "type": "schema", "db": DB, "objs": "sales"},
        {"role": "readers", "privs": "SELECT", "type": "table", "db": DB, "objs": "ALL_IN_SCHEMA",
         "schema": "sales", "exact": True},
        {"role": "readers", "privs": "SELECT", "type": "default_privs", "db": DB, "objs": "TABLES",
         "schema": "sales", "target_roles": OWNER[0]},
    ]
    pg["extensions"] = pg.get("extensions", []) + [{"name": "postgis", "db": DB}]
    # the OS user nobody logs in as reader over the socket: peer authentication through a map
    pg["pg_ident"] = [{"mapname": "ops", "system_username": "nobody", "pg_username": READER[0]}]
    pg["pg_hba"] = pg.get("pg_hba", []) + [{"type": "local", "database": DB, "user": READER[0],
                                             "method": "peer", "options": "map=ops"}]


def _leader(lab):
    name = leader_name(lab)
    return name, lab.node(name)


def _users_state(lab, minion):
    """state.sls pgha.postgresql.users on the leader: {state id: state}."""
    ret = salt_json(lab, minion, "state.sls", "pgha.postgresql.users")[minion]
    assert isinstance(ret, dict), ret
    return {st.get("__id__", sid): st for sid, st in ret.items()}


def _as(lab, host, login, sql):
    conn = connect(lab, host, DB, login=login)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


@pytest.fixture(scope="module")
def objects_pillar(lab, deployed):
    with pillar_changed(lab, _objects) as pillar:
        yield pillar


def test_config_applies_roles_schemas_privileges_and_postgis(lab, objects_pillar):
    result = run_orch(lab, "pgha.config")
    assert_orch_ok(result)
    name, _ = _leader(lab)
    host = lab.node(name).address
    package = f"postgresql-{SUITES[lab.info['suite']]['postgresql']}-postgis-3"
    assert all(node_has_package(n, package) for n in lab.nodes()), f"{package} on every node"
    assert query(lab, host, "SELECT postgis_version() IS NOT NULL", dbname=DB) == [(True,)]
    assert query(lab, host, "SELECT pg_has_role('reader', 'readers', 'MEMBER'), rolconnlimit "
                            "FROM pg_roles WHERE rolname = 'reader'") == [(True, 10)]
    assert query(lab, host, "SELECT datconnlimit, pg_get_userbyid(datdba) FROM pg_database "
                            f"WHERE datname = '{DB}'") == [(50, OWNER[0])]
    # the schema's owner creates a table; the grantee reads it (default privileges), not more
    _as(lab, host, OWNER, "CREATE TABLE sales.orders (id int); INSERT INTO sales.orders VALUES (1)")
    assert _as(lab, host, READER, "SELECT count(*) FROM sales.orders") == [(1,)]
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _as(lab, host, READER, "INSERT INTO sales.orders VALUES (2)")


def test_pg_ident_map_with_peer(lab, objects_pillar):
    _, node = _leader(lab)
    res = node.exec(["runuser", "-u", "nobody", "--", "psql", "-XAt", "-h", "/var/run/postgresql",
                     "-U", READER[0], "-d", DB, "-c", "SELECT current_user"], check=False, capture=True)
    assert (res.returncode, res.stdout.strip()) == (0, READER[0]), res.stderr
    # a system user the map does not name is refused by the same line
    res = node.exec(["runuser", "-u", "daemon", "--", "psql", "-XAt", "-h", "/var/run/postgresql",
                     "-U", READER[0], "-d", DB, "-c", "SELECT 1"], check=False, capture=True)
    assert res.returncode != 0 and "Peer authentication failed" in res.stderr, res.stderr


def test_role_with_objects_dropped_only_with_reassign(lab, objects_pillar):
    name, node = _leader(lab)
    host = node.address
    query(lab, host, f"CREATE ROLE {LEAVING} LOGIN")
    query(lab, host, f"CREATE TABLE sales.legacy (id int); ALTER TABLE sales.legacy OWNER TO {LEAVING}; "
                     f"GRANT SELECT ON sales.orders TO {LEAVING}", dbname=DB)
    with pillar_changed(lab, lambda p: p["pgha"]["postgresql"]["users"].append(
            {"name": LEAVING, "state": "absent"})):
        states = _users_state(lab, name)
        refused = states[f"pgha-postgresql-user-{LEAVING}-absent"]
        assert refused["result"] is False and "reassign_owned_to" in refused["comment"], refused
        assert query(lab, host, f"SELECT count(*) FROM pg_roles WHERE rolname = '{LEAVING}'") == [(1,)]
    with pillar_changed(lab, lambda p: p["pgha"]["postgresql"]["users"].append(
            {"name": LEAVING, "state": "absent", "reassign_owned_to": OWNER[0]})):
        states = _users_state(lab, name)
        dropped = states[f"pgha-postgresql-user-{LEAVING}-absent"]
        assert dropped["result"] is True and dropped["changes"]["role"] == "dropped", dropped
        assert DB in dropped["changes"]["databases"]
        assert query(lab, host, f"SELECT count(*) FROM pg_roles WHERE rolname = '{LEAVING}'") == [(0,)]
        assert query(lab, host, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'legacy'",
                     dbname=DB) == [(OWNER[0],)]
        # the table now in the schema is readable by the grantee after the next run (ALL_IN_SCHEMA)
        again = _users_state(lab, name)
        assert again[f"pgha-postgresql-user-{LEAVING}-absent"]["changes"] == {}


def test_second_run_changes_nothing(lab, objects_pillar):
    name, _ = _leader(lab)
    _users_state(lab, name)         # the tables created by the tests above get their grants
    states = _users_state(lab, name)
    changed = {sid: st["changes"] for sid, st in states.items() if st.get("changes")}
    assert not changed, changed
    assert all(st["result"] is True for st in states.values()), states
    assert _as(lab, lab.node(name).address, READER, "SELECT count(*) FROM sales.legacy") == [(0,)]
