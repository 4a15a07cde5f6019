"""Unit tests of the pgha_system state module (_states/pgha_system.py), loaded as
``pgha_system_state``: with the execution module mocked, and with the real one on a
directory that stands for /proc/sys (applied, re-run quiet, read-only reported)."""
import errno
import os
from unittest.mock import MagicMock, create_autospec, patch

import pgha_system
import pgha_system_state
import pytest
from salt.exceptions import CommandExecutionError

SETTINGS = {"vm.swappiness": 1, "net.core.somaxconn": 65535, "net.ipv4.ip_local_port_range": "10000 65535"}


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    proc = tmp_path / "proc_sys"
    for path, text in {"vm/swappiness": "60\n", "net/core/somaxconn": "4096\n",
                       "net/ipv4/ip_local_port_range": "32768\t60999\n"}.items():
        (proc / path).parent.mkdir(parents=True, exist_ok=True)
        (proc / path).write_text(text)
    monkeypatch.setattr(pgha_system, "PROC_SYS", str(proc))
    monkeypatch.setattr(pgha_system, "CONTAINER_FILE", str(tmp_path / "container"))
    return tmp_path


@pytest.fixture
def configure_loader_modules():
    opts = {"test": False}
    grains = {"kernel": "Linux", "virtual": "systemd-nspawn"}
    real = {f"pgha_system.{name}": getattr(pgha_system, name)
            for name in ("kernel_get", "kernel_set", "kernel_check", "same", "container")}
    return {
        pgha_system: {"__grains__": grains, "__opts__": opts, "__salt__": {}, "__context__": {}},
        pgha_system_state: {"__salt__": real, "__opts__": opts, "__pillar__": {}, "__context__": {}},
    }


@pytest.fixture(params=[False, True], ids=["real", "test"])
def test_mode(request):
    with patch.dict(pgha_system_state.__opts__, {"test": request.param}):
        yield request.param


def test_virtual():
    assert pgha_system_state.__virtual__() == "pgha_system"
    with patch.object(pgha_system_state, "__salt__", {}):
        result, reason = pgha_system_state.__virtual__()
    assert result is False and "saltutil.sync_all" in reason


def test_applied_then_quiet(kernel):
    ret = pgha_system_state.kernel_applied("pgha-system-sysctl-applied", SETTINGS)
    assert ret["result"] is True
    assert ret["changes"] == {
        "net.core.somaxconn": {"old": "4096", "new": "65535"},
        "net.ipv4.ip_local_port_range": {"old": "32768 60999", "new": "10000 65535"},
        "vm.swappiness": {"old": "60", "new": "1"}}
    assert ret["comment"].startswith("set: net.core.somaxconn (4096 -> 65535), ")
    assert (kernel / "proc_sys" / "vm" / "swappiness").read_text() == "1"
    # the second run changes nothing
    again = pgha_system_state.kernel_applied("pgha-system-sysctl-applied", SETTINGS)
    assert again == {"name": "pgha-system-sysctl-applied", "result": True, "changes": {},
                     "comment": "already set: net.core.somaxconn, net.ipv4.ip_local_port_range, vm.swappiness"}


def test_test_mode_writes_nothing(kernel):
    with patch.dict(pgha_system_state.__opts__, {"test": True}):
        ret = pgha_system_state.kernel_applied("x", {"vm.swappiness": 1, "net.core.somaxconn": 4096})
    assert ret["result"] is None
    assert ret["changes"] == {"vm.swappiness": {"old": "60", "new": "1"}}
    assert ret["comment"] == "would set: vm.swappiness (60 -> 1)\nalready set: net.core.somaxconn"
    assert (kernel / "proc_sys" / "vm" / "swappiness").read_text() == "60\n"


