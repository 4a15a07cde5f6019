"""
Resource limits of this node that decide whether a service can start as configured: today
the open files HAProxy needs for ``pgha:haproxy:maxconn`` (the decision is
``_utils/pgha_fd_limits.py``; the state ``pgha_haproxy.fd_limits`` reports it).
"""
import salt.utils.path

__virtualname__ = "pgha_limits"

PID1_LIMITS = "/proc/1/limits"
NR_OPEN = "/proc/sys/fs/nr_open"


def __virtual__():
    # Loads everywhere: templates call haproxy_unit_nofile, and without /proc (not Linux)
    # nofile reports no limit instead of failing.
    return __virtualname__


def _read(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


def nofile():
    """
    The open-files limits that bound any service on this node: ``{"pid1_soft", "pid1_hard",
    "nr_open"}``. PID 1's hard ``Max open files`` is what systemd (PID 1 in a container too)
    can give a service at most; ``nr_open`` the kernel's ceiling. ``None``: unlimited or not
    readable.

    CLI Example:

    .. code-block:: bash

        salt lb1 pgha_limits.nofile
    """
    soft = hard = nr_open = None
    text = _read(PID1_LIMITS)
    if text is not None:
        try:
            soft, hard = __utils__["pgha_fd_limits.parse_limits"](text)
        except ValueError:
            pass
    value = (_read(NR_OPEN) or "").strip()
    if value.isdigit():
        nr_open = int(value)
    return {"pid1_soft": soft, "pid1_hard": hard, "nr_open": nr_open}


def haproxy_version(binary="haproxy"):
    """
    The installed HAProxy's version (``'3.0.11-1'``) from ``haproxy -v``, or ``''`` when it
    is not installed (a dry run before the package state ran).

    CLI Example:

    .. code-block:: bash

        salt lb1 pgha_limits.haproxy_version
    """
    path = salt.utils.path.which(binary)
    if not path:
        return ""
    res = __salt__["cmd.run_all"]([path, "-v"], python_shell=False, ignore_retcode=True,
                                  output_loglevel="quiet")
    first = (res.get("stdout") or "").splitlines()[:1]
    # "HAProxy version 3.0.11-1 2025/06/04 - https://haproxy.org/"
    words = first[0].split() if first else []
    return words[2] if res.get("retcode") == 0 and len(words) > 2 else ""


def haproxy_check(maxconn):
    """
    Whether HAProxy gets the open files ``maxconn`` needs here: ``{"level": "ok"|"warn"|
    "error", "message", "needed", "available", "strict"}`` (``_utils/pgha_fd_limits.check``).

    CLI Example:

    .. code-block:: bash

        salt lb1 pgha_limits.haproxy_check 10000
    """
    facts = nofile()
    facts.update(threads=__grains__.get("num_cpus") or 1, version=haproxy_version())
    return __utils__["pgha_fd_limits.check"](int(maxconn), facts)


def haproxy_unit_nofile(maxconn):
    """
    ``LimitNOFILE`` of pgha's HAProxy systemd drop-in for ``maxconn``.

    CLI Example:

    .. code-block:: bash

        salt lb1 pgha_limits.haproxy_unit_nofile 10000
    """
    return __utils__["pgha_fd_limits.unit_nofile"](maxconn)
