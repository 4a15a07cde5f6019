"""The node's side of pgha.upgrade (_modules/pgha_upgrade.py, issue 19): the record and the
rollback's boundary, the rollback's files, the temporary SSH trust, the commands it runs (argv
lists, as postgres), the version gate (cmd.run_all and the file system mocked, paths in tmp)."""
import importlib.util
import json
import os
from pathlib import Path
from unittest.mock import MagicMock, patch

import pytest
import yaml
from salt.exceptions import CommandExecutionError

import pgha_paths
import pgha_upgrade as utils
from pgha_unit_helpers import PATRONI_CONFIG_UTILS

_SPEC = importlib.util.spec_from_file_location(
    "pgha_upgrade_mod", Path(__file__).resolve().parents[2] / "_modules" / "pgha_upgrade.py")
mod = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(mod)
import pgha_upgrade_ssh as ssh  # noqa: E402  (_modules: no utils module of that name)

UTILS = {f"pgha_upgrade.{name}": getattr(utils, name) for name in (
    "new_paths", "rsync_argv", "rollback_decision", "version_gate", "statistics_argv", "new_packages",
    "parameters", "option_problems")}
UTILS["pgha_paths.system_dir_problem"] = pgha_paths.system_dir_problem
UTILS.update(PATRONI_CONFIG_UTILS)


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """An old cluster (17) under tmp: Patroni's config naming it, the record directory."""
    old = tmp_path / "pg" / "17" / "main"
    (old / "global").mkdir(parents=True)
    (old / "PG_VERSION").write_text("17\n")
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump({"scope": "main", "name": "pg1", "postgresql": {
        "data_dir": str(old), "bin_dir": "/usr/lib/postgresql/17/bin", "listen": "0.0.0.0:5432",
        "authentication": {"superuser": {"username": "postgres"}}}}))
    monkeypatch.setattr(mod, "RECORD_DIR", str(tmp_path / "record"))
    monkeypatch.setattr(mod, "RECORD", str(tmp_path / "record" / "record.json"))
    monkeypatch.setattr(mod, "DCS_COPY", str(tmp_path / "record" / "dcs-config.json"))
    with patch.dict(mod.__salt__, {"config.option": lambda key: str(config)}):
        yield {"old": old, "root": tmp_path, "config": config}


@pytest.fixture
def configure_loader_modules():
    return {mod: {"__salt__": {}, "__opts__": {"test": False}, "__pillar__": {}, "__context__": {},
                  "__utils__": UTILS},
            ssh: {"__salt__": {}, "__opts__": {"test": False}, "__context__": {}}}


def test_running_version_and_the_gate(cluster):
    assert mod.running_version() == "17"
    assert mod.version_problem(17) is None
    assert mod.version_problem(18).startswith("pgha:postgresql:version is 18 but the cluster on this node runs "
                                              "PostgreSQL 17: run salt-run state.orch pgha.upgrade")


def test_record_marks_the_start_and_rollback_refuses_afterwards(cluster):
    mod.mark("prepared", to=18)
    mod.mark("linked", to=18)
    rec = mod.record()
    assert {k: rec[k] for k in ("from", "to", "started", "stage")} == {"from": "17", "to": "18", "started": False,
                                                                      "stage": "linked"}
    assert rec["paths"]["old"]["data_dir"] == str(cluster["old"])
    assert oct(os.stat(mod.RECORD).st_mode & 0o777) == "0o600"
    mod.mark("started", to=18)
    mod.mark("finished", to=18)
    assert mod.record()["started"] is True
    with pytest.raises(CommandExecutionError, match="pgha.upgrade_rollback refused: the new cluster"):
        mod.rollback()
    with pytest.raises(CommandExecutionError, match="unknown upgrade stage"):
        mod.mark("halfway")


def test_a_new_upgrade_forgets_the_last_ones_dcs_copy(cluster):
    mod.mark("prepared", to=18)
    Path(mod.DCS_COPY).write_text("{}")
    mod.mark("finished", to=18)
    mod.mark("prepared", to=19)
    assert not os.path.exists(mod.DCS_COPY) and mod.record()["to"] == "19"


def test_rollback_puts_the_control_file_back_and_removes_the_new_cluster(cluster):
    old = cluster["old"]
    (old / "global" / "pg_control.old").write_text("control")
    new = cluster["root"] / "pg" / "18" / "main"
    new.mkdir(parents=True)
    (new / "PG_VERSION").write_text("18\n")
    mod.mark("prepared", to=18)
    mod.mark("linked", to=18)
    done = mod.rollback()["rollback"]
    assert (old / "global" / "pg_control").read_text() == "control"
    assert not new.exists() and old.exists()
    assert done == ["global/pg_control.old renamed back", f"{new} removed"]
    assert mod.record()["stage"] == "rolled_back"
    assert mod.rollback() == {"rollback": "done already"}


