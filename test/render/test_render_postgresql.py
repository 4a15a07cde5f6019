"""
PostgreSQL: users, databases and extensions on the leader only; adopting a standalone instance.
"""
import pytest

from .render_helpers import GRAINS, ALL_GRAINS, _states, _state, PG


@pytest.mark.parametrize("grains_id", GRAINS)
def test_users_databases_extensions_on_the_leader(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    assert "pgha-postgresql-users-not-leader" not in states
    module, function, args = _state(states, "pgha-postgresql-user-app-present")
    assert (module, function) == ("postgres_user", "present")
    assert args["password"] == "app-secret"
    assert args["encrypted"] == "scram-sha-256"
    assert (args["login"], args["createdb"], args["superuser"]) == (True, True, False)
    assert (args["user"], args["db_port"]) == ("postgres", 5432)
    module, _, args = _state(states, "pgha-postgresql-database-appdb-present")
    assert (module, args["owner"], args["template"]) == ("postgres_database", "app", "template0")
    assert (args["encoding"], args["lc_collate"]) == ("UTF8", "C.UTF-8")
    module, _, args = _state(states, "pgha-postgresql-extension-appdb-pg_trgm-present")
    assert (module, args["name"], args["maintenance_db"]) == ("postgres_extension", "pg_trgm", "appdb")


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
    assert {"postgres_user": "pgha-postgresql-adopt-replicator-present"} in args["require"]
    replicator = _state(states, "pgha-postgresql-adopt-replicator-present")[2]
    assert replicator["replication"] is True and replicator["password"] == "repl-secret"
    assert replicator["require"] == [{"pgha": "pgha-postgresql-existing-checked"}]
