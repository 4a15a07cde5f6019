"""
Backups: pgBackRest (and its repository host), WAL-G, bootstrap from a backup (clone), restore.
"""
import json

import pytest

from .render_helpers import (NODE_ADDRESS, ALL_GRAINS, WAL_G_SECRETS, REPO_ADDRESS, ONLY_ON, WAL_G_JSON_COMBOS,
                             _states, _state, PG, _patroni_config, _render_file)


# -- pgBackRest ----------------------------------------------------------------------------------

def test_pgbackrest_archive_and_replica_method(rendered):
    config = _patroni_config(rendered, "debian12", "backup")
    params = config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert params["archive_mode"] == "on"
    assert params["archive_command"] == "/usr/bin/pgbackrest --stanza=main archive-push %p"
    pg = config["postgresql"]
    assert pg["create_replica_methods"] == ["pgbackrest", "basebackup"]
    assert pg["pgbackrest"] == {"command": "/usr/bin/pgbackrest --stanza=main --delta restore",
                                "keep_data": True, "no_params": True}
    assert pg["recovery_conf"] == {"restore_command": '/usr/bin/pgbackrest --stanza=main archive-get %f "%p"'}


def test_no_pgbackrest_by_default(rendered):
    config = _patroni_config(rendered, "debian12", "typeb_vip")
    assert "archive_command" not in config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert "pgbackrest" not in config["postgresql"] and "recovery_conf" not in config["postgresql"]
    assert config["postgresql"]["create_replica_methods"] == ["basebackup"]
    assert "pgha.pgbackrest" not in {b["__sls__"] for b in _states(rendered, "highstate", "debian12", "typeb_vip").values()}


def test_pgbackrest_states(rendered):
    states = _states(rendered, "show_sls", "debian12", "backup")
    module, _, args = _state(states, "pgha-pgbackrest-config-file-managed")
    assert (args["name"], args["mode"], args["show_changes"], args["user"]) == (
        "/etc/pgbackrest/pgbackrest.conf", "0600", False, "postgres")
    assert args["context"] == {"tplroot": "pgha"}       # the repository keys: read by the template
    assert "pgha-pgbackrest-repo-dir-managed" not in states          # s3: no local path
    assert _state(states, "pgha-pgbackrest-stanza-created")[:2] == ("pgha_pgbackrest", "stanza_created")
    service = _state(states, "pgha-pgbackrest-full-service-managed")[2]
    assert service["name"] == "/etc/systemd/system/pgha-pgbackrest-full.service"
    assert "User=postgres" in service["contents"] and "pg_is_in_recovery()" in service["contents"]
    assert "exec /usr/bin/pgbackrest --stanza=main --type=full backup" in service["contents"]
    timer = _state(states, "pgha-pgbackrest-diff-timer-managed")[2]
    assert "OnCalendar=Mon..Sat *-*-* 01:00:00" in timer["contents"]
    assert _state(states, "pgha-pgbackrest-full-timer-running")[2]["name"] == "pgha-pgbackrest-full.timer"
    text = _render_file(states, "pgha-pgbackrest-config-file-managed", "debian12", "backup")
    assert "repo1-type=s3\n" in text and "repo1-s3-key-secret=s3-secret\n" in text
    assert "[main]\npg1-path=/var/lib/postgresql/15/main\npg1-port=5432\n" in text


# -- WAL-G ---------------------------------------------------------------------------------------

WAL_G = "/usr/local/bin/wal-g --config /var/lib/postgresql/.walg.json"


def _rendered_text(rendered, kind, grains_id, pillar_id):
    result = rendered[(kind, grains_id, pillar_id)]
    assert result["rc"] == 0 and isinstance(result["data"], str), (
        f"{result['stdout']}\n{result['stderr']}")
    return result["data"]