def test_sync_replica_runs_the_documented_rsync_as_postgres(cluster, monkeypatch):
    monkeypatch.setattr(mod, "_home", lambda user="postgres": "/var/lib/postgresql")
    run = MagicMock(return_value={"retcode": 0, "stdout": "Total bytes sent: 1,234,567\n", "stderr": ""})
    with patch.dict(mod.__salt__, {"cmd.run_all": run}):
        found = mod.sync_replica(18, "10.0.0.12")
    argv, kwargs = run.call_args[0][0], run.call_args[1]
    parent = str(cluster["root"] / "pg")
    assert argv[:4] == ["rsync", "-e", "ssh -i /var/lib/postgresql/.ssh/pgha_upgrade_ed25519 -o UserKnownHostsFile="
                        "/var/lib/postgresql/.ssh/pgha_upgrade_known_hosts -o StrictHostKeyChecking=yes "
                        "-o BatchMode=yes", "--stats"]
    assert argv[4:] == ["--archive", "--delete", "--hard-links", "--size-only", "--no-inc-recursive",
                        "--exclude=/17/main/pg_wal/*", "17", "18", f"10.0.0.12:{parent}"]
    assert kwargs["runas"] == "postgres" and kwargs["cwd"] == parent and kwargs["python_shell"] is False
    assert found["rsync"] == [{"parent": parent, "bytes_sent": 1234567}]


def test_checkpoint_reads_pg_controldata(cluster):
    out = ("pg_control version number:            1700\nDatabase cluster state:               shut down\n"
           "Latest checkpoint location:           0/3000028\n")
    with patch.dict(mod.__salt__, {"cmd.run_all": MagicMock(return_value={"retcode": 0, "stdout": out})}):
        assert mod.checkpoint() == {"location": "0/3000028", "state": "shut down"}


def test_link_runs_pg_upgrade_link_and_records_it(cluster, monkeypatch):
    monkeypatch.setattr(mod, "_home", lambda user="postgres": str(cluster["root"]))
    run = MagicMock(return_value={"retcode": 0, "stdout": "Upgrade Complete\n"})
    with patch.dict(mod.__salt__, {"cmd.run_all": run, "file.mkdir": MagicMock()}):
        mod.mark("prepared", to=18)
        mod.link(18)
    argv = run.call_args[0][0]
    assert argv[0] == "/usr/lib/postgresql/18/bin/pg_upgrade" and "--link" in argv and "--check" not in argv
    assert argv[argv.index("--new-datadir") + 1] == str(cluster["root"] / "pg" / "18" / "main")
    assert mod.record()["stage"] == "linked"


def test_a_failed_command_is_an_error_with_its_output(cluster):
    run = MagicMock(return_value={"retcode": 1, "stdout": "", "stderr": "Checking for presence of required "
                                                                          "libraries fatal"})
    with patch.dict(mod.__salt__, {"cmd.run_all": run, "file.mkdir": MagicMock()}), \
            patch.object(mod, "_home", lambda user="postgres": "/tmp"):
        with pytest.raises(CommandExecutionError, match="pg_upgrade --check failed .1.: Checking for presence"):
            mod.check(18)


def _check_commands(refused):
    """cmd.run_all for check(): pg_upgrade --check passes; the old cluster stores one column option
    in two databases; the new server's probe refuses what ``refused`` lists."""
    calls = []

    def run_all(argv, **kw):
        calls.append(argv)
        if argv[-1] == "--version":
            return {"retcode": 0, "stdout": "postgres (PostgreSQL) 18.6 (Debian 18.6-3)"}
        if argv[0].endswith("python") or argv[1:2] == ["-c"]:
            request = json.loads(kw["stdin"])
            if "options" in request:
                assert request["conn"]["port"] == mod.UPGRADE_PORT and request["conn"]["host"] == "/tmp/.pgha-upgrade"
                return {"retcode": 0, "stdout": json.dumps(refused)}
            queries = request["queries"]
            if queries == ["SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1"]:
                return {"retcode": 0, "stdout": json.dumps([[["appdb"], ["postgres"]]])}
            if queries == ["SHOW server_version"]:
                return {"retcode": 0, "stdout": json.dumps([[["17.12 (Debian 17.12-0+deb13u1)"]]])}
            return {"retcode": 0, "stdout": json.dumps([[["pg_attver", "99923544", 3]], []])}
        return {"retcode": 0, "stdout": "Clusters are compatible"}
    return run_all, calls


@pytest.mark.parametrize("refused", [[], [["column", "pg_attver", 'unrecognized parameter "pg_attver"']]])
def test_check_has_the_new_server_try_the_stored_options(cluster, refused):
    """pg_upgrade --check does not restore the schema: an option the old minor stores and the new
    major's older minor does not know failed pg_upgrade half-way in the lab (17.12 -> 18.6)."""
    run_all, calls = _check_commands(refused)
    with patch.dict(mod.__salt__, {"cmd.run_all": run_all, "file.mkdir": MagicMock()}), \
            patch.object(mod, "_home", lambda user="postgres": "/tmp"):
        if refused:
            with pytest.raises(CommandExecutionError) as err:
                mod.check(18)
            assert str(err.value) == (
                "pgha.upgrade pre-check options failed: PostgreSQL 18.6 refuses the column option pg_attver that "
                "PostgreSQL 17.12 stores on 6 object(s) in appdb, postgres (unrecognized parameter \"pg_attver\"); "
                "pg_upgrade would fail restoring them; " + utils.CHECKS["options"])
            assert mod.record().get("stage") != "checked"
        else:
            assert mod.check(18)["options"] == "accepted"
    pg_ctl = [argv for argv in calls if argv[0].endswith("/pg_ctl")]
    assert [argv[-1] for argv in pg_ctl] == ["start", "stop"]       # stopped also when it refuses
    start = pg_ctl[0]
    assert start[start.index("-o") + 1] == f"-p {mod.UPGRADE_PORT} -c listen_addresses= -k /tmp/.pgha-upgrade"


