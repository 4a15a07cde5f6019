"""
Patroni: packages or pip, its configuration file (per distribution and pillar), the dynamic
configuration highstate keeps in the DCS.
"""
import copy

import pytest

from .render_helpers import (NODE_ADDRESS, GRAINS, ALL_GRAINS, PILLARS, RTO, TYPE_A_PG, TYPE_A_LB, COMBOS,
                             COMBO_IDS, TEMPLATE_COMBOS, _states, _state, PG, _patroni_config, _render_file)


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_postgresql_and_patroni_per_distribution(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    pkgs, data_dir, _, patroni_config, distro_service, _ = PG[grains_id]
    if pillar_id == "pins":     # postgresql:version_minor: '18' (issue 23)
        pkgs = [{name: "15.18-*"} for name in pkgs]

    assert _state(states, "pgha-postgresql-pkgs-installed") == (
        "pkg", "installed", {"pkgs": pkgs, "require": [{"sls": "pgha.repo"}]})
    assert _state(states, "pgha-postgresql-distro-service-dead")[2]["name"] == distro_service
    if ALL_GRAINS[grains_id]["os_family"] == "Debian":
        module, _, args = _state(states, "pgha-postgresql-createcluster-conf-managed")
        assert args["name"] == "/etc/postgresql-common/createcluster.conf"
        assert "create_main_cluster = false" in args["contents"]
        assert args["require_in"] == [{"pkg": "pgha-postgresql-pkgs-installed"}]
    else:
        assert "pgha-postgresql-createcluster-conf-managed" not in states

    # the file with every password: owner-only and never diffed
    module, function, args = _state(states, "pgha-patroni-config-file-managed")
    assert (module, function) == ("file", "managed")
    assert args["name"] == patroni_config
    assert args["mode"] == "0600"
    assert args["show_changes"] is False
    assert (args["user"], args["group"]) == ("postgres", "postgres")
    assert args["source"] == "salt://pgha/patroni/files/config.yml.jinja"
    assert args["context"] == {"tplroot": "pgha"}
    assert _state(states, "pgha-patroni-data-dir-managed")[2]["name"] == data_dir
    assert _state(states, "pgha-patroni-data-dir-managed")[2]["mode"] == "0700"
    assert _state(states, "pgha-patroni-config-dir-managed")[2]["name"] == "/etc/patroni"

    # a config change reloads Patroni, never restarts it
    module, function, args = _state(states, "pgha-patroni-service-running")
    assert (module, function, args["name"]) == ("service", "running", "patroni")
    assert args["reload"] is True and args["enable"] is True
    assert args["watch"] == [{"sls": "pgha.patroni.config"}]


@pytest.mark.parametrize("grains_id", GRAINS)
def test_patroni_from_packages(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    expected = {"Debian": ["patroni", "python3-etcd", "python3-psycopg2"],
                "RedHat": ["patroni", "patroni-etcd"]}[ALL_GRAINS[grains_id]["os_family"]]
    assert _state(states, "pgha-patroni-pkgs-installed")[2]["pkgs"] == expected
    assert "pgha-patroni-pip-installed" not in states
    assert "pgha-patroni-unit-file-managed" not in states


@pytest.mark.parametrize("grains_id", GRAINS)
def test_patroni_from_pip(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "pip")
    deps = {"Debian": ["python3-venv"],
            "RedHat": ["python3"]}[ALL_GRAINS[grains_id]["os_family"]]
    assert "pgha-patroni-pkgs-installed" not in states
    assert _state(states, "pgha-patroni-pip-deps-installed")[2]["pkgs"] == deps
    module, _, args = _state(states, "pgha-patroni-venv-created")
    assert (module, args["name"], args["creates"]) == (
        "cmd", 'python3 -m venv "$PGHA_VENV"', "/opt/patroni/bin/pip")
    assert args["env"] == [{"PGHA_VENV": "/opt/patroni"}]     # the path never shell syntax
    module, function, args = _state(states, "pgha-patroni-pip-installed")
    assert (module, function) == ("pip", "installed")
    # no VIP: no vip-manager 1.x, so Patroni uses the etcd v3 API
    assert args["pkgs"] == ["patroni[etcd3]==4.1.5", "psycopg2-binary"]
    assert args["bin_env"] == "/opt/patroni"
    assert args["require"] == [{"file": "pgha-patroni-pip-conf-managed"}]
    # the sources in the venv's pip.conf, owner-only and never diffed (an index URL may hold a
    # password), none on pip's command line
    assert not {"index_url", "find_links", "no_index", "proxy", "env_vars"} & set(args)
    module, function, args = _state(states, "pgha-patroni-pip-conf-managed")
    assert (module, function, args["name"], args["mode"], args["show_changes"]) == (
        "file", "managed", "/opt/patroni/pip.conf", "0600", False)
    assert "contents" not in args and args["context"] == {"tplroot": "pgha"}
    if grains_id == "debian12":
        text = _render_file(states, "pgha-patroni-pip-conf-managed", grains_id, "pip")
        assert text.splitlines()[1:] == ["[global]", "index-url = http://mirror.example/simple"]
    module, _, args = _state(states, "pgha-patroni-unit-file-managed")
    assert args["name"] == "/etc/systemd/system/patroni.service"
    assert args["context"] == {"patroni_bin": "/opt/patroni/bin/patroni",
                               "config": PG[grains_id][3], "user": "postgres"}


@pytest.mark.parametrize("grains_id,pillar_id", TEMPLATE_COMBOS,
                         ids=[f"{g}-{p}" for g, p in TEMPLATE_COMBOS])
def test_dynamic_config_is_the_bootstrap_dcs(rendered, grains_id, pillar_id):
    """One source: what highstate keeps in the DCS is what bootstrap writes there."""
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    config = _patroni_config(rendered, grains_id, pillar_id)
    expected = copy.deepcopy(config["bootstrap"]["dcs"])
    if pillar_id == "clone":   # bootstrap pauses archiving; the pillar's command waits for a resume
        expected["postgresql"]["parameters"]["archive_command"] = "/usr/bin/pgbackrest --stanza=copy archive-push %p"
    assert _state(states, "pgha-patroni-dynamic-config-managed") == (
        "pgha_patroni", "dynamic_config", {
            "config": expected, "archiving": "keep",
            "paused_archive_command": "true  # pgha: WAL archiving paused after a restore",
            "preset": PILLARS[pillar_id]["pgha"]["patroni"].get("rto_profile", "norm"),
            "preset_keys": ["loop_wait", "primary_start_timeout", "retry_timeout", "synchronous_mode",
                            "synchronous_mode_strict", "ttl", "watchdog"],
            "cluster": PILLARS[pillar_id]["pgha"]["cluster_name"],   # named in a standby refusal
            "require": [{"service": "pgha-patroni-service-running"}]})
    assert "pause" not in config["bootstrap"]["dcs"]      # maintenance mode survives highstate
    assert _state(states, "pgha-patroni-pending-restart-reported") == (
        "pgha_patroni", "pending_restart", {
            "watch": [{"sls": "pgha.patroni.config"}],
            "require": [{"pgha_patroni": "pgha-patroni-dynamic-config-managed"}]})
    assert config["tags"] == {"nofailover": False, "noloadbalance": False, "clonefrom": False,
                              "nosync": False}


@pytest.mark.parametrize("grains_id,pillar_id", TEMPLATE_COMBOS,
                         ids=[f"{g}-{p}" for g, p in TEMPLATE_COMBOS])
def test_patroni_config_file(rendered, grains_id, pillar_id):
    config = _patroni_config(rendered, grains_id, pillar_id)
    _, data_dir, bin_dir, _, _, _ = PG[grains_id]
    assert {"scope", "namespace", "name", "restapi", "bootstrap", "postgresql", "tags"} <= set(config)
    namespace = PILLARS[pillar_id]["pgha"].get("patroni", {}).get("etcd", {}).get("namespace", "/service/")
    assert (config["scope"], config["name"], config["namespace"]) == (PILLARS[pillar_id]["pgha"]["cluster_name"], "pg1", namespace)
    # secrets come through unmasked (Salt 3008 masks pillar only outside templates)
    assert config["restapi"] == {
        "listen": "0.0.0.0:8008", "connect_address": f"{NODE_ADDRESS}:8008",
        "authentication": {"username": "patroni", "password": "rest-secret"}}
    auth = config["postgresql"]["authentication"]
    assert auth["superuser"] == {"username": "postgres", "password": "su-secret"}
    assert auth["replication"] == {"username": "replicator", "password": "repl-secret"}
    assert auth["rewind"] == auth["superuser"]
    pg = config["postgresql"]
    assert (pg["data_dir"], pg["bin_dir"]) == (data_dir, bin_dir)
    assert pg["connect_address"] == f"{NODE_ADDRESS}:5432"
    # the postgres user's home, where Patroni can write its .pgpass
    home = "/var/lib/pgsql" if ALL_GRAINS[grains_id]["os_family"] == "RedHat" else "/var/lib/postgresql"
    assert pg["pgpass"] == f"{home}/.pgpass_patroni"
    assert f"host replication replicator {NODE_ADDRESS}/32 scram-sha-256" in pg["pg_hba"]
    assert pg["parameters"]["unix_socket_directories"] == "/var/run/postgresql"
    dcs = config["bootstrap"]["dcs"]
    # the failover preset's timings (norm unless the pillar names another), pillar keys first
    timings = RTO.get(pillar_id, RTO["typeb_vip"])[0]
    assert (dcs["ttl"], dcs["loop_wait"], dcs["retry_timeout"], dcs["primary_start_timeout"]) == timings
    # DCS-only parameters go to bootstrap, the others to the local config
    assert dcs["postgresql"]["parameters"]["max_connections"] == 200
    assert "max_connections" not in pg["parameters"]
    assert pg["parameters"]["shared_buffers"] == "128MB"
    assert "data-checksums" in config["bootstrap"]["initdb"]
    if pillar_id == "typeb_vip" and ALL_GRAINS[grains_id]["os_family"] == "RedHat":
        assert config["etcd3"] == {"hosts": [f"{NODE_ADDRESS}:2379"]}     # PGDG's vip-manager: v3
        assert "etcd" not in config
    elif pillar_id == "typeb_vip":
        assert config["etcd"] == {"hosts": [f"{NODE_ADDRESS}:2379"]}      # v2 for vip-manager 1
        assert "etcd3" not in config
        assert "host appdb app 10.0.0.0/24 scram-sha-256" in pg["pg_hba"]
    elif pillar_id == "typea":
        # Type A: no vip-manager, so the etcd v3 API; etcd members and peers from the mine
        assert config["etcd3"] == {"hosts": [f"{a}:2379" for _, a in sorted(TYPE_A_PG.items())]}
        assert "etcd" not in config
        assert dcs["synchronous_mode"] is True
        for address in TYPE_A_PG.values():
            assert f"host replication replicator {address}/32 scram-sha-256" in pg["pg_hba"]
        # the balancers reach PostgreSQL directly (HAProxy's direct ports); no other cluster does
        for address in TYPE_A_LB.values():
            assert f"host all all {address}/32 scram-sha-256" in pg["pg_hba"]
        assert not [line for line in pg["pg_hba"] if "10.9.0." in line]
    elif pillar_id == "dcs_exists":
        assert config["etcd3"] == {"hosts": ["10.0.0.21:2379", "10.0.0.22:2379"]}
        assert "etcd" not in config
