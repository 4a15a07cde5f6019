"""A gate that gives up on Patroni quotes Patroni's own last errors (issue 17): the log parser
(_utils/pgha_patroni_log.py) and pgha_patroni.wait_healthy's timeout message, with journalctl
mocked (an argv list, bounded, since the gate began) and the data directory in tmp_path."""
import os
import re
import time as real_time
from unittest.mock import MagicMock, patch
import urllib.request

import pgha_patroni
import pgha_patroni_log
import pgha_patroni_state
import pytest
import yaml
from pgha_unit_helpers import PATRONI_CONFIG_UTILS, FakeResponse
from salt.exceptions import CommandExecutionError

# What Patroni 3.0.2 logged when a non-ASCII replication password stopped its bootstrap.
JOURNAL = """\
2026-12-01 10:00:01,000 INFO: Selected new etcd server http://10.0.0.11:2379
2026-12-01 10:00:02,000 INFO: trying to bootstrap a new cluster
2026-12-01 10:00:05,000 ERROR: Exception during execution of long running task bootstrap
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/patroni/async_executor.py", line 97, in run
    wakeup = func(*args) if args else func()
  File "/usr/lib/python3/dist-packages/patroni/postgresql/bootstrap.py", line 474, in post_bootstrap
    self.create_or_update_role(self._postgresql.config.replication['username'], 'pässwörd #1; --')
UnicodeDecodeError: 'ascii' codec can't decode byte 0xc3 in position 1: ordinal not in range(128)
2026-12-01 10:00:06,000 INFO: removing initialize key after failed attempt to bootstrap the cluster
2026-12-01 10:00:06,500 INFO: renaming data directory to /var/lib/postgresql/16/main.failed
2026-12-01 10:00:07,000 INFO: trying to bootstrap a new cluster
"""


def test_last_errors_picks_errors_and_the_exception_of_a_traceback():
    errors = pgha_patroni_log.last_errors(JOURNAL, secrets=["pässwörd #1; --"])
    assert errors[0] == "2026-12-01 10:00:05,000 ERROR: Exception during execution of long running task bootstrap"
    assert errors[1].startswith("UnicodeDecodeError: 'ascii' codec can't decode byte 0xc3")
    assert 'bootstrap.py", line 474, in post_bootstrap' in errors[1]
    assert len(errors) == 2
    assert "pässwörd" not in " ".join(errors)


def test_last_errors_redacts_bounds_and_dedups():
    text = "\n".join([f"FATAL: password authentication failed for user \"replicator\" secret-{i % 2}"
                      for i in range(50)] + ["x ERROR " + "y" * 1000, "CRITICAL: system ID mismatch"])
    errors = pgha_patroni_log.last_errors(text, secrets=["secret-0", "secret-"], limit=3, width=80)
    assert errors[0] == 'FATAL: password authentication failed for user "replicator" <redacted>1'
    assert len(errors[1]) == 80 and errors[1].endswith("...")
    assert errors[2] == "CRITICAL: system ID mismatch"
    assert pgha_patroni_log.last_errors("INFO: all fine\n\n  \nLOG: ok") == []


def test_secrets_of_patroni_config():
    conf = {"restapi": {"authentication": {"username": "patroni", "password": "r"}},
            "postgresql": {"authentication": {"superuser": {"password": "s"}, "replication": {"password": "p"}}},
            "list": [{"password": "l"}], "password_file": "/x"}
    assert sorted(pgha_patroni_log.secrets_of(conf)) == ["l", "p", "r", "s"]


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "patroni.yml"
    path.write_text(yaml.safe_dump({
        "scope": "main", "name": "pg1",
        "restapi": {"connect_address": "10.0.0.11:8008", "authentication": {"username": "patroni", "password": "rest-secret"}},
        "postgresql": {"connect_address": "10.0.0.11:5432", "data_dir": str(tmp_path / "main"),
                       "authentication": {"replication": {"username": "replicator", "password": "pässwörd #1; --"}}}}))
    return path


@pytest.fixture
def journal():
    return MagicMock(return_value={"retcode": 0, "stdout": JOURNAL, "stderr": ""})