def test_wal_g_archive_and_replica_method(rendered):
    config = _patroni_config(rendered, "debian12", "wal_g")
    params = config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert params["archive_mode"] == "on"
    assert params["archive_command"] == f"{WAL_G} wal-push %p"
    pg = config["postgresql"]
    assert pg["create_replica_methods"] == ["wal_g", "basebackup"]
    assert pg["wal_g"] == {"command": f"{WAL_G} backup-fetch /var/lib/postgresql/15/main LATEST",
                           "no_params": True}
    assert pg["recovery_conf"] == {"restore_command": f"{WAL_G} wal-fetch %f %p"}
    assert "pgbackrest" not in pg
    # what highstate keeps in the DCS archives through WAL-G too
    states = _states(rendered, "show_sls", "debian12", "wal_g")
    dynamic = _state(states, "pgha-patroni-dynamic-config-managed")[2]["config"]
    assert dynamic["postgresql"]["parameters"]["archive_command"] == f"{WAL_G} wal-push %p"


def test_wal_g_bootstrap_method(rendered):
    """The self-contained block pgha:patroni:bootstrap_method plugs into bootstrap:."""
    method = json.loads(_rendered_text(rendered, "bootstrap_wal_g", "debian12", "wal_g"))
    assert method == {"wal_g": {
        "command": f"{WAL_G} backup-fetch /var/lib/postgresql/15/main LATEST",
        "no_params": True,
        "recovery_conf": {"restore_command": f"{WAL_G} wal-fetch %f %p",
                          "recovery_target_action": "promote",
                          "recovery_target_timeline": "latest"}}}


@pytest.mark.parametrize("grains_id", ONLY_ON["wal_g"])
def test_wal_g_states(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "wal_g")
    home = "/var/lib/pgsql" if ALL_GRAINS[grains_id]["os_family"] == "RedHat" else "/var/lib/postgresql"
    # not packaged: the binary from pillar, checked against its hash
    assert _state(states, "pgha-wal-g-binary-managed") == ("file", "managed", {
        "name": "/usr/local/bin/wal-g", "source": "https://mirror.example/wal-g-pg-ubuntu-22.04-amd64",
        "source_hash": "sha256=" + "ab" * 32, "mode": "0755"})
    # the storage credentials: owner-only, never diffed, and not among the state's arguments
    module, function, args = _state(states, "pgha-wal-g-config-file-managed")
    assert (module, function, args["name"]) == ("file", "managed", f"{home}/.walg.json")
    assert (args["mode"], args["show_changes"], args["user"], args["group"]) == (
        "0600", False, "postgres", "postgres")
    assert args["context"] == {"tplroot": "pgha"}
    assert args["require"] == [{"sls": "pgha.postgresql.install"}]
    assert "pgha-wal-g-file-prefix-dir-managed" not in states        # s3: no local path
    # the backup timer: backup-push on the primary only, then the retention
    service = _state(states, "pgha-wal-g-backup-service-managed")[2]
    assert service["name"] == "/etc/systemd/system/pgha-wal-g-backup.service"
    assert "User=postgres" in service["contents"] and "pg_is_in_recovery()" in service["contents"]
    wal_g = f"/usr/local/bin/wal-g --config {home}/.walg.json"
    assert (f"|| {{ {wal_g} backup-push {PG[grains_id][1]} && {wal_g} delete retain FULL 4 --confirm; }}'"
            in service["contents"])
    timer = _state(states, "pgha-wal-g-backup-timer-managed")[2]
    assert "OnCalendar=*-*-* 01:00:00" in timer["contents"]
    assert _state(states, "pgha-wal-g-backup-timer-running")[2]["name"] == "pgha-wal-g-backup.timer"
    assert "pgha-wal-g-backup-timer-dead" not in states


