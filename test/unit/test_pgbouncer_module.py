"""
Issue 21: the pgha_pgbouncer execution module (the installed version, PAUSE with a timeout)
and state module (the gate; a switchover with every node's PgBouncer paused and always
resumed). Salt's loader is mocked; PgBouncer's admin console is a fake.
"""
import importlib.util
from pathlib import Path
from unittest.mock import MagicMock, patch

import pytest
from salt.exceptions import CommandExecutionError

import pgha_pgbouncer

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("pgha_pgbouncer_state", REPO / "_states/pgha_pgbouncer.py")
pgha_pgbouncer_state = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pgha_pgbouncer_state)

HOSTS = ["10.0.0.11", "10.0.0.12", "10.0.0.13"]


@pytest.fixture
def configure_loader_modules():
    return {
        pgha_pgbouncer: {"__salt__": {}, "__opts__": {"test": False}, "__context__": {},
                         "__pillar__": {"pgha": {"pgbouncer": {"auth_user": {"name": "pgbouncer",
                                                                             "password": "pgb-secret"}}}},
                         "__utils__": {}},
        pgha_pgbouncer_state: {"__salt__": {}, "__opts__": {"test": False}, "__states__": {}},
    }


@pytest.mark.parametrize("output,found", [
    ("PgBouncer 1.18.0\nlibevent 2.1.12-stable\nadns: evdns2\ntls: OpenSSL 3.0.11", "1.18.0"),
    ("pgbouncer version 1.7.2", ""),      # not PgBouncer's --version format: unknown, nothing refused
    ("PgBouncer 1.24.1 (Debian)", "1.24.1"),
])
def test_version_from_the_binary(output, found):
    run = MagicMock(return_value={"retcode": 0, "stdout": output, "stderr": ""})
    with patch.dict(pgha_pgbouncer.__salt__, {"cmd.run_all": run}), \
            patch("salt.utils.path.which", return_value="/usr/sbin/pgbouncer"):
        assert pgha_pgbouncer.version() == found
    # an argv list, no shell
    assert run.call_args.args[0] == ["/usr/sbin/pgbouncer", "--version"]
    assert run.call_args.kwargs["python_shell"] is False


def test_version_without_pgbouncer_installed():
    with patch("salt.utils.path.which", return_value=None):
        assert pgha_pgbouncer.version() == ""


def test_pause_that_does_not_finish_is_resumed():
    conn = MagicMock()
    with patch.object(pgha_pgbouncer, "_connect", return_value=conn), \
            patch.object(pgha_pgbouncer, "_wait", return_value=False), \
            patch.object(pgha_pgbouncer, "resume", return_value={"resumed": True}) as resume:
        found = pgha_pgbouncer.pause(port=6432, host="10.0.0.11", timeout=3)
    assert found["paused"] is False and "did not finish within 3 s" in found["comment"]
    conn.cursor.return_value.execute.assert_called_once_with("PAUSE")
    resume.assert_called_once_with(port=6432, host="10.0.0.11")
    conn.close.assert_called_once_with()


def test_pause_that_finishes():
    conn = MagicMock()
    with patch.object(pgha_pgbouncer, "_connect", return_value=conn), \
            patch.object(pgha_pgbouncer, "_wait", return_value=True), \
            patch.object(pgha_pgbouncer, "resume") as resume:
        assert pgha_pgbouncer.pause(host="10.0.0.11") == {"paused": True}
    resume.assert_not_called()


def test_resume_of_a_pgbouncer_that_is_not_paused():
    error = CommandExecutionError("PgBouncer's admin console on 127.0.0.1:6432: ERROR:  pooler is not paused/suspended")
    with patch.object(pgha_pgbouncer, "_command", side_effect=error):
        assert pgha_pgbouncer.resume() == {"resumed": False}


def test_admin_console_password_comes_from_pillar_never_an_argument():
    import psycopg2  # pylint: disable=import-outside-toplevel
    with patch.object(psycopg2, "connect", return_value=MagicMock()) as connect:
        pgha_pgbouncer._connect("127.0.0.1", 6432, 5)   # pylint: disable=protected-access
    kwargs = connect.call_args.kwargs
    assert (kwargs["user"], kwargs["password"], kwargs["dbname"]) == ("pgbouncer", "pgb-secret", "pgbouncer")


