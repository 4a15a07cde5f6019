"""
PostgreSQL: users, databases and extensions on the leader only; adopting a standalone instance.
"""
import json

import pytest

from .render_helpers import GRAINS, ALL_GRAINS, NASTY_NAME, _states, _state, PG


CONN = {"runas": "postgres", "port": 5432, "host": "/var/run/postgresql"}


@pytest.mark.parametrize("grains_id", GRAINS)
def test_users_databases_extensions_on_the_leader(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    assert "pgha-postgresql-users-not-leader" not in states
    module, function, args = _state(states, "pgha-postgresql-user-app-present")
    assert (module, function) == ("pgha_postgres", "role_present")
    # the password is read on the minion from the pillar key named here, never an argument
    assert args == {"name": "app", "password_pillar": "pgha:postgresql:users:0:password", "login": True,
                    "superuser": False, "createdb": True, "createrole": False, "replication": False, **CONN}
    module, function, args = _state(states, "pgha-postgresql-database-appdb-present")
    assert (module, function) == ("pgha_postgres", "database_present")
    assert args == {"name": "appdb", "owner": "app", "encoding": "UTF8", "lc_collate": "C.UTF-8",
                    "lc_ctype": "C.UTF-8", **CONN,
                    "require": [{"pgha_postgres": "pgha-postgresql-user-app-present"}]}
    module, function, args = _state(states, "pgha-postgresql-extension-appdb-pg_trgm-present")
    assert (module, function, args["name"], args["db"]) == ("pgha_postgres", "extension_present", "pg_trgm", "appdb")
    assert args["require"] == [{"pgha_postgres": "pgha-postgresql-database-appdb-present"}]


def test_nasty_names_arrive_exactly_and_no_password_is_an_argument(rendered):
    """A name that is SQL, shell and YAML syntax at once reaches the states as it is written
    (in the state ID too); no password shows anywhere in show_sls."""
    states = _states(rendered, "show_sls", "debian12", "typeb_vip")
    module, function, args = _state(states, f"pgha-postgresql-user-{NASTY_NAME}-present")
    assert (module, function, args["name"]) == ("pgha_postgres", "role_present", NASTY_NAME)
    assert args["password_pillar"] == "pgha:postgresql:users:1:password"
    _, _, args = _state(states, f"pgha-postgresql-database-{NASTY_NAME}-present")
    assert (args["name"], args["owner"]) == (NASTY_NAME, NASTY_NAME)
    assert args["require"] == [{"pgha_postgres": f"pgha-postgresql-user-{NASTY_NAME}-present"}]
    text = json.dumps(states)
    for secret in ("app-secret", "nasty-secret", "su-secret", "repl-secret"):
        assert secret not in text


@pytest.mark.parametrize("pillar_id", ["pip", "dcs_exists"])
def test_users_not_on_a_replica(rendered, pillar_id):
    states = _states(rendered, "show_sls", "debian12", pillar_id)
    assert _state(states, "pgha-postgresql-users-not-leader")[:2] == ("test", "nop")
    assert not [s for s in states if s.startswith("pgha-postgresql-user-")]


@pytest.mark.parametrize("grains_id", GRAINS)
def test_adopting_a_standalone_stops_it_last(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    version = PG[grains_id][1].split("/")[-2]          # .../15/main, .../15/data
    unit = {"Debian": f"postgresql@{version}-main", "RedHat": f"postgresql-{version}"}[ALL_GRAINS[grains_id]["os_family"]]
    assert _state(states, "pgha-postgresql-existing-checked") == (
        "pgha", "existing_postgresql_matches", {
            "version": version, "data_dir": PG[grains_id][1],
            "require": [{"test": "pgha-postgresql-adopt-announced"}]})
    module, function, args = _state(states, "pgha-postgresql-adopt-instance-stopped")
    assert (module, function, args["name"], args["enable"]) == ("service", "dead", unit, False)
    assert {"file": "pgha-postgresql-adopt-base-conf-present"} in args["require"]
    assert {"pgha_postgres": "pgha-postgresql-adopt-replicator-present"} in args["require"]
    assert {"pgha_postgres": "pgha-postgresql-adopt-postgres-present"} in args["require"]
    module, function, replicator = _state(states, "pgha-postgresql-adopt-replicator-present")
    assert (module, function) == ("pgha_postgres", "role_present")
    assert (replicator["replication"], replicator["login"]) == (True, True)
    assert "superuser" not in replicator and "password" not in replicator
    assert replicator["password_pillar"] == "pgha:postgresql:replication_user:password"
    superuser = _state(states, "pgha-postgresql-adopt-postgres-present")[2]
    assert (superuser["superuser"], superuser["password_pillar"]) == (True, "pgha:postgresql:superuser:password")
    assert "replication" not in superuser      # initdb's REPLICATION attribute stays
    assert replicator["require"] == [{"pgha": "pgha-postgresql-existing-checked"}]
