"""
Application roles and objects (issue 22), rendered from the typeb_vip pillar on the leader:
membership and connection limits, a removed role after everything else, a database dropped
only with drop: true, schemas, privileges in their canonical form, extensions with their
packages and preloaded libraries, pg_ident lines in Patroni's configuration.
"""
import pytest

from .render_helpers import GRAINS, NASTY_NAME, _states, _state, _patroni_config

CONN = {"runas": "postgres", "port": 5432, "host": "/var/run/postgresql"}
DEBIAN = [g for g in GRAINS if g.startswith("debian")]


def _order(states, state_id):
    body = states[state_id]
    return next(item["order"] for key, value in body.items() if not key.startswith("__")
                for item in value if isinstance(item, dict) and "order" in item)


def test_membership_conn_limit_and_removal(rendered):
    states = _states(rendered, "show_sls", "debian12", "typeb_vip")
    _, function, args = _state(states, "pgha-postgresql-user-reader-present")
    assert (function, args["password_pillar"]) == ("role_present", "pgha:postgresql:users:3:password")
    assert _state(states, "pgha-postgresql-user-reader-membership") == ("pgha_postgres", "role_membership", {
        "name": "reader", "groups": ["pg_monitor", "app"], "conn_limit": 5, **CONN,
        "require": [{"pgha_postgres": "pgha-postgresql-user-reader-present"},
                    {"pgha_postgres": "pgha-postgresql-user-app-present"}]})
    assert "pgha-postgresql-user-old app-present" not in states
    assert _state(states, "pgha-postgresql-user-old app-absent") == ("pgha_postgres", "role_absent", {
        "name": "old app", "reassign_owned_to": "app", **CONN,
        "require": [{"pgha_postgres": "pgha-postgresql-user-app-present"}]})
    # removals come after every object and privilege (the compiler's order: the file's)
    assert _order(states, "pgha-postgresql-user-old app-absent") > _order(states, "pgha-postgresql-privs-2-present")


def test_database_limit_and_drop(rendered):
    states = _states(rendered, "show_sls", "debian12", "typeb_vip")
    assert _state(states, "pgha-postgresql-database-limited-conn-limit") == (
        "pgha_postgres", "database_conn_limit", {"name": "limited", "conn_limit": 20, **CONN,
                                                 "require": [{"pgha_postgres": "pgha-postgresql-database-limited-present"}]})
    assert _state(states, "pgha-postgresql-database-old db-absent") == (
        "pgha_postgres", "database_absent", {"name": "old db", **CONN})
    assert "pgha-postgresql-database-old db-present" not in states
    assert "pgha-postgresql-pgbouncer-auth-function-old db-present" not in states


def test_schemas_and_privileges(rendered):
    states = _states(rendered, "show_sls", "debian12", "typeb_vip")
    assert _state(states, "pgha-postgresql-schema-appdb-app schema-present") == (
        "pgha_postgres", "schema_present", {"name": "app schema", "db": "appdb", "owner": "app", **CONN,
                                            "require": [{"pgha_postgres": "pgha-postgresql-database-appdb-present"},
                                                        {"pgha_postgres": "pgha-postgresql-user-app-present"}]})
    _, function, args = _state(states, "pgha-postgresql-privs-0-present")
    require = args.pop("require")
    assert (function, args) == ("privileges_present", {
        "name": "postgresql:privs:0", "db": "appdb", "type": "table", "roles": ["reader"], "privs": ["SELECT"],
        "objs": ["ALL_IN_SCHEMA"], "schema": "app schema", "target_roles": [], "grant_option": False,
        "ensure": "present", "exact": True, **CONN})
    assert {"pgha_postgres": "pgha-postgresql-user-reader-present"} in require
    assert {"pgha_postgres": "pgha-postgresql-schema-appdb-app schema-present"} in require
    assert {"pgha_postgres": "pgha-postgresql-extension-appdb-postgis-present"} in require
    _, _, args = _state(states, "pgha-postgresql-privs-2-present")
    assert (args["type"], args["objs"], args["target_roles"]) == ("default_privs", ["TABLES"], ["app"])
    _, _, args = _state(states, "pgha-postgresql-privs-1-present")
    assert (args["type"], args["objs"], args["schema"]) == ("schema", ["app schema"], None)


@pytest.mark.parametrize("grains_id", DEBIAN)
def test_extension_packages_and_preload(rendered, grains_id):
    version = {"debian12": "15", "debian13": "17"}[grains_id]
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    _, function, args = _state(states, "pgha-postgresql-extension-pkgs-installed")
    assert (function, args["pkgs"]) == ("installed", [f"postgresql-{version}-postgis-3", f"postgresql-{version}-cron"])
    assert args["require"] == [{"sls": "pgha.postgresql.install"}]
    _, _, args = _state(states, "pgha-postgresql-extension-postgres-pg_cron-present")
    assert args["preload"] == "pg_cron"
    _, _, args = _state(states, "pgha-postgresql-extension-appdb-postgis-present")
    assert "preload" not in args
    if grains_id == "debian12":     # the file is rendered for debian12 (and rhel9) only
        config = _patroni_config(rendered, grains_id, "typeb_vip")
        assert config["postgresql"]["parameters"]["shared_preload_libraries"] == "pg_stat_statements,pg_cron"


def test_extension_packages_by_pgdg_rpm_names_on_el(rendered):
    _, _, args = _state(_states(rendered, "show_sls", "rhel9", "typeb_vip"), "pgha-postgresql-extension-pkgs-installed")
    assert args["pkgs"] == ["postgis34_16", "pg_cron_16"]


def test_no_extension_package_without_extensions(rendered):
    assert "pgha-postgresql-extension-pkgs-installed" not in _states(rendered, "show_sls", "debian12", "pip")


def test_pg_ident_and_a_map_in_pg_hba(rendered):
    pg = _patroni_config(rendered, "debian12", "typeb_vip")["postgresql"]
    nasty = '"' + NASTY_NAME.replace('"', '""') + '"'
    assert pg["pg_ident"] == ['ops /^(.*)$ "\\1"', f'ops "alice smith" {nasty}']
    assert "local appdb all peer map=ops" in pg["pg_hba"]
    assert "pg_ident" not in _patroni_config(rendered, "debian12", "dcs_exists")["postgresql"]
    # the pillar's lines right after the postgres user's own, before pgha's general lines
    assert pg["pg_hba"][:4] == ["local all postgres peer", "host appdb app 10.0.0.0/24 scram-sha-256",
                                "local appdb all peer map=ops", "local all all scram-sha-256"]
