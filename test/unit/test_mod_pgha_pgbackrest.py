"""Unit tests of the pgha_pgbackrest execution and state modules (cmd.run_all mocked)."""
import json
import re
from unittest.mock import MagicMock, patch

import pgha_pgbackrest
import pytest
from salt.exceptions import CommandExecutionError

from conftest import _load_state

state = _load_state("pgha_pgbackrest_state", "pgha_pgbackrest.py")

INFO_OK = [{"name": "main", "status": {"code": 0, "message": "ok"},
            "backup": [{"label": "20261126-010000F", "type": "full",
                        "lsn": {"start": "0/2000028", "stop": "0/2000100"},
                        "timestamp": {"start": 1795650000, "stop": 1795650010}}]}]
INFO_MISSING = [{"name": "main", "status": {"code": 1, "message": "missing stanza path"}}]


@pytest.fixture
def configure_loader_modules():
    pillar = {"pgha": {"cluster_name": "main"}}
    return {pgha_pgbackrest: {"__salt__": {}, "__opts__": {"test": False}, "__pillar__": pillar,
                              "__context__": {}},
            state: {"__salt__": {}, "__opts__": {"test": False}, "__pillar__": {}, "__context__": {}}}


def _run(*answers):
    results = [{"retcode": rc, "stdout": out, "stderr": err} for rc, out, err in answers]
    return patch.dict(pgha_pgbackrest.__salt__, {"cmd.run_all": MagicMock(side_effect=results)})


def test_virtual_needs_the_binary():
    with patch("salt.utils.path.which", return_value=None):
        assert pgha_pgbackrest.__virtual__()[0] is False
    with patch("salt.utils.path.which", return_value="/usr/bin/pgbackrest"):
        assert pgha_pgbackrest.__virtual__() == "pgha_pgbackrest"


def test_info_runs_as_postgres_without_a_shell():
    with _run((0, json.dumps(INFO_OK), "")):
        assert pgha_pgbackrest.info()["status"]["code"] == 0
        args, kwargs = pgha_pgbackrest.__salt__["cmd.run_all"].call_args
    assert args[0] == ["pgbackrest", "--stanza=main", "--log-level-console=warn", "info", "--output=json"]
    assert kwargs["runas"] == "postgres" and kwargs["python_shell"] is False


def test_stanza_from_pillar_or_argument():
    with patch.dict(pgha_pgbackrest.__pillar__, {"pgha": {"cluster_name": "x",
                                                          "pgbackrest": {"stanza": "s1"}}}), \
            _run((0, "[]", "")):
        pgha_pgbackrest.info()
        assert pgha_pgbackrest.__salt__["cmd.run_all"].call_args[0][0][1] == "--stanza=s1"
    with patch.dict(pgha_pgbackrest.__pillar__, {"pgha": {}}, clear=True), \
            pytest.raises(CommandExecutionError, match="no stanza given"):
        pgha_pgbackrest.info()


@pytest.mark.parametrize("answer,exists", [(INFO_OK, True), (INFO_MISSING, False),
                                           ([{"status": {"code": 2, "message": "no valid backups"}}], True)])
def test_stanza_exists(answer, exists):
    with _run((0, json.dumps(answer), "")):
        assert pgha_pgbackrest.stanza_exists() is exists


def test_failure_names_the_command():
    with _run((56, "", "ERROR: [056]: unable to find primary cluster")), \
            pytest.raises(CommandExecutionError, match=r"pgbackrest check failed \(56\): ERROR: \[056\]"):
        pgha_pgbackrest.check()


def test_backup_returns_the_new_set():
    with _run((0, "", ""), (0, json.dumps(INFO_OK), "")):
        result = pgha_pgbackrest.backup(type="full")
        first = pgha_pgbackrest.__salt__["cmd.run_all"].call_args_list[0][0][0]
    assert first == ["pgbackrest", "--stanza=main", "--type=full", "backup"]
    assert result["label"] == "20261126-010000F" and result["lsn"]["stop"] == "0/2000100"
    with pytest.raises(CommandExecutionError, match="backup type must be one of full, diff, incr"):
        pgha_pgbackrest.backup(type="weekly")