def test_rollback_after_patroni_names_the_new_cluster_uses_the_recorded_paths(cluster):
    """The step before the start moves Patroni's configuration to the new data directory: the
    rollback still finds the old one (the record's paths) and puts its control file back."""
    old = cluster["old"]
    (old / "global" / "pg_control.old").write_text("control")
    new = cluster["root"] / "pg" / "18" / "main"
    new.mkdir(parents=True)
    (new / "PG_VERSION").write_text("18\n")
    mod.mark("prepared", to=18)
    mod.mark("configured", to=18)
    config = yaml.safe_load(cluster["config"].read_text())
    config["postgresql"].update(data_dir=str(new), bin_dir="/usr/lib/postgresql/18/bin")
    cluster["config"].write_text(yaml.safe_dump(config))
    mod.rollback()
    assert (old / "global" / "pg_control").read_text() == "control" and not new.exists()


def test_ssh_authorize_accepts_one_key_from_one_address(tmp_path, monkeypatch):
    monkeypatch.setattr(ssh, "_home", lambda user="postgres": str(tmp_path))
    (tmp_path / ".ssh").mkdir()
    keys = tmp_path / ".ssh" / "authorized_keys"
    keys.write_text("ssh-ed25519 AAAAother backup@repo1\n")
    salt = {"file.mkdir": MagicMock(), "file.touch": MagicMock(), "file.chown": MagicMock(),
            "file.set_mode": MagicMock(),
            "file.append": lambda path, line: Path(path).open("a").write(line + "\n") and True,
            "file.write": lambda path, text: Path(path).write_text(text)}
    with patch.dict(ssh.__salt__, salt):
        ssh.authorize("ssh-ed25519 AAAAC3Nza pgha-upgrade-temporary", "10.0.0.11")
        ssh.authorize("ssh-ed25519 AAAAC3Nza pgha-upgrade-temporary", "10.0.0.11")
        assert keys.read_text().splitlines() == [
            "ssh-ed25519 AAAAother backup@repo1",
            'restrict,from="10.0.0.11" ssh-ed25519 AAAAC3Nza pgha-upgrade-temporary']
        for key, source in (("ssh-rsa AAAA x", "10.0.0.11"), ("ssh-ed25519 AAAA;rm x", "10.0.0.11"),
                            ("ssh-ed25519 AAAA x", '10.0.0.11" ,command="sh')):
            with pytest.raises(CommandExecutionError):
                ssh.authorize(key, source)
        ssh.revoke()
    assert keys.read_text().splitlines() == ["ssh-ed25519 AAAAother backup@repo1"]


def test_resume_waits_for_patronis_rest_api():
    """The rollback starts Patroni and resumes at once: a REST API that still refuses is waited
    for, not taken for "no pause" (in the lab the paused Patroni then never started PostgreSQL)."""
    show = MagicMock(side_effect=[CommandExecutionError("connection refused"), {"pause": True}])
    resume = MagicMock()
    with patch.dict(mod.__salt__, {"pgha_patroni.show_config": show, "pgha_patroni.resume": resume}, clear=False), \
            patch.object(mod.time, "sleep"):
        assert mod.resume(wait=30) == {"resumed": True}
    resume.assert_called_once_with(wait=False)
    show = MagicMock(side_effect=CommandExecutionError("connection refused"))
    with patch.dict(mod.__salt__, {"pgha_patroni.show_config": show}, clear=False), \
            patch.object(mod.time, "sleep"), patch.object(mod.time, "monotonic", side_effect=[0, 10, 40]):
        assert mod.resume(wait=30)["resumed"] is False


def test_dcs_reset_needs_the_cluster_name(cluster):
    run = MagicMock()
    with patch.dict(mod.__salt__, {"cmd.run_all": run}), pytest.raises(
            CommandExecutionError, match="dcs_reset refused: it must be confirmed with this node's cluster name "
                                         "'main', got 'other'"):
        mod.dcs_reset("other")
    run.assert_not_called()


def test_dcs_reset_answers_patronictl_with_this_nodes_name(cluster):
    run = MagicMock(return_value={"retcode": 0, "stdout": "", "stderr": ""})
    with patch.dict(mod.__salt__, {"cmd.run_all": run}):
        assert mod.dcs_reset("main") == {"removed": "main"}
    assert run.call_args[0][0] == ["patronictl", "-c", str(cluster["config"]), "remove", "main"]
    assert run.call_args[1]["stdin"] == "main\nYes I am aware\npg1\n"
    assert mod.record()["dcs_reset"] is True
