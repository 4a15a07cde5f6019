"""
Patroni's and etcd's own settings (issue 23) as the states and templates render them:
permanent slots in the dynamic configuration, callbacks installed 0750 for postgres, the data
directory policies, the log section and its directory, the etcd namespace that Patroni and
vip-manager share, etcd's user (its password only in owner-only files), the version pins in
the install states and apt's preferences, and pgha.update with a pinned or pip-installed
Patroni.
"""
from .render_helpers import CALLBACK_SCRIPT, PG, PIN_DOWNGRADE, _patroni_config, _state, _states


def test_slots_callbacks_log_namespace_and_etcd_user_in_config(rendered):
    config = _patroni_config(rendered, "debian13", "patroni_features")
    assert config["bootstrap"]["dcs"]["slots"] == {
        "standby_dc2": {"type": "physical"},
        "cdc": {"type": "logical", "database": "appdb", "plugin": "pgoutput"}}
    pg = config["postgresql"]
    assert pg["callbacks"] == {"on_role_change": "/etc/patroni/callbacks/on_role_change",
                               "on_start": "/etc/patroni/callbacks/on_start"}
    assert pg["remove_data_directory_on_rewind_failure"] is True
    assert pg["remove_data_directory_on_diverged_timelines"] is False
    assert config["log"] == {"level": "WARNING", "traceback_level": "ERROR",
                             "format": "%(asctime)s %(levelname)s: %(message)s", "max_queue_size": 1000,
                             "loggers": {"urllib3": "DEBUG"}, "dir": "/var/log/patroni",
                             "file_num": 4, "file_size": 25000000}
    assert config["namespace"] == "/pgha/"
    # a VIP with vip-manager 1.x: the v2 API, whose user Patroni logs in with
    assert config["etcd"]["username"] == "patroni" and config["etcd"]["password"] == "etcd-secret"


def test_default_config_keeps_the_journal_and_no_slots(rendered):
    config = _patroni_config(rendered, "debian12", "typeb_vip")
    assert "slots" not in config["bootstrap"]["dcs"] and "callbacks" not in config["postgresql"]
    assert "dir" not in config["log"] and config["log"]["level"] == "INFO"
    assert config["postgresql"]["remove_data_directory_on_rewind_failure"] is False
    assert "username" not in config["etcd"]


def test_callback_scripts_and_log_dir_states(rendered):
    states = _states(rendered, "show_sls", "debian13", "patroni_features")
    _, _, args = _state(states, "pgha-patroni-callback-on_role_change-managed")
    assert (args["name"], args["contents"], args["mode"]) == (
        "/etc/patroni/callbacks/on_role_change", CALLBACK_SCRIPT, "0750")
    assert (args["user"], args["group"]) == ("postgres", "postgres")
    _, _, args = _state(states, "pgha-patroni-callback-on_start-managed")
    assert args["source"] == "salt://site/on_start.sh" and args["mode"] == "0750"
    _, _, args = _state(states, "pgha-patroni-callbacks-dir-managed")
    assert args["clean"] is True and args["mode"] == "0750"
    assert _state(states, "pgha-patroni-log-dir-managed")[2]["mode"] == "0750"
    assert _state(states, "pgha-patroni-log-dir-managed")[2]["user"] == "postgres"
    # etcd's authentication switched on for the v2 API (vip-manager 1.x), after the gate
    assert _state(states, "pgha-etcd-auth-enabled")[:2] == ("pgha_etcd_auth", "enabled")
    args = _state(states, "pgha-etcd-auth-enabled")[2]
    assert (args["api"], args["prefix"]) == ("etcd", "/pgha/main")
    assert "etcd-secret" not in repr(states) and "etcd-root-secret" not in repr(states)


def test_vip_manager_reads_the_namespace_and_its_etcd_user_from_an_owner_only_file(rendered):
    states = _states(rendered, "show_sls", "debian13", "patroni_features")
    _, function, args = _state(states, "pgha-vip-manager-etcd-auth-file-managed")
    assert function == "managed" and args["mode"] == "0600" and args["show_changes"] is False
    assert args["name"] == "/etc/pgha/vip-manager-etcd.env"
    dropin = _state(states, "pgha-vip-manager-unit-dropin-managed")[2]
    assert dropin["context"]["prefix"] == "/pgha/main"
    assert dropin["context"]["env_file"] == "/etc/pgha/vip-manager-etcd.env"
    # without a user, no file
    states = _states(rendered, "show_sls", "debian12", "typeb_vip")
    assert _state(states, "pgha-vip-manager-etcd-auth-file-managed")[1] == "absent"
    assert _state(states, "pgha-vip-manager-unit-dropin-managed")[2]["context"]["prefix"] == "/service/main"