@pytest.fixture
def configure_loader_modules(config_file, journal):
    return {pgha_patroni: {
        "__salt__": {"config.option": lambda key, *a, **k: str(config_file) if key == "pgha_patroni.config" else "",
                     "cmd.run_all": journal},
        "__utils__": {**PATRONI_CONFIG_UTILS, "pgha_patroni_log.last_errors": pgha_patroni_log.last_errors,
                      "pgha_patroni_log.secrets_of": pgha_patroni_log.secrets_of},
        "__opts__": {"id": "pg1", "test": False}, "__pillar__": {}, "__context__": {}},
        pgha_patroni_state: {"__salt__": {}, "__opts__": {"test": False}}}


def _starting():
    """Patroni's REST API answers that PostgreSQL failed to start."""
    return patch.object(urllib.request, "urlopen", MagicMock(
        side_effect=lambda req, timeout=None: FakeResponse({"state": "start failed", "role": "replica"})))


def test_timeout_quotes_patronis_errors(clock, journal, config_file, tmp_path):
    failed = tmp_path / "main.failed"
    failed.mkdir()
    with _starting(), pytest.raises(CommandExecutionError) as exc:
        pgha_patroni.wait_healthy(role="leader", timeout=5, interval=1, service="patroni@main")
    message = str(exc.value)
    assert message.startswith("not healthy as leader after 5s: local PostgreSQL not running: ")
    assert "'state': 'start failed'" in message
    assert "patroni@main's last errors: 2026-12-01 10:00:05,000 ERROR: Exception during execution" in message
    assert "UnicodeDecodeError: 'ascii' codec can't decode" in message
    assert f"Patroni renamed the data directory to {failed} (" in message
    assert "pässwörd" not in message and "rest-secret" not in message
    argv = journal.call_args[0][0]
    assert argv[:6] == ["journalctl", "--unit", "patroni@main", "--since", argv[4], "--output"]
    assert re.fullmatch(r"@\d+", argv[4]) and argv[-2:] == ["--lines", "2000"]
    # from a little before the gate: the same run started Patroni just before it
    assert abs(int(argv[4][1:]) - (real_time.time() - pgha_patroni.ERRORS_BEFORE_GATE)) < 60
    assert journal.call_args[1]["python_shell"] is False


def test_an_old_failed_data_dir_is_told_apart(clock, tmp_path):
    failed = tmp_path / "main.failed"
    failed.mkdir()
    os.utime(failed, (1, 1))
    with _starting(), pytest.raises(CommandExecutionError, match=r"main\.failed \(before this run, 1970-01-01"):
        pgha_patroni.wait_healthy(role="member", timeout=1, interval=1)


def test_test_mode_look_does_not_read_the_journal(clock, journal):
    with _starting(), pytest.raises(CommandExecutionError) as exc:
        pgha_patroni.wait_healthy(role="member", timeout=0)
    assert "last errors" not in str(exc.value)
    journal.assert_not_called()


def test_an_unreadable_journal_keeps_the_gates_reason(clock, journal):
    journal.return_value = {"retcode": 1, "stdout": "", "stderr": "No journal files were found."}
    with _starting(), pytest.raises(CommandExecutionError) as exc:
        pgha_patroni.wait_healthy(role="member", timeout=2, interval=1)
    assert str(exc.value).startswith("not healthy as member after 2s: local PostgreSQL not running:")
    assert "last errors" not in str(exc.value)
    journal.side_effect = OSError("no journalctl")
    with _starting(), pytest.raises(CommandExecutionError, match="^not healthy as member after 2s: local"):
        pgha_patroni.wait_healthy(role="member", timeout=2, interval=1)


def test_the_gate_state_passes_the_service_and_the_message_on():
    error = CommandExecutionError("not healthy as leader after 180s: x; patroni's last errors: FATAL: y")
    wait = MagicMock(side_effect=error)
    with patch.dict(pgha_patroni_state.__salt__, {"pgha_patroni.wait_healthy": wait}), \
            patch.dict(pgha_patroni_state.__opts__, {"test": False}):
        ret = pgha_patroni_state.healthy("gate", role="leader", timeout=180, service="patroni@main")
    assert ret["result"] is False and "FATAL: y" in ret["comment"]
    wait.assert_called_once_with(role="leader", timeout=180, service="patroni@main")