@pytest.mark.parametrize("kwargs,argv", [
    ({}, ["--delta", "restore"]),
    ({"target_type": "time", "target": "2026-11-26 01:00:00+00"},
     ["--delta", "--type=time", "--target=2026-11-26 01:00:00+00", "--target-action=promote", "restore"]),
    ({"target_type": "immediate", "delta": False, "backup_set": "20261126-010000F"},
     ["--set=20261126-010000F", "--type=immediate", "--target-action=promote", "restore"]),
    ({"target_type": "standby", "backup_set": "20261126-010000F"},
     ["--delta", "--set=20261126-010000F", "--type=standby", "restore"]),
], ids=["latest", "time", "immediate", "standby"])
def test_restore(kwargs, argv):
    with _run((0, "", "")):
        pgha_pgbackrest.restore(**kwargs)
        assert pgha_pgbackrest.__salt__["cmd.run_all"].call_args[0][0] == ["pgbackrest", "--stanza=main", *argv]


@pytest.mark.parametrize("kwargs,message", [
    ({"target_type": "when"}, "target_type must be one of"),
    ({"target_type": "lsn"}, "target_type lsn needs a target"),
])
def test_restore_refuses_bad_targets(kwargs, message):
    with pytest.raises(CommandExecutionError, match=message):
        pgha_pgbackrest.restore(**kwargs)


# -- state -------------------------------------------------------------------------------------

@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_stanza_created(test):
    funcs = {"pgha_pgbackrest.stanza_exists": MagicMock(return_value=False),
             "pgha_pgbackrest.stanza_create": MagicMock(return_value="created"),
             "pgha_pgbackrest.check": MagicMock(return_value="stanza main: archiving and configuration checked")}
    with patch.dict(state.__salt__, funcs), patch.dict(state.__opts__, {"test": test}):
        ret = state.stanza_created("main")
    assert ret["changes"] == {"stanza": "main"}
    assert ret["result"] is (None if test else True)
    assert funcs["pgha_pgbackrest.stanza_create"].call_count == (0 if test else 1)


def test_stanza_exists_already_and_errors():
    with patch.dict(state.__salt__, {"pgha_pgbackrest.stanza_exists": MagicMock(return_value=True)}):
        assert state.stanza_created("main") == {"name": "main", "result": True, "changes": {},
                                                "comment": "stanza main exists"}
    error = CommandExecutionError("pgbackrest check failed (82): archive timeout")
    with patch.dict(state.__salt__, {"pgha_pgbackrest.stanza_exists": MagicMock(return_value=False),
                                     "pgha_pgbackrest.stanza_create": MagicMock(),
                                     "pgha_pgbackrest.check": MagicMock(side_effect=error)}):
        ret = state.stanza_created("main")
    assert ret["result"] is False and ret["comment"] == str(error)


# -- restore workflow ----------------------------------------------------------------------------

def _restorable(*args, **kwargs):
    import pgha_validate  # pylint: disable=import-outside-toplevel
    checker = MagicMock(side_effect=pgha_validate.check_restore_target)
    with patch.dict(pgha_pgbackrest.__salt__, {"pgha.check_restore_target": checker}), \
            _run((0, json.dumps(INFO_OK), "")):
        return pgha_pgbackrest.restorable(*args, **kwargs)


@pytest.mark.parametrize("args,label", [
    (("default",), "20261126-010000F"),
    (("time", "2026-11-26 04:00:00+00"), "20261126-010000F"),   # stop 1795650010 = 11-25 23:40:10 UTC
    (("lsn", "0/3000000"), "20261126-010000F"),
    (("name", "before-upgrade"), "20261126-010000F"),
])
def test_restorable_finds_the_backup(args, label):
    assert _restorable(*args)["label"] == label


@pytest.mark.parametrize("args,message", [
    (("time", "2026-11-25 23:00:00+00"), "no backup of stanza main ended before 2026-11-25 23:00:00+00"),
    (("lsn", "0/2000000"), "no backup of stanza main ended before LSN 0/2000000"),
    (("default", None, "20250101-000000F"), "stanza main has no backup 20250101-000000F"),
    (("time", "yesterday"), "restore:target: 'yesterday' is not a time"),
])
def test_restorable_refuses(args, message):
    with pytest.raises(CommandExecutionError, match=re.escape(message)):
        _restorable(*args)


