"""Unit tests of the pgha_system execution module (_modules/pgha_system.py): kernel settings
read and written in a directory that stands for /proc/sys and /sys."""
import errno
import os
from unittest.mock import patch

import pgha_system
import pytest
from salt.exceptions import CommandExecutionError


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A fake /proc/sys and /sys with a few settings, and no container file."""
    proc, sys_dir = tmp_path / "proc_sys", tmp_path / "sys"
    files = {
        proc / "vm" / "swappiness": "60\n",
        proc / "net" / "ipv4" / "ip_local_port_range": "32768\t60999\n",
        proc / "net" / "ipv4" / "conf" / "eth0.1" / "rp_filter": "0\n",
        sys_dir / "kernel" / "mm" / "transparent_hugepage" / "enabled": "always [madvise] never\n",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setattr(pgha_system, "PROC_SYS", str(proc))
    monkeypatch.setattr(pgha_system, "SYS", str(sys_dir))
    monkeypatch.setattr(pgha_system, "CONTAINER_FILE", str(tmp_path / "no-container"))
    return {"proc": proc, "sys": sys_dir, "root": tmp_path}


@pytest.fixture
def configure_loader_modules():
    return {pgha_system: {"__grains__": {"kernel": "Linux", "virtual": "kvm"}, "__opts__": {"test": False},
                          "__salt__": {}, "__context__": {}}}


def _os_error(code, path_part, real):
    """An os function that fails with ``code`` for paths containing ``path_part``."""
    def fake(path, *args, **kwargs):
        if path_part in str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real(path, *args, **kwargs)
    return fake


def test_virtual():
    assert pgha_system.__virtual__() == "pgha_system"
    with patch.dict(pgha_system.__grains__, {"kernel": "FreeBSD"}):
        assert pgha_system.__virtual__()[0] is False


def test_kernel_path(kernel):
    assert pgha_system.kernel_path("vm.swappiness") == str(kernel["proc"] / "vm" / "swappiness")
    # sysctl(8)'s slash for a dot inside a component (a VLAN interface)
    assert pgha_system.kernel_path("net.ipv4.conf.eth0/1.rp_filter") == str(
        kernel["proc"] / "net" / "ipv4" / "conf" / "eth0.1" / "rp_filter")
    thp = str(kernel["sys"] / "kernel" / "mm" / "transparent_hugepage" / "enabled")
    assert pgha_system.kernel_path(thp) == thp


@pytest.mark.parametrize("key", ["/etc/passwd", "vm..swappiness", ".vm", "", "vm/../../etc"])
def test_kernel_path_refuses_other_files(kernel, key):
    with pytest.raises(CommandExecutionError):
        pgha_system.kernel_path(key)


def test_kernel_get(kernel):
    assert pgha_system.kernel_get("vm.swappiness") == "60"
    # tabs between words become one space; of a choice list, the chosen word
    assert pgha_system.kernel_get("net.ipv4.ip_local_port_range") == "32768 60999"
    assert pgha_system.kernel_get(str(kernel["sys"] / "kernel/mm/transparent_hugepage/enabled")) == "madvise"
    assert pgha_system.kernel_get("net.ipv4.conf.eth0/1.rp_filter") == "0"
    assert pgha_system.kernel_get("net.core.rmem_max") is None


@pytest.mark.parametrize("current,wanted,same", [
    ("32768 60999", "32768\t60999", True), ("1", 1, True), ("60", "1", False), (None, "1", False),
    ("never", "[never]", True),
])
def test_same(current, wanted, same):
    assert pgha_system.same(current, wanted) is same


def test_kernel_set_writes_and_reads_back(kernel):
    assert pgha_system.kernel_set("vm.swappiness", 1) == {"applied": True, "value": "1"}
    assert (kernel["proc"] / "vm" / "swappiness").read_text() == "1"
    assert pgha_system.kernel_set("net.ipv4.ip_local_port_range", "10000 65535") == {
        "applied": True, "value": "10000 65535"}


def test_kernel_set_absent_key_is_reported(kernel):
    assert pgha_system.kernel_set("net.core.rmem_max", 16777216) == {
        "applied": False, "reason": "not in this kernel"}
    assert not (kernel["proc"] / "net" / "core").exists()


@pytest.mark.parametrize("code,reason", [
    (errno.EROFS, "read-only file system"),
    (errno.EPERM, "not permitted: writing it needs root (and no security module in the way)"),
    (errno.EACCES, "not permitted: writing it needs root (and no security module in the way)"),
])
def test_kernel_set_not_allowed_here_is_reported(kernel, monkeypatch, code, reason):
    monkeypatch.setattr(pgha_system.os, "open", _os_error(code, "swappiness", os.open))
    assert pgha_system.kernel_set("vm.swappiness", 1) == {"applied": False, "reason": reason}
    assert (kernel["proc"] / "vm" / "swappiness").read_text() == "60\n"


def test_kernel_set_in_a_container_names_it(kernel, monkeypatch):
    (kernel["root"] / "container").write_text("systemd-nspawn\n")
    monkeypatch.setattr(pgha_system, "CONTAINER_FILE", str(kernel["root"] / "container"))
    monkeypatch.setattr(pgha_system.os, "open", _os_error(errno.EROFS, "swappiness", os.open))
    assert pgha_system.kernel_set("vm.swappiness", 1)["reason"] == (
        "read-only in this container (systemd-nspawn): the host's kernel setting applies")
    assert pgha_system.kernel_set("net.core.rmem_max", 1)["reason"] == (
        "not in this container (systemd-nspawn): the key is the host's, not per network "
        "namespace; set it on the host")


def test_kernel_set_a_refused_value_raises(kernel, monkeypatch):
    monkeypatch.setattr(pgha_system.os, "write", lambda fd, data: (_ for _ in ()).throw(
        OSError(errno.EINVAL, "Invalid argument")))
    with pytest.raises(CommandExecutionError, match=r"vm.swappiness: the kernel refused 'many': Invalid argument"):
        pgha_system.kernel_set("vm.swappiness", "many")


def test_kernel_set_write_not_permitted_is_reported(kernel, monkeypatch):
    """Some settings open fine and refuse the write itself (a namespace's read-only key)."""
    monkeypatch.setattr(pgha_system.os, "write", lambda fd, data: (_ for _ in ()).throw(
        OSError(errno.EPERM, "Operation not permitted")))
    assert pgha_system.kernel_set("vm.swappiness", 1)["applied"] is False


def test_kernel_check(kernel, monkeypatch):
    assert pgha_system.kernel_check("vm.swappiness") is None
    assert pgha_system.kernel_check("net.core.rmem_max") == "not in this kernel"

    class ReadOnly:
        f_flag = os.ST_RDONLY
    monkeypatch.setattr(pgha_system.os, "statvfs", lambda path: ReadOnly())
    assert pgha_system.kernel_check("vm.swappiness") == "read-only file system"


@pytest.mark.parametrize("grains,found", [
    ({"virtual": "kvm"}, ""),
    ({"virtual": "systemd-nspawn"}, "systemd-nspawn"),
    ({"virtual": "container", "virtual_subtype": "Docker"}, "Docker"),
    ({"virtual": "LXC"}, ""),          # only Salt's names count: 'container' with a subtype
])
def test_container_from_grains(kernel, grains, found):
    with patch.dict(pgha_system.__grains__, grains, clear=True):
        assert pgha_system.container() == found


def test_container_file_first_and_cached(kernel, monkeypatch):
    (kernel["root"] / "container").write_text("docker\n")
    monkeypatch.setattr(pgha_system, "CONTAINER_FILE", str(kernel["root"] / "container"))
    assert pgha_system.container() == "docker"
    (kernel["root"] / "container").unlink()
    assert pgha_system.container() == "docker"     # once per run
