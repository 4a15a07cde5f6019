"""HAProxy's open files for pgha:haproxy:maxconn: the decision (_utils/pgha_fd_limits.py), the
execution functions that read this node's limits (pgha_limits) and the state that stops the run
before HAProxy's configuration changes (pgha_haproxy.fd_limits)."""
from unittest.mock import MagicMock, patch

import pgha_fd_limits
import pgha_haproxy_state
import pgha_limits
import pytest

UTILS = {f"pgha_fd_limits.{name}": getattr(pgha_fd_limits, name)
         for name in ("parse_limits", "check", "unit_nofile")}

# /proc/1/limits of a Debian 13 container whose manager gave PID 1 20000 open files (the lab)
LIMITS_CONTAINER = """\
Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max file size             unlimited            unlimited            bytes
Max open files            1024                 20000                files
Max locked memory         8388608              8388608              bytes
"""
LIMITS_UNLIMITED = LIMITS_CONTAINER.replace(
    "Max open files            1024                 20000  ",
    "Max open files            unlimited            unlimited")
LAB = {"pid1_hard": 20000, "nr_open": 1048576, "threads": 2, "version": "3.0.11-1"}
LAB_MESSAGE = ("pgha:haproxy:maxconn: 10000 connections need about 20106 open files, but this "
               "host allows at most 20000 (the hard RLIMIT_NOFILE of PID 1, e.g. a container's "
               "limit): lower pgha:haproxy:maxconn to 9900 or less, or raise the container's limit")


@pytest.fixture
def configure_loader_modules():
    return {
        pgha_limits: {"__utils__": UTILS, "__salt__": {}, "__grains__": {"num_cpus": 2}},
        pgha_haproxy_state: {"__salt__": {}, "__opts__": {"test": False}},
    }


# -- the decision --------------------------------------------------------------------------------

def test_parse_limits():
    assert pgha_fd_limits.parse_limits(LIMITS_CONTAINER) == (1024, 20000)
    assert pgha_fd_limits.parse_limits(LIMITS_UNLIMITED) == (None, None)
    assert pgha_fd_limits.parse_limits(LIMITS_CONTAINER, "Max file size") == (None, None)
    with pytest.raises(ValueError):
        pgha_fd_limits.parse_limits("Limit Soft Limit Hard Limit Units\n")


@pytest.mark.parametrize("version,strict", [
    ("3.0.11-1", True), ("3.2.4", True), ("HAProxy version 2.6.12-1+deb12u1 2025/01/01", False),
    ("2.4.22-1.el9", False), ("", None), ("garbage", None)])
def test_strict_from_version(version, strict):
    assert pgha_fd_limits.strict(version) is strict


def test_estimate_follows_haproxys_maxsock():
    # HAProxy asked for 20068 with maxconn 10000 on 2 CPUs: the estimate is a little above
    assert pgha_fd_limits.needed(10000, threads=2) == 20106 >= 20068
    assert pgha_fd_limits.needed(4000, threads=2) == 8106
    assert pgha_fd_limits.needed(100, threads=0) == 303          # at least one thread
    # the suggestion fits the limit again
    assert pgha_fd_limits.max_maxconn(20000, threads=2) == 9900
    assert pgha_fd_limits.needed(9900, threads=2) <= 20000
    assert pgha_fd_limits.max_maxconn(50) == 0


def test_unit_nofile_is_the_drop_ins():
    assert pgha_fd_limits.unit_nofile(10000) == 65536
    assert pgha_fd_limits.unit_nofile(20000) == 80000


def test_available_takes_the_lowest_known_limit():
    assert pgha_fd_limits.available(20000, 1048576, 65536)[0] == 20000
    assert pgha_fd_limits.available(None, 1048576, 65536)[:2] == (
        65536, "LimitNOFILE of pgha's HAProxy drop-in")
    assert pgha_fd_limits.available(None, 30000, 65536)[2] == "raise the sysctl fs.nr_open"
    assert pgha_fd_limits.available() == (None, "", "")


def test_check_strict_haproxy_short_of_files_is_an_error():
    verdict = pgha_fd_limits.check(10000, LAB)
    assert verdict["level"] == "error" and verdict["strict"] is True
    assert verdict["message"] == LAB_MESSAGE
    assert (verdict["needed"], verdict["available"]) == (20106, 20000)


def test_check_older_haproxy_only_warns():
    verdict = pgha_fd_limits.check(10000, {**LAB, "version": "2.6.12-1+deb12u1"})
    assert verdict["level"] == "warn" and verdict["strict"] is False
    assert verdict["message"].startswith(LAB_MESSAGE)
    assert "HAProxy 2.6.12-1+deb12u1 starts anyway, with fewer connections" in verdict["message"]


def test_check_unknown_version_is_an_error():
    verdict = pgha_fd_limits.check(10000, {**LAB, "version": ""})
    assert verdict["level"] == "error" and verdict["strict"] is None
    assert "its version is not known yet" in verdict["message"]