def test_pins_in_install_states_and_apt_preferences(rendered):
    states = _states(rendered, "show_sls", "debian12", "pins")
    assert _state(states, "pgha-postgresql-pkgs-installed")[2]["pkgs"] == [
        {"postgresql-15": "15.18-*"}, {"postgresql-client-15": "15.18-*"}]
    assert _state(states, "pgha-patroni-pkgs-installed")[2]["pkgs"] == [
        {"patroni": "3.0.2-*"}, "python3-etcd", "python3-psycopg2"]
    assert _state(states, "pgha-etcd-pkgs-installed")[2]["pkgs"] == [
        {"etcd-server": "3.4.23-*"}, {"etcd-client": "3.4.23-*"}]
    _, _, args = _state(states, "pgha-repo-pins-managed")
    assert args["name"] == "/etc/apt/preferences.d/pgha-pins"
    assert "Package: postgresql-15 postgresql-client-15\nPin: version 15.18-*\nPin-Priority: 1001" in args["contents"]
    # pgha.update (postgres) goes to the pinned version, the pin file first
    _, function, args = _state(states, "pgha-ops-update-pkgs-latest")
    assert function == "installed" and args["pkgs"] == [
        {"postgresql-15": "15.18-*"}, {"postgresql-client-15": "15.18-*"}]
    assert {"file": "pgha-ops-update-pins-managed"} in args["require"]
    # no pin: the newest, and no preferences file
    states = _states(rendered, "show_sls", "debian12", "typeb_vip")
    assert _state(states, "pgha-postgresql-pkgs-installed")[2]["pkgs"] == PG["debian12"][0]
    assert _state(states, "pgha-repo-pins-managed")[1] == "absent"


def _order(body):
    """The order the compiler gave a state of show_sls (1 where the SLS says so)."""
    items, = [value for key, value in body.items() if not key.startswith("__")]
    return next(item["order"] for item in items if isinstance(item, dict) and "order" in item)


def test_a_pin_older_than_the_installed_package_stops_the_run_first(rendered):
    """pgha_packages.downgrades refuses (its test double, for "pins"): the repo guard fails
    with the refusal, failhard, order 1: before the pin file and every package state."""
    states = _states(rendered, "show_sls", "debian12", "pins")
    gate = states["pgha-repo-pins-gate"]
    assert gate["__sls__"] == "pgha.repo"
    module, function, args = _state(states, "pgha-repo-pins-gate")
    assert (module, function) == ("test", "fail_without_changes")
    assert args["name"] == args["comment"] == PIN_DOWNGRADE and args["failhard"] is True and _order(gate) == 1
    for state_id in ("pgha-repo-pins-managed", "pgha-postgresql-pkgs-installed", "pgha-patroni-pkgs-installed",
                     "pgha-etcd-pkgs-installed", "pgha-ops-update-pkgs-latest"):
        assert _order(states[state_id]) > 1, state_id
    # nothing older (no pin here): the guard passes, first as well
    states = _states(rendered, "show_sls", "debian12", "typeb_vip")
    assert _state(states, "pgha-repo-pins-gate")[:2] == ("test", "succeed_without_changes")
    assert _order(states["pgha-repo-pins-gate"]) == 1


def test_update_of_a_pip_installed_patroni_upgrades_the_virtualenv(rendered):
    states = _states(rendered, "show_sls", "debian12", "pip_update")
    module, function, args = _state(states, "pgha-ops-update-pkgs-latest")
    assert (module, function) == ("pip", "installed")
    assert args["pkgs"] == ["patroni[etcd3]==4.1.5"] and args["bin_env"] == "/opt/patroni"
    assert _state(states, "pgha-ops-update-patroni-restarted")[2]["onchanges"] == [
        {"pip": "pgha-ops-update-pkgs-latest"}]
    assert _state(states, "pgha-ops-update-replica-healthy")[2]["require"] == [
        {"pip": "pgha-ops-update-pkgs-latest"}]
