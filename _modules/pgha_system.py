"""
Kernel settings of pgha's host preparation (``pgha:system``): sysctl keys under /proc/sys and
files under /sys (transparent huge pages), read and written one at a time.

A write the host does not allow is told apart from a value the kernel refuses: a container
shares the host's kernel, and its /proc/sys and /sys are read-only (systemd-nspawn, Docker,
LXC) or lack keys that are not per network namespace (``net.core.rmem_max``). Those come
back as ``{"applied": False, "reason": ...}`` for the state to report; a refused value
raises.

Patroni's watchdog (``watchdog``): the mode this node can give Patroni, from the facts the
decision in ``_utils/pgha_watchdog.py`` needs (a container? a device? softdog loaded?).
"""
import errno
import os
import stat

import salt.utils.data
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_system"

PROC_SYS = "/proc/sys"
SYS = "/sys"
# systemd writes the container manager's name here (systemd-nspawn, docker, lxc, podman)
CONTAINER_FILE = "/run/systemd/container"
CONTAINER_VIRTUAL = ("container", "systemd-nspawn", "lxc", "openvzve")
NOT_PERMITTED = (errno.EPERM, errno.EACCES)


def __virtual__():
    if __grains__.get("kernel") == "Linux":
        return __virtualname__
    return (False, "pgha_system: kernel settings through /proc/sys and /sys need Linux")


def container():
    """
    The container this minion runs in (``systemd-nspawn``, ``docker``, ``lxc``, ...), or ``''``
    on a host of its own (bare metal or a VM).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_system.container
    """
    if "pgha_system.container" not in __context__:
        name = ""
        try:
            with open(CONTAINER_FILE, encoding="utf-8") as fh:
                name = fh.read().strip()
        except OSError:
            pass
        virtual = __grains__.get("virtual", "")
        if not name and virtual in CONTAINER_VIRTUAL:
            name = __grains__.get("virtual_subtype") or virtual
        __context__["pgha_system.container"] = name
    return __context__["pgha_system.container"]


def kernel_path(key):
    """
    The file of a kernel setting: a sysctl name (``vm.swappiness``, ``/`` standing for a dot
    inside one component as sysctl(8) writes it) under /proc/sys, or a path under /sys as given.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_system.kernel_path net.ipv4.tcp_keepalive_time
    """
    key = str(key)
    if key.startswith("/"):
        path = os.path.normpath(key)
        if not path.startswith(SYS + "/"):
            raise CommandExecutionError(f"{key}: not a file under {SYS}")
        return path
    if not key or ".." in key or key.startswith("."):
        raise CommandExecutionError(f"{key!r} is not a sysctl name such as vm.swappiness")
    return os.path.join(PROC_SYS, key.translate(str.maketrans("./", "/.")))


def _normal(text):
    """A value as the kernel shows it, compared word by word (tabs, spaces); of a /sys choice
    list such as ``always madvise [never]`` the chosen word."""
    words = str(text).split()
    for word in words:
        if word.startswith("[") and word.endswith("]"):
            return word[1:-1]
    return " ".join(words)


def kernel_get(key):
    """
    The current value of a kernel setting (words joined by one space; of a /sys choice list the
    chosen one), or None when this kernel (or this network namespace) has no such setting.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_system.kernel_get /sys/kernel/mm/transparent_hugepage/enabled
    """
    path = kernel_path(key)
    try:
        with open(path, encoding="utf-8") as fh:
            return _normal(fh.read())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CommandExecutionError(f"{key}: cannot read {path}: {exc.strerror}") from exc


def same(current, wanted):
    """
    Whether the kernel's value is the wanted one, word by word (``10000 65535`` is the kernel's
    ``10000<TAB>65535``).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_system.same '10000 65535' '10000  65535'
    """
    return current is not None and _normal(current) == _normal(wanted)