@pytest.mark.parametrize("facts", [
    {**LAB, "maxconn": 4000},                                 # the lab scenarios' maxconn
    {"pid1_hard": 524288, "nr_open": 1048576, "threads": 64, "version": "3.0.11-1"},   # a host
    {"pid1_hard": None, "nr_open": None, "threads": 2, "version": "3.0.11-1"},       # unlimited
])
def test_check_enough_files(facts):
    maxconn = facts.pop("maxconn", 10000)
    verdict = pgha_fd_limits.check(maxconn, facts)
    assert verdict["level"] == "ok"
    assert verdict["message"].startswith(f"pgha:haproxy:maxconn: {maxconn} connections need about")


# -- the execution functions ---------------------------------------------------------------------

def _files(contents):
    """open() of pgha_limits reading ``contents[path]``; a missing path raises OSError."""
    def fake_open(path, *args, **kwargs):
        if path not in contents:
            raise FileNotFoundError(path)
        handle = MagicMock()
        handle.__enter__.return_value.read.return_value = contents[path]
        return handle
    return patch("builtins.open", side_effect=fake_open)


def test_nofile_reads_pid1_and_nr_open():
    with _files({"/proc/1/limits": LIMITS_CONTAINER, "/proc/sys/fs/nr_open": "1048576\n"}):
        assert pgha_limits.nofile() == {"pid1_soft": 1024, "pid1_hard": 20000, "nr_open": 1048576}
    with _files({"/proc/1/limits": LIMITS_UNLIMITED}):
        assert pgha_limits.nofile() == {"pid1_soft": None, "pid1_hard": None, "nr_open": None}
    with _files({"/proc/1/limits": "nothing useful\n", "/proc/sys/fs/nr_open": "x"}):
        assert pgha_limits.nofile() == {"pid1_soft": None, "pid1_hard": None, "nr_open": None}


def test_haproxy_version():
    run = MagicMock(return_value={"retcode": 0, "stdout": (
        "HAProxy version 3.0.11-1 2025/06/04 - https://haproxy.org/\nStatus: long-term\n")})
    with patch("salt.utils.path.which", return_value="/usr/sbin/haproxy"), \
            patch.dict(pgha_limits.__salt__, {"cmd.run_all": run}):
        assert pgha_limits.haproxy_version() == "3.0.11-1"
    assert run.call_args.args[0] == ["/usr/sbin/haproxy", "-v"]      # an argv list, no shell
    assert run.call_args.kwargs["python_shell"] is False
    with patch("salt.utils.path.which", return_value=None):
        assert pgha_limits.haproxy_version() == ""


def test_haproxy_check_gathers_the_facts():
    with _files({"/proc/1/limits": LIMITS_CONTAINER, "/proc/sys/fs/nr_open": "1048576"}), \
            patch.object(pgha_limits, "haproxy_version", return_value="3.0.11-1"):
        verdict = pgha_limits.haproxy_check("10000")
    assert verdict["level"] == "error" and verdict["message"] == LAB_MESSAGE
    assert pgha_limits.haproxy_unit_nofile(10000) == 65536


# -- the state -----------------------------------------------------------------------------------

def _verdict(level, strict=True, message="pgha:haproxy:maxconn: ..."):
    return MagicMock(return_value={"level": level, "strict": strict, "message": message,
                                   "needed": 1, "available": 1})


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
@pytest.mark.parametrize("level,strict,result,prefix", [
    ("ok", None, True, ""),
    ("warn", False, True, "Warning: "),
    ("error", True, False, ""),
])
def test_fd_limits_state(test, level, strict, result, prefix):
    check = _verdict(level, strict, LAB_MESSAGE)
    with patch.dict(pgha_haproxy_state.__opts__, {"test": test}), \
            patch.dict(pgha_haproxy_state.__salt__, {"pgha_limits.haproxy_check": check}):
        ret = pgha_haproxy_state.fd_limits("pgha-haproxy-fd-limits-checked", maxconn=10000)
    # a check: the same verdict in a dry run, never a change
    assert ret == {"name": "pgha-haproxy-fd-limits-checked", "result": result, "changes": {},
                   "comment": prefix + LAB_MESSAGE}
    check.assert_called_once_with(10000)


def test_fd_limits_state_unknown_version():
    """Before HAProxy is installed a dry run cannot know whether it would refuse: None."""
    check = _verdict("error", strict=None)
    with patch.dict(pgha_haproxy_state.__salt__, {"pgha_limits.haproxy_check": check}):
        with patch.dict(pgha_haproxy_state.__opts__, {"test": True}):
            assert pgha_haproxy_state.fd_limits("x", maxconn=10000)["result"] is None
        assert pgha_haproxy_state.fd_limits("x", maxconn=10000)["result"] is False


def test_fd_limits_state_without_the_module():
    ret = pgha_haproxy_state.fd_limits("x", maxconn=10000)
    assert ret["result"] is False and "pgha_limits" in ret["comment"]