@pytest.mark.parametrize("status,message", [
    ({"code": 2, "message": "no valid backups"}, "stanza main has no backup to restore from"),
    ({"code": 99, "message": "[UnknownError] remote-0 process on 'repo1' terminated unexpectedly [255]: "
      "Permission denied (publickey)."},
     "stanza main has no backup to restore from: [UnknownError] remote-0 process on 'repo1' terminated "
     "unexpectedly [255]: Permission denied (publickey)."),
])
def test_restorable_says_why_no_backup_was_found(status, message):
    """An unreachable repository host is not "no backup": pgbackrest info's own status says why."""
    info = [{"name": "main", "status": status, "backup": []}]
    with patch.dict(pgha_pgbackrest.__salt__, {"pgha.check_restore_target": MagicMock(return_value=[])}), \
            _run((0, json.dumps(info), "")), pytest.raises(CommandExecutionError) as err:
        pgha_pgbackrest.restorable()
    assert str(err.value) == message


def test_recover_promotes_clears_recovery_settings_and_stops():
    answers = {"SELECT pg_is_in_recovery()": ["t", "f"], "SELECT timeline_id FROM pg_control_checkpoint()": ["3"]}
    calls = []

    def run_all(cmd, **kwargs):
        calls.append(cmd)
        if cmd[0] == "psql":
            sql = cmd[-1]
            out = answers[sql].pop(0) if sql in answers else ("0" if "archive_status" in sql else "")
            return {"retcode": 0, "stdout": out, "stderr": ""}
        return {"retcode": 0, "stdout": "", "stderr": ""}

    funcs = {"cmd.run_all": MagicMock(side_effect=run_all), "cmd.retcode": MagicMock(return_value=0)}
    with patch.dict(pgha_pgbackrest.__salt__, funcs), patch("time.sleep"):
        ret = pgha_pgbackrest.recover("/data", "/bin15", port=5433, socket_dir="/run/pg")
    assert ret == {"promoted": True, "timeline": "3", "archived": True}
    start = calls[0]
    assert start[:2] == ["/bin15/pg_ctl", "-D"] and "start" in start
    assert start[-1] == "-c listen_addresses='' -p 5433 -k /run/pg"      # no client meanwhile
    assert ["psql", "-XAtq", "-h", "/run/pg", "-p", "5433", "-d", "postgres", "-c",
            "ALTER SYSTEM RESET recovery_target_time"] in calls
    assert calls[-1] == ["/bin15/pg_ctl", "-D", "/data", "-m", "fast", "-w", "stop"]


def test_recover_fails_with_the_log_when_recovery_stops_short():
    funcs = {"cmd.run_all": MagicMock(return_value={"retcode": 1, "stdout": "", "stderr": "no"}),
             "cmd.run": MagicMock(return_value="FATAL:  recovery ended before configured recovery target was reached")}
    with patch.dict(pgha_pgbackrest.__salt__, funcs), \
            pytest.raises(CommandExecutionError, match="recovery target was reached"):
        pgha_pgbackrest.recover("/data", "/bin15")


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_restored_primary(test):
    funcs = {"pgha_pgbackrest.restore": MagicMock(),
             "pgha_pgbackrest.recover": MagicMock(return_value={"promoted": True, "timeline": "4", "archived": True})}
    with patch.dict(state.__salt__, funcs), patch.dict(state.__opts__, {"test": test}):
        ret = state.restored("main", "/data", "/bin", target_type="time", target="2026-11-26 04:00:00+00")
    assert ret["result"] is (None if test else True)
    assert funcs["pgha_pgbackrest.restore"].call_count == (0 if test else 1)
    if not test:
        assert ret["comment"] == ("stanza main restored into /data (time 2026-11-26 04:00:00+00), "
                                  "promoted on timeline 4")