def _reason(key, code):
    """Why a setting cannot be changed here, for the state's comment."""
    where = container()
    if code == errno.ENOENT:
        if where:
            return (f"not in this container ({where}): the key is the host's, not per "
                    "network namespace; set it on the host")
        return "not in this kernel"
    if code == errno.EROFS:
        if where:
            return f"read-only in this container ({where}): the host's kernel setting applies"
        return "read-only file system"
    if where:
        return f"not permitted in this container ({where}): the host's kernel setting applies"
    return "not permitted: writing it needs root (and no security module in the way)"


def kernel_check(key):
    """
    Why ``key`` cannot be changed here (read-only, absent), or None when it can be: what a
    dry run (``test=True``) reports, found without writing.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_system.kernel_check vm.swappiness
    """
    path = kernel_path(key)
    if not os.path.exists(path):
        return _reason(key, errno.ENOENT)
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return _reason(key, errno.EROFS)
    except OSError:
        pass
    if not os.access(path, os.W_OK):
        return _reason(key, errno.EACCES)
    return None


def kernel_set(key, value):
    """
    Write ``value`` to a kernel setting. Returns ``{"applied": True, "value": <read back>}``
    (the kernel may keep less than asked: ``vm.nr_hugepages`` with fragmented memory), or
    ``{"applied": False, "reason": ...}`` when this host cannot change it (a container's
    read-only /proc/sys, a key another namespace owns). A value the kernel refuses raises.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_system.kernel_set vm.swappiness 1
    """
    path = kernel_path(key)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)   # as the shell's echo > does
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EROFS) + NOT_PERMITTED:
            return {"applied": False, "reason": _reason(key, exc.errno)}
        raise CommandExecutionError(f"{key}: cannot open {path}: {exc.strerror}") from exc
    try:
        os.write(fd, str(value).encode())
    except OSError as exc:
        if exc.errno in (errno.EROFS,) + NOT_PERMITTED:
            return {"applied": False, "reason": _reason(key, exc.errno)}
        raise CommandExecutionError(f"{key}: the kernel refused {value!r}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    return {"applied": True, "value": kernel_get(key)}


# -- Patroni's watchdog (pgha:patroni:watchdog) -----------------------------------------------------

SOFTDOG_SYS = "/sys/module/softdog"


def _char_device(path):
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def watchdog(mode="automatic", device="/dev/watchdog"):
    """
    The watchdog plan for this node (``_utils/pgha_watchdog.decide``): ``{"wanted", "mode",
    "load_softdog", "reason", "error", "container", "device", "device_present"}``. ``mode``
    is what Patroni's configuration gets: ``off`` inside a container (the kernel is the
    host's: pgha never loads a module there) and where the device is missing although
    softdog is loaded. Reads only; loading softdog is the state's job.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_system.watchdog
        salt pg1 pgha_system.watchdog mode=required device=/dev/watchdog0
    """
    where = container()
    present = _char_device(device)
    plan = __utils__["pgha_watchdog.decide"](mode, where, present, os.path.isdir(SOFTDOG_SYS))
    plan.update(container=where, device=device, device_present=present)
    return plan


def watchdog_summary(mode=None, device=None):
    """
    One line on this node's watchdog for the deploy summary: the mode Patroni gets, and why
    it is not the one pillar asks for. ``mode`` and ``device`` default to pillar's
    (``pgha:patroni:watchdog``, else automatic and /dev/watchdog).

    CLI Example:

    .. code-block:: bash

        salt -I 'pgha:roles:postgresql' pgha_system.watchdog_summary
    """
    if mode is None:
        mode = salt.utils.data.traverse_dict_and_list(__pillar__, "pgha:patroni:watchdog:mode", "automatic",
                                                      delimiter=":")
    if device is None:
        device = salt.utils.data.traverse_dict_and_list(__pillar__, "pgha:patroni:watchdog:device",
                                                        "/dev/watchdog", delimiter=":")
    return __utils__["pgha_watchdog.summary"](watchdog(mode, device))
