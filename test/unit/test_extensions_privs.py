"""The extension table (pgha_extensions), the canonical form of postgresql:privs (pgha_privs)
and pg_ident lines (pgha_formats.pg_ident_line)."""
import pytest

import pgha_extensions
import pgha_formats
import pgha_privs


def _cfg(extensions, preload="pg_stat_statements", version="15"):
    return {"postgresql": {"version": version, "extensions": extensions,
                           "parameters": {"shared_preload_libraries": preload}}}


def test_packages_once_each_and_preload_appended():
    cfg = pgha_extensions.derive(_cfg([
        {"name": "postgis", "db": "a"}, {"name": "postgis_topology", "db": "a"}, {"name": "pg_trgm", "db": "a"},
        {"name": "pg_cron", "db": "postgres"}, {"name": "pg_stat_statements", "db": "a"},
        {"name": "mine", "db": "a", "package": "site-mine-{version}", "preload": True}], version="17"))
    pg = cfg["postgresql"]
    assert pg["extension_packages"] == ["postgresql-17-postgis-3", "postgresql-17-cron", "site-mine-17"]
    assert pg["parameters"]["shared_preload_libraries"] == "pg_stat_statements,pg_cron,mine"


def test_no_extension_no_package_and_preload_unchanged():
    pg = pgha_extensions.derive(_cfg([], preload=""))["postgresql"]
    assert pg["extension_packages"] == [] and pg["parameters"]["shared_preload_libraries"] == ""


@pytest.mark.parametrize("entry, refused", [
    ({"name": "pgcrypto"}, False), ({"name": "vector"}, False), ({"name": "timescaledb"}, True),
    ({"name": "timescaledb", "package": "timescaledb-2-postgresql-{version}"}, False), ({"name": "nope"}, True)])
def test_problem(entry, refused):
    assert bool(pgha_extensions.problem(entry)) is refused


def test_canonical_privileges():
    assert pgha_privs.canonical({"role": "a, b", "privs": "all", "type": "database", "db": "d"}) == {
        "db": "d", "type": "database", "roles": ["a", "b"], "privs": ["CREATE", "TEMPORARY", "CONNECT"],
        "objs": ["d"], "schema": None, "target_roles": [], "grant_option": False, "state": "present", "exact": False}
    got = pgha_privs.canonical({"role": ["x"], "privs": "EXECUTE", "type": "function", "db": "d",
                                "objs": "add(integer, integer):pg_ls_waldir()"})
    assert (got["objs"], got["schema"]) == (["add", "pg_ls_waldir"], "public")
    got = pgha_privs.canonical({"role": "r", "privs": "temp", "type": "database", "db": "d", "objs": "d"})
    assert got["privs"] == ["TEMPORARY"]
    got = pgha_privs.canonical({"role": "r", "privs": "ALL", "type": "default_privs", "db": "d", "objs": "TYPES"})
    assert (got["privs"], got["schema"]) == (["USAGE"], None)


def test_pg_ident_lines():
    line = pgha_formats.pg_ident_line
    assert line({"mapname": "ops", "system_username": "alice", "pg_username": "app"}) == "ops alice app"
    assert line({"mapname": "ops", "system_username": "/^(.*)@corp$", "pg_username": "\\1"}) == 'ops /^(.*)@corp$ "\\1"'
    assert line({"mapname": "m", "system_username": "a b", "pg_username": 'My "App"'}) == 'm "a b" "My ""App"""'
    for bad in ({"mapname": "m", "system_username": "/a b", "pg_username": "x"},
                {"mapname": "m", "system_username": "a", "pg_username": "x\ny"}):
        with pytest.raises(ValueError):
            line(bad, "pgha:postgresql:pg_ident:0")