def test_restored_standby_uses_the_primary_s_backup():
    funcs = {"pgha_pgbackrest.restorable": MagicMock(return_value={"label": "20261126-010000F"}),
             "pgha_pgbackrest.restore": MagicMock(), "pgha_pgbackrest.recover": MagicMock()}
    with patch.dict(state.__salt__, funcs):
        ret = state.restored("main", "/data", "/bin", target_type="time", target="2026-11-26 04:00:00+00",
                             standby=True)
    assert ret["changes"] == {"restored": "standby from 20261126-010000F"}
    assert funcs["pgha_pgbackrest.restore"].call_args.kwargs == {
        "target_type": "standby", "backup_set": "20261126-010000F", "stanza": "main", "timeout": 86400}
    assert funcs["pgha_pgbackrest.recover"].call_count == 0


def test_stanza_created_without_check_while_archiving_is_paused():
    paused = "true  # paused"
    funcs = {"pgha_pgbackrest.stanza_exists": MagicMock(return_value=False),
             "pgha_pgbackrest.stanza_create": MagicMock(), "pgha_pgbackrest.check": MagicMock(),
             "pgha_patroni.show_config": MagicMock(return_value={
                 "postgresql": {"parameters": {"archive_command": paused}}})}
    with patch.dict(state.__salt__, funcs):
        ret = state.stanza_created("copy", paused_archive_command=paused)
    assert ret["comment"] == "stanza copy created; not checked: WAL archiving is paused after a restore"
    assert funcs["pgha_pgbackrest.check"].call_count == 0


# -- repository host: SSH identities, who runs pgbackrest ---------------------------------------

def test_runs_as_the_repository_host_user_there():
    with patch.dict(pgha_pgbackrest.__pillar__, {"pgha": {"cluster_name": "main", "roles": ["pgbackrest"],
                                                          "pgbackrest": {"repo_host_user": "backrest"}}}), \
            _run((0, "[]", "")):
        pgha_pgbackrest.info()
        assert pgha_pgbackrest.__salt__["cmd.run_all"].call_args.kwargs["runas"] == "backrest"


def test_ssh_identity(tmp_path):
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "id_ed25519.pub").write_text("ssh-ed25519 AAAAuser postgres@pg1\n")
    host = tmp_path / "host.pub"
    host.write_text("ssh-ed25519 AAAAhost root@pg1\n")
    real_open = pgha_pgbackrest.salt.utils.files.fopen

    def fopen(path, *args, **kwargs):
        return real_open(str(host) if path == "/etc/ssh/ssh_host_ed25519_key.pub" else path, *args, **kwargs)

    with patch.dict(pgha_pgbackrest.__salt__, {"user.info": MagicMock(return_value={"home": str(tmp_path)})}), \
            patch.object(pgha_pgbackrest.salt.utils.files, "fopen", fopen):
        assert pgha_pgbackrest.ssh_identity() == {"user": "postgres", "key": "ssh-ed25519 AAAAuser postgres@pg1",
                                                  "host_key": "ssh-ed25519 AAAAhost"}
    with patch.dict(pgha_pgbackrest.__salt__, {"user.info": MagicMock(return_value={})}), \
            pytest.raises(CommandExecutionError, match="no SSH identity for postgres"):
        pgha_pgbackrest.ssh_identity()


IDENTITY = {"user": "postgres", "key": "ssh-ed25519 AAAAuser", "host_key": "ssh-ed25519 AAAAhost"}


@pytest.mark.parametrize("published,test,result,sent", [
    (IDENTITY, False, True, 0),
    (None, False, True, 1),
    (None, True, None, 0),
], ids=["published", "publish", "test"])
def test_ssh_published(published, test, result, sent):
    funcs = {"pgha_pgbackrest.ssh_identity": MagicMock(return_value=IDENTITY),
             "mine.get": MagicMock(return_value={"pg1": published} if published else {}),
             "mine.send": MagicMock(return_value=True)}
    with patch.dict(state.__salt__, funcs), patch.dict(state.__opts__, {"test": test, "id": "pg1"}):
        ret = state.ssh_published("postgres")
    assert ret["result"] is result and bool(ret["changes"]) is (published is None)
    assert funcs["mine.send"].call_count == sent
    if sent:
        funcs["mine.send"].assert_called_once_with("pgha_ssh", mine_function="pgha_pgbackrest.ssh_identity",
                                                   user="postgres")