def test_userlist_writes_the_stored_scram_verifiers_and_refuses_others():
    verifier = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"
    stored = MagicMock(return_value={"pgbouncer": verifier, "app": verifier, "old": "md5abc"})
    line = MagicMock(side_effect=lambda name, secret, what: f'"{name}" "{secret}"')
    with patch.dict(pgha_pgbouncer.__salt__, {"pgha_postgres.scram_verifiers": stored}), \
            patch.dict(pgha_pgbouncer.__utils__, {"pgha_formats.pgbouncer_userlist": line}):
        assert pgha_pgbouncer.userlist(["pgbouncer", "app"]) == \
            f'"pgbouncer" "{verifier}"\n"app" "{verifier}"\n'
        with pytest.raises(CommandExecutionError) as err:
            pgha_pgbouncer.userlist(["app", "old", "gone"])
    assert "'old' has no SCRAM-SHA-256 password" in str(err.value)
    assert "'gone' has no role" in str(err.value)
    assert "md5abc" not in str(err.value) and verifier not in str(err.value)


# -- the state --------------------------------------------------------------------------------

def _switched_over(result=True, raises=None):
    def run(name, **kwargs):
        if raises:
            raise raises
        return {"name": name, "result": result, "changes": {"leader": {"old": "pg1", "new": "pg2"}} if result else {},
                "comment": "switched over from pg1 to pg2" if result else "switchover refused by Patroni (412)"}
    return MagicMock(side_effect=run)


@pytest.mark.parametrize("result", [True, False], ids=["switched", "refused"])
def test_switchover_pauses_every_node_and_always_resumes(result):
    pause = MagicMock(return_value={"paused": True})
    resume = MagicMock(return_value={"resumed": True})
    inner = _switched_over(result)
    with patch.dict(pgha_pgbouncer_state.__salt__, {"pgha_patroni.leader": MagicMock(return_value="pg1"),
                                                    "pgha_pgbouncer.pause": pause,
                                                    "pgha_pgbouncer.resume": resume}), \
            patch.dict(pgha_pgbouncer_state.__states__, {"pgha_patroni.switched_over": inner}):
        ret = pgha_pgbouncer_state.switched_over("sw", hosts=HOSTS, pause_timeout=5, candidate="pg2")
    assert [c.kwargs["host"] for c in pause.call_args_list] == HOSTS
    assert all(c.kwargs["timeout"] == 5 for c in pause.call_args_list)
    assert [c.kwargs["host"] for c in resume.call_args_list] == HOSTS
    assert ret["result"] is result
    assert "PgBouncer paused and resumed on 10.0.0.11, 10.0.0.12, 10.0.0.13" in ret["comment"]
    inner.assert_called_once_with("sw", candidate="pg2", away_from=None, max_lag_bytes=None, timeout=60)


def test_switchover_that_raises_still_resumes():
    resume = MagicMock(return_value={"resumed": True})
    with patch.dict(pgha_pgbouncer_state.__salt__, {"pgha_patroni.leader": MagicMock(return_value="pg1"),
                                                    "pgha_pgbouncer.pause": MagicMock(return_value={"paused": True}),
                                                    "pgha_pgbouncer.resume": resume}), \
            patch.dict(pgha_pgbouncer_state.__states__,
                       {"pgha_patroni.switched_over": _switched_over(raises=RuntimeError("boom"))}):
        with pytest.raises(RuntimeError):
            pgha_pgbouncer_state.switched_over("sw", hosts=HOSTS)
    assert resume.call_count == 3


def test_a_pause_that_timed_out_or_failed_is_reported_and_not_resumed_again():
    pause = MagicMock(side_effect=[{"paused": True}, {"paused": False, "comment": "PAUSE on 10.0.0.12 did not finish"},
                                   CommandExecutionError("10.0.0.13: connection refused")])
    resume = MagicMock(side_effect=[CommandExecutionError("10.0.0.11: gone")])
    with patch.dict(pgha_pgbouncer_state.__salt__, {"pgha_patroni.leader": MagicMock(return_value="pg1"),
                                                    "pgha_pgbouncer.pause": pause,
                                                    "pgha_pgbouncer.resume": resume}), \
            patch.dict(pgha_pgbouncer_state.__states__, {"pgha_patroni.switched_over": _switched_over()}):
        ret = pgha_pgbouncer_state.switched_over("sw", hosts=HOSTS)
    assert resume.call_count == 1                    # only the node that was paused
    assert ret["result"] is False                    # its RESUME failed: clients may be held
    for text in ("did not finish", "not paused: 10.0.0.13", "RESUME FAILED, PgBouncer on 10.0.0.11"):
        assert text in ret["comment"], ret["comment"]