def test_read_only_container_is_reported_not_failed(kernel, monkeypatch, test_mode):
    """The lab's nspawn nodes: /proc/sys read-only but for net.*, some net keys absent."""
    (kernel / "container").write_text("systemd-nspawn\n")
    monkeypatch.setattr(pgha_system.os, "open", _fail_for("vm", errno.EROFS, os.open))

    class ReadOnly:
        f_flag = os.ST_RDONLY
    real_statvfs = os.statvfs
    monkeypatch.setattr(pgha_system.os, "statvfs",
                        lambda path: ReadOnly() if "/vm/" in str(path) else real_statvfs(path))
    settings = {**SETTINGS, "net.core.rmem_max": 16777216}
    ret = pgha_system_state.kernel_applied("pgha-system-sysctl-applied", settings)
    assert ret["result"] is (None if test_mode else True)
    assert list(ret["changes"]) == ["net.core.somaxconn", "net.ipv4.ip_local_port_range"]
    lines = ret["comment"].splitlines()
    assert lines[1:] == [
        "not applied, not in this container (systemd-nspawn): the key is the host's, not per network "
        "namespace; set it on the host: net.core.rmem_max",
        "not applied, read-only in this container (systemd-nspawn): the host's kernel setting applies: "
        "vm.swappiness"]
    # once the rest is applied, a re-run has no changes and still says what was not applied
    if not test_mode:
        again = pgha_system_state.kernel_applied("pgha-system-sysctl-applied", settings)
        assert again["result"] is True and again["changes"] == {}
        assert again["comment"].splitlines()[:2] == lines[1:]


def _fail_for(part, code, real):
    def fake(path, *args, **kwargs):
        if f"/{part}/" in str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real(path, *args, **kwargs)
    return fake


# -- with the execution module mocked --------------------------------------------------------

def _mocked(get=None, set_result=None, check=None):
    funcs = {
        "pgha_system.kernel_get": create_autospec(pgha_system.kernel_get, side_effect=get or (lambda k: "0")),
        "pgha_system.kernel_set": create_autospec(pgha_system.kernel_set,
                                                  side_effect=set_result or (lambda k, v: {"applied": True,
                                                                                           "value": str(v)})),
        "pgha_system.kernel_check": create_autospec(pgha_system.kernel_check, return_value=check),
        "pgha_system.same": pgha_system.same,
    }
    return patch.dict(pgha_system_state.__salt__, funcs), funcs


def test_a_refused_value_fails_with_the_kernel_s_words(test_mode):
    error = CommandExecutionError("vm.swappiness: the kernel refused 'many': Invalid argument")
    patcher, funcs = _mocked(set_result=MagicMock(side_effect=error))
    with patcher:
        ret = pgha_system_state.kernel_applied("x", {"vm.swappiness": "many", "vm.dirty_bytes": 0})
    if test_mode:
        funcs["pgha_system.kernel_set"].assert_not_called()
        assert ret["result"] is None
    else:
        assert ret["result"] is False
        assert ret["comment"].splitlines()[0] == f"failed: {error}"
        assert ret["changes"] == {}


def test_kernel_keeps_less_than_asked():
    """vm.nr_hugepages with fragmented memory: what the kernel took is the change, and the
    comment says so; the next boot reserves them from the file."""
    patcher, _ = _mocked(set_result=lambda k, v: {"applied": True, "value": "600"})
    with patcher:
        ret = pgha_system_state.kernel_applied("x", {"vm.nr_hugepages": 1000})
    assert ret["result"] is True
    assert ret["changes"] == {"vm.nr_hugepages": {"old": "0", "new": "600"}}
    assert "kept less than asked (applies in full at the next boot, from the persisted file): " \
           "vm.nr_hugepages (asked 1000, the kernel has 600)" in ret["comment"]


def test_nothing_to_apply(test_mode):
    patcher, funcs = _mocked()
    with patcher:
        ret = pgha_system_state.kernel_applied("x", {})
    assert ret == {"name": "x", "result": True, "changes": {}, "comment": "no kernel settings to apply"}
    funcs["pgha_system.kernel_get"].assert_not_called()


def test_test_mode_reports_what_would_be_skipped():
    patcher, funcs = _mocked(check="read-only in this container (docker): the host's kernel setting applies")
    with patcher, patch.dict(pgha_system_state.__opts__, {"test": True}):
        ret = pgha_system_state.kernel_applied("x", {"vm.swappiness": 1})
    assert ret["result"] is True and ret["changes"] == {}
    assert ret["comment"] == ("not applied, read-only in this container (docker): the host's kernel "
                              "setting applies: vm.swappiness")
    funcs["pgha_system.kernel_set"].assert_not_called()
