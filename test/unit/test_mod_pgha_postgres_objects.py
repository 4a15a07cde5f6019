"""pgha_postgres's application objects (issue 22) against a real, throwaway PostgreSQL (the
server fixture of test_mod_pgha_postgres_server): membership, connection limits, a role dropped
after its objects were reassigned, a database dropped, schemas, privileges and default
privileges read back from the catalogs, test mode, and a second run that changes nothing."""
import pytest

import pgha_postgres
from test_mod_pgha_postgres_server import _conn, _psql, mod, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("server")
Error = pgha_postgres.CommandExecutionError


def _twice(fn, *args, **kwargs):
    """The changes of a run; a test-mode run before it reports the same and changes nothing;
    a second run changes nothing."""
    planned = fn(*args, test=True, **kwargs)
    first = fn(*args, **kwargs)
    assert planned == first
    assert fn(*args, **kwargs) == {}
    return first


def test_membership_and_conn_limit(mod, server):
    conn = _conn(server)
    mod.role_present("readers grp", login=False, **conn)
    mod.role_present('Mem "ber"', login=True, **conn)
    assert _twice(mod.role_membership, 'Mem "ber"', groups=["readers grp", "pg_monitor"], conn_limit=7,
                  **conn) == {"groups": {"added": ["readers grp", "pg_monitor"]},
                              "conn_limit": {"old": -1, "new": 7}}
    assert mod.role_groups('Mem "ber"', **conn) == ["pg_monitor", "readers grp"]
    # a membership granted by hand stays
    mod._execute([("GRANT pg_read_all_stats TO {}", [mod._i('Mem "ber"')])], **conn)
    assert mod.role_membership('Mem "ber"', groups=["readers grp"], conn_limit="7", **conn) == {}
    with pytest.raises(Error, match="does not exist"):
        mod.role_membership("no such role", groups=["readers grp"], **conn)
    assert mod.role_membership("no such role", groups=["readers grp"], test=True, **conn) == {
        "groups": {"added": ["readers grp"]}}


def test_role_with_objects_is_refused_then_reassigned_and_dropped(mod, server):
    conn = _conn(server)
    for name in ("leaving", "heir"):
        mod.role_present(name, login=True, **conn)
    mod.database_present("leaving's db", owner="leaving", **conn)
    db = {**conn, "dbname": "leaving's db"}
    mod._execute([("CREATE TABLE public.t (i int)", []), ("ALTER TABLE public.t OWNER TO {}", [mod._i("leaving")]),
                  ("GRANT SELECT ON TABLE public.t TO {}", [mod._i("heir")])], **db)
    mod._execute([("CREATE TABLE public.other (i int)", []),
                  ("GRANT SELECT ON TABLE public.other TO {}", [mod._i("leaving")])], **conn)
    assert mod.role_dependencies("leaving", **conn) == {"": 1, "leaving's db": 1, "postgres": 1}
    with pytest.raises(Error, match="reassign_owned_to"):
        mod.role_absent("leaving", **conn)
    with pytest.raises(Error, match="reassign_owned_to"):
        mod.role_absent("leaving", test=True, **conn)
    assert _twice(mod.role_absent, "leaving", reassign_owned_to="heir", **conn) == {
        "role": "dropped", "reassigned_to": "heir", "databases": ["leaving's db", "postgres"]}
    rows = mod._execute([("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 't'", [])], **db)[0]
    assert rows == [["heir"]]
    rows = mod._execute([("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = {}",
                          [mod._l("leaving's db")])], **conn)[0]
    assert rows == [["heir"]]
    assert mod._role("leaving", conn) is None


def test_database_conn_limit_and_drop(mod, server):
    conn = _conn(server)
    mod.database_present("to drop", **conn)
    assert _twice(mod.database_conn_limit, "to drop", 5, **conn) == {"conn_limit": {"old": -1, "new": 5}}
    assert _twice(mod.database_absent, "to drop", **conn) == {"database": "dropped"}
    for kept in ("postgres", "template1", "template0"):
        with pytest.raises(Error, match="never dropped"):
            mod.database_absent(kept, **conn)