@pytest.mark.parametrize("grains_id", [g for g, _ in WAL_G_JSON_COMBOS])
def test_wal_g_config_file(rendered, grains_id):
    text = _rendered_text(rendered, "walg_json", grains_id, "wal_g")
    assert text.startswith("{")
    options = json.loads(text)
    _, data_dir, _, _, _, _ = PG[grains_id]
    assert options == {
        "WALG_S3_PREFIX": "s3://pgha-backups/main", "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "walg-key-id", "AWS_SECRET_ACCESS_KEY": "walg-s3-secret",
        "WALG_DELTA_MAX_STEPS": "6",
        # where PostgreSQL is: pgha's, not pillar's
        "PGDATA": data_dir, "PGHOST": "/var/run/postgresql", "PGPORT": "5432"}


@pytest.mark.parametrize("kind", ["show_sls", "highstate"])
def test_wal_g_secrets_stay_in_the_file(rendered, kind):
    """No secret of wal_g:json in any rendered state: not in an argument, a test.nop name or
    anything else a state run could print as its comment."""
    text = json.dumps(_states(rendered, kind, "debian12", "wal_g"))
    for secret in WAL_G_SECRETS:
        assert secret not in text


def test_wal_g_file_storage_without_schedule(rendered):
    states = _states(rendered, "show_sls", "debian12", "wal_g_file")
    module, function, args = _state(states, "pgha-wal-g-file-prefix-dir-managed")
    assert (module, function, args["name"], args["mode"], args["user"]) == (
        "file", "directory", "/var/lib/wal-g", "0750", "postgres")
    assert _state(states, "pgha-wal-g-binary-managed")[2]["source"] == "file:///srv/pgha-repo/wal-g"
    # backup_on_calendar '': no timer, and one an earlier pillar installed goes
    assert not [s for s in states if s.startswith("pgha-wal-g-backup-") and s.endswith("-managed")]
    assert _state(states, "pgha-wal-g-backup-timer-dead")[2] == {
        "name": "pgha-wal-g-backup.timer", "enable": False}
    assert _state(states, "pgha-wal-g-backup-units-absent")[2]["names"] == [
        "/etc/systemd/system/pgha-wal-g-backup.timer", "/etc/systemd/system/pgha-wal-g-backup.service"]


def test_wal_g_highstate_configures_it_before_patroni(rendered):
    states = _states(rendered, "highstate", "debian12", "wal_g")
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.wal_g.install", "pgha.wal_g.config", "pgha.wal_g.schedule"} <= sls
    assert not {s for s in sls if s.startswith("pgha.pgbackrest")}

    def order(state_id):     # the compiler's order: include order, as the run applies it
        (items,) = [v for k, v in states[state_id].items() if not k.startswith("__")]
        return next(i["order"] for i in items if isinstance(i, dict) and "order" in i)
    assert order("pgha-wal-g-config-file-managed") < order("pgha-patroni-service-running")


def test_no_wal_g_by_default(rendered):
    config = _patroni_config(rendered, "debian12", "typeb_vip")
    assert "wal_g" not in config["postgresql"]
    states = _states(rendered, "highstate", "debian12", "typeb_vip")
    assert not {b["__sls__"] for b in states.values() if b["__sls__"].startswith("pgha.wal_g")}
    nop = _state(_states(rendered, "show_sls", "debian12", "typeb_vip"), "pgha-wal-g-not-used")
    assert nop == ("test", "nop", {"name": "WAL-G is not enabled (pgha:wal_g:enabled)"})


# -- bootstrap from a backup, restore ------------------------------------------------------------

def test_clone_bootstraps_from_the_source_stanza(rendered):
    config = _patroni_config(rendered, "debian12", "clone")
    assert config["scope"] == "copy"
    source = "/usr/bin/pgbackrest --stanza=main"
    assert config["bootstrap"]["method"] == "pgbackrest"
    assert config["bootstrap"]["pgbackrest"] == {
        "command": f'{source} --delta restore --type=time "--target=2026-11-26 04:00:00+00" --target-action=promote',
        "keep_existing_recovery_conf": True, "no_params": True,
        "recovery_conf": {"restore_command": f'{source} archive-get %f "%p"',
                          "recovery_target_action": "promote", "recovery_target_timeline": "latest",
                          "recovery_target_time": "2026-11-26 04:00:00+00"}}
    # its own archive is its own stanza, and starts paused
    params = config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert params["archive_command"] == "true  # pgha: WAL archiving paused after a restore"
    assert config["postgresql"]["recovery_conf"] == {
        "restore_command": '/usr/bin/pgbackrest --stanza=copy archive-get %f "%p"'}
    # while highstate keeps the pillar's command as the one a resume restores
    states = _states(rendered, "show_sls", "debian12", "clone")
    dynamic = _state(states, "pgha-patroni-dynamic-config-managed")[2]
    assert dynamic["config"]["postgresql"]["parameters"]["archive_command"] == (
        "/usr/bin/pgbackrest --stanza=copy archive-push %p")
    assert dynamic["archiving"] == "keep"