@pytest.mark.parametrize("test,candidate", [(True, "pg2"), (False, "pg1")], ids=["test", "already-leader"])
def test_no_pause_when_nothing_switches_over(test, candidate):
    pause = MagicMock()
    inner = MagicMock(return_value={"name": "sw", "result": None if test else True, "changes": {},
                                    "comment": "would switch over" if test else "pg1 is already the leader"})
    with patch.dict(pgha_pgbouncer_state.__opts__, {"test": test}), \
            patch.dict(pgha_pgbouncer_state.__salt__, {"pgha_patroni.leader": MagicMock(return_value="pg1"),
                                                       "pgha_pgbouncer.pause": pause}), \
            patch.dict(pgha_pgbouncer_state.__states__, {"pgha_patroni.switched_over": inner}):
        ret = pgha_pgbouncer_state.switched_over("sw", hosts=HOSTS, candidate=candidate)
    pause.assert_not_called()
    assert ret["result"] is (None if test else True)


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_gate(test):
    ready = MagicMock(return_value="PgBouncer 1.18.0")
    with patch.dict(pgha_pgbouncer_state.__opts__, {"test": test}), \
            patch.dict(pgha_pgbouncer_state.__salt__, {"pgha_pgbouncer.ready": ready}):
        ret = pgha_pgbouncer_state.ready("gate", port=6432)
    assert ret["result"] is (None if test else True) and ret["changes"] == {}
    assert ready.called is not test


def test_gate_fails_with_the_reason():
    ready = MagicMock(side_effect=CommandExecutionError("PgBouncer did not answer within 60 s: refused"))
    with patch.dict(pgha_pgbouncer_state.__salt__, {"pgha_pgbouncer.ready": ready}):
        ret = pgha_pgbouncer_state.ready("gate")
    assert ret["result"] is False and "did not answer" in ret["comment"]


def test_a_refusal_from_the_admin_console_is_a_command_error():
    """PgBouncer answers RESUME on a pooler that is not paused with an error, which psycopg2
    raises as its own exception: it must reach resume() as CommandExecutionError (an upgrade's
    RESUME after PgBouncer was restarted failed on it in the lab)."""
    import psycopg2.errors

    class Cursor:
        description = None

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, command):
            raise psycopg2.errors.ProtocolViolation("pooler is not paused/suspended\n")

    class Conn:
        def cursor(self):
            return Cursor()

        def close(self):
            pass

    with patch.object(pgha_pgbouncer, "_connect", return_value=Conn()):
        assert pgha_pgbouncer.resume() == {"resumed": False}
        with pytest.raises(CommandExecutionError, match="SHOW VERSION on 127.0.0.1:6432: pooler is not paused"):
            pgha_pgbouncer._command("127.0.0.1", 6432, "SHOW VERSION")  # pylint: disable=protected-access


def test_pause_that_fails_after_sending_is_resumed_and_reported():
    """A PAUSE sent, then a client-side failure while waiting (the lab's "asynchronous cursor
    has disappeared"): the PgBouncer is resumed (it stays paused after the console goes), and
    the error names the host."""
    import psycopg2

    conn = MagicMock()
    with patch.object(pgha_pgbouncer, "_connect", return_value=conn), \
            patch.object(pgha_pgbouncer, "_wait", side_effect=psycopg2.InterfaceError("the cursor went")), \
            patch.object(pgha_pgbouncer, "resume", return_value={"resumed": True}) as resume:
        with pytest.raises(CommandExecutionError, match="PAUSE on 10.0.0.11:6432: the cursor went; resumed"):
            pgha_pgbouncer.pause(port=6432, host="10.0.0.11")
    resume.assert_called_once_with(port=6432, host="10.0.0.11")
    conn.close.assert_called_once_with()


def test_pause_keeps_its_cursor_while_polling():
    """psycopg2 polls an asynchronous command through its cursor: a cursor dropped right after
    execute() makes poll() fail. The PAUSE's cursor must still exist when _wait polls."""
    import gc
    import weakref

    seen = {}

    class Conn:
        def cursor(self):
            cur = MagicMock()
            seen["cursor"] = weakref.ref(cur)
            return cur

        def close(self):
            pass

    def wait(conn, deadline):
        gc.collect()
        return seen["cursor"]() is not None

    with patch.object(pgha_pgbouncer, "_connect", return_value=Conn()), \
            patch.object(pgha_pgbouncer, "_wait", side_effect=wait), \
            patch.object(pgha_pgbouncer, "resume") as resume:
        assert pgha_pgbouncer.pause(host="10.0.0.11") == {"paused": True}
    resume.assert_not_called()