def test_schema_and_privileges(mod, server):
    conn = _conn(server)
    for name in ("owner'", "reader", "writer"):
        mod.role_present(name, login=True, **conn)
    mod.database_present("privs db", **conn)
    assert _twice(mod.schema_present, "App Schema", "privs db", owner="owner'", **conn) == {
        "schema": "created", "owner": "owner'"}
    assert _twice(mod.schema_present, "App Schema", "privs db", owner="writer", **conn) == {
        "owner": {"old": "owner'", "new": "writer"}}
    db = {**conn, "dbname": "privs db"}
    mod._execute([('CREATE TABLE "App Schema".a (i serial)', []), ('CREATE TABLE "App Schema"."B b" (i int)', []),
                  ('CREATE FUNCTION "App Schema".f(i int) RETURNS int LANGUAGE sql AS $$ SELECT i $$', [])], **db)
    args = {"db": "privs db", **conn}
    assert _twice(mod.privileges_present, type="database", roles=["reader", "writer"], privs=["CONNECT"],
                  objs=["privs db"], **args) == {"privileges": [
                      "granted CONNECT on database privs db to reader", "granted CONNECT on database privs db to writer"]}
    assert _twice(mod.privileges_present, type="schema", roles=["reader"], privs=["USAGE"], objs=["App Schema"],
                  **args)["privileges"] == ["granted USAGE on schema App Schema to reader"]
    assert _twice(mod.privileges_present, type="table", roles=["reader"], privs=["SELECT"], objs=["ALL_IN_SCHEMA"],
                  schema="App Schema", **args)["privileges"] == [
                      "granted SELECT on table App Schema.B b to reader", "granted SELECT on table App Schema.a to reader"]
    assert _twice(mod.privileges_present, type="table", roles=["writer"], privs=["SELECT", "INSERT", "UPDATE"],
                  objs=["a"], schema="App Schema", **args)
    # exact: what is not listed is revoked (from these roles, on these objects)
    assert _twice(mod.privileges_present, type="table", roles=["writer"], privs=["SELECT"], objs=["a"],
                  schema="App Schema", exact=True, **args) == {"privileges": [
                      "revoked INSERT, UPDATE on table App Schema.a from writer"]}
    assert _twice(mod.privileges_present, type="sequence", roles=["writer"], privs=["USAGE"], objs=["a_i_seq"],
                  schema="App Schema", **args)
    assert _twice(mod.privileges_present, type="function", roles=["PUBLIC"], privs=["EXECUTE"], objs=["f"],
                  schema="App Schema", state="absent", **args) == {"privileges": [
                      "revoked EXECUTE on function App Schema.f from PUBLIC"]}
    assert _twice(mod.privileges_present, type="function", roles=["reader"], privs=["EXECUTE"], objs=["f"],
                  schema="App Schema", grant_option=True, **args)
    assert _twice(mod.privileges_present, type="default_privs", roles=["reader"], privs=["SELECT"], objs=["TABLES"],
                  schema="App Schema", target_roles=["writer"], **args) == {"privileges": [
                      "granted SELECT on new tables of writer in App Schema to reader"]}
    assert _twice(mod.privileges_present, type="default_privs", roles=["reader"], privs=["EXECUTE"],
                  objs=["FUNCTIONS"], **args)
    rows = mod._execute([("SELECT has_table_privilege('reader', '\"App Schema\".\"B b\"', 'SELECT'), "
                          "has_table_privilege('writer', '\"App Schema\".a', 'INSERT'), "
                          "has_function_privilege('writer', '\"App Schema\".f(int)', 'EXECUTE'), "
                          "has_function_privilege('reader', '\"App Schema\".f(int)', 'EXECUTE WITH GRANT OPTION')",
                          [])], **db)[0]
    assert rows == [[True, False, False, True]]


def test_privilege_errors(mod, server):
    conn = {"db": "postgres", **_conn(server)}
    with pytest.raises(Error, match="unknown privileges"):
        mod.privileges_present(type="table", roles=["reader"], privs=["SELECT; DROP"], objs=["x"], **conn)
    with pytest.raises(Error, match="does not exist"):
        mod.privileges_present(type="table", roles=["reader"], privs=["SELECT"], objs=["nope"], schema="public", **conn)
    mod._execute([("CREATE FUNCTION public.o(int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", []),
                  ("CREATE FUNCTION public.o(text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", [])],
                 **_conn(server))
    with pytest.raises(Error, match="several argument lists"):
        mod.privileges_present(type="function", roles=["reader"], privs=["EXECUTE"], objs=["o"], schema="public", **conn)


def test_preload_missing(mod, server):
    assert mod.preload_missing("pg_cron", **_conn(server)) is True