def test_clone_reads_the_source_stanza_section(rendered):
    text = _rendered_text(rendered, "pgbackrest_conf", "debian12", "clone")
    assert "[copy]" in text and "[main]" in text


def test_wal_g_bootstrap_with_archiving_kept(rendered):
    config = _patroni_config(rendered, "debian12", "wal_g_clone")
    assert config["bootstrap"]["method"] == "wal_g"
    assert config["bootstrap"]["wal_g"]["command"].endswith("backup-fetch /var/lib/postgresql/15/main LATEST")
    # disable_archive_command: false keeps WAL-G's archive_command from the start
    assert config["bootstrap"]["dcs"]["postgresql"]["parameters"]["archive_command"].endswith("wal-push %p")


def test_restore_stages_render(rendered):
    states = _states(rendered, "show_sls", "debian12", "backup")
    assert _state(states, "pgha-ops-restore-not-alone")[:2] == ("test", "fail_without_changes")


# -- pgBackRest repository host --------------------------------------------------------------------

def test_repository_host_trusts_the_database_nodes(rendered):
    states = _states(rendered, "show_sls", "debian12", "repo_host")
    assert _state(states, "pgha-pgbackrest-repo-user-present")[2]["name"] == "pgbackrest"
    assert _state(states, "pgha-pgbackrest-ssh-pg2-authorized")[2]["name"] == "ssh-ed25519 AAAAkeypg2 postgres@pg2"
    assert _state(states, "pgha-pgbackrest-ssh-pg2-authorized")[2]["user"] == "pgbackrest"
    known = _state(states, "pgha-pgbackrest-ssh-pg2-known")[2]
    assert (known["name"], known["enc"], known["key"], known["user"]) == (
        "10.0.0.12", "ssh-ed25519", "AAAAhostpg2", "pgbackrest")
    conf = _state(states, "pgha-pgbackrest-config-file-managed")[2]
    assert (conf["user"], conf["mode"], conf["show_changes"]) == ("pgbackrest", "0600", False)
    assert conf["context"] == {"tplroot": "pgha"}
    assert _state(states, "pgha-pgbackrest-repo-dir-managed")[2]["user"] == "pgbackrest"
    # backups are scheduled here, straight (pgBackRest finds the primary)
    service = _state(states, "pgha-pgbackrest-full-service-managed")[2]["contents"]
    assert "User=pgbackrest" in service and "ExecStart=/usr/bin/pgbackrest --stanza=main --type=full backup" in service


def test_database_node_reaches_the_repository_host(rendered):
    states = _states(rendered, "show_sls", "debian12", "backup_ssh")
    assert _state(states, "pgha-pgbackrest-ssh-repo1-authorized")[2]["user"] == "postgres"
    assert _state(states, "pgha-pgbackrest-ssh-repo1-known")[2]["name"] == REPO_ADDRESS
    assert "pgha-pgbackrest-repo-dir-managed" not in states
    assert not any(k.startswith("pgha-pgbackrest-full-") for k in states)
    assert _state(states, "pgha-pgbackrest-schedule-on-the-repository-host")[:2] == ("test", "nop")
    assert _state(states, "pgha-pgbackrest-stanza-elsewhere")[2]["name"] == "the stanza is created on the repository host"
