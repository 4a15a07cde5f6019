"""
Whether HAProxy can open the file descriptors ``pgha:haproxy:maxconn`` needs on this host.
Pure Python, no ``__salt__``: the execution module ``pgha_limits`` reads the facts
(/proc/1/limits, fs.nr_open, ``haproxy -v``) and the state ``pgha_haproxy.fd_limits`` reports
the verdict before HAProxy's configuration or service change.

Why: pgha's systemd drop-in asks for ``LimitNOFILE`` (``unit_nofile``), but systemd cannot
give a service more than its own hard limit. On a real host that is 524288; in a container it
is whatever the container manager gave PID 1 (the lab's: 20000). HAProxy 3.0 made
``strict-limits`` the default and then refuses to start (``Cannot raise FD limit to 20068,
limit is 20000``), which the deploy only saw 60 s later as "HAProxy stats unreachable";
HAProxy before 3.0 warns and runs with fewer connections than configured.
"""
import re

# HAProxy's compute_ideal_maxsock() (src/haproxy.c): 2 sockets per connection (client and
# server side), 2 per pipe (pgha configures no splicing: none), per thread one poller fd and a
# 2-fd wake-up pipe, plus global.est_fd_usage (listeners, health checks, log and stats
# sockets, the master-worker socketpair). Measured: maxconn 10000 on a 2-CPU node asked for
# 20068, i.e. 62 beyond the threads for pgha's ~12 listeners and their checks. The estimate
# takes 2 * maxconn + 3 per thread (HAProxy starts one per CPU) + a fixed 100 for the rest:
# a little above HAProxy's own figure, so what passes here does not fail there.
FDS_PER_CONNECTION = 2
FDS_PER_THREAD = 3
FDS_MARGIN = 100
# What pgha's systemd drop-in asks for: 4 per connection leaves room for the reload's old
# workers holding their sessions next to the new ones; never below systemd's usual 65536.
UNIT_FDS_PER_CONNECTION = 4
UNIT_FDS_MINIMUM = 65536
# HAProxy 3.0 made strict-limits the default: short of descriptors it stops instead of warning.
STRICT_SINCE = (3, 0)
KEY = "pgha:haproxy:maxconn"


def unit_nofile(maxconn):
    """``LimitNOFILE`` of pgha's HAProxy drop-in for ``maxconn``."""
    return max(int(maxconn) * UNIT_FDS_PER_CONNECTION, UNIT_FDS_MINIMUM)


def parse_limits(text, name="Max open files"):
    """
    ``(soft, hard)`` of one line of a /proc/<pid>/limits text; ``None`` for ``unlimited``.
    Raises ValueError when the line is missing or not numbers.
    """
    for line in text.splitlines():
        if line.startswith(name):
            fields = line[len(name):].split()
            if len(fields) < 2:
                break
            return tuple(None if f == "unlimited" else int(f) for f in fields[:2])
    raise ValueError(f"no {name!r} line in the limits text")


def version_tuple(version):
    """``(3, 0)`` of ``'3.0.11-1'`` / ``'HAProxy version 2.6.12-1+deb12u1 ...'``; ``None`` if none."""
    found = re.search(r"(\d+)\.(\d+)", version or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


def strict(version):
    """HAProxy refuses to start short of descriptors (>= 3.0); ``None`` if the version is unknown."""
    parsed = version_tuple(version)
    return None if parsed is None else parsed >= STRICT_SINCE


def needed(maxconn, threads=1):
    """The descriptors HAProxy asks for with ``maxconn`` and ``threads`` threads (see above)."""
    return (FDS_PER_CONNECTION * int(maxconn) + FDS_PER_THREAD * max(int(threads), 1)
            + FDS_MARGIN)


def max_maxconn(available, threads=1):
    """The highest maxconn that fits ``available`` descriptors, rounded down to a hundred."""
    fit = (int(available) - FDS_PER_THREAD * max(int(threads), 1) - FDS_MARGIN) // FDS_PER_CONNECTION
    return max(fit // 100 * 100, 0)


def available(pid1_hard=None, nr_open=None, unit=None):
    """
    ``(limit, source, remedy)``: the most descriptors systemd can give HAProxy here, what sets
    it and how to raise it, or ``(None, '', '')`` when nothing limits it. ``None`` inputs
    (unlimited, unknown) are skipped.
    """
    sources = (
        (pid1_hard, "the hard RLIMIT_NOFILE of PID 1, e.g. a container's limit",
         "raise the container's limit"),
        (nr_open, "the kernel's fs.nr_open", "raise the sysctl fs.nr_open"),
        (unit, "LimitNOFILE of pgha's HAProxy drop-in", "report this to pgha"),
    )
    known = [item for item in sources if item[0] is not None]
    return min(known, key=lambda item: item[0]) if known else (None, "", "")


def check(maxconn, facts):
    """
    The verdict for HAProxy on this node: ``{"level", "message", "needed", "available"}``,
    ``level`` ``ok``, ``warn`` (HAProxy before 3.0 starts with fewer connections) or ``error``
    (HAProxy >= 3.0 refuses to start; also when its version is not known yet, e.g. a dry run
    before it is installed: ``strict`` is then ``None``).

    ``facts``: ``{"pid1_hard", "nr_open", "threads", "version"}`` as ``pgha_limits.facts``
    returns them.
    """
    threads = facts.get("threads") or 1
    need = needed(maxconn, threads)
    limit, source, remedy = available(facts.get("pid1_hard"), facts.get("nr_open"), unit_nofile(maxconn))
    verdict = {"level": "ok", "needed": need, "available": limit, "strict": None,
               "message": f"{KEY}: {maxconn} connections need about {need} open files"
                          + (f", this host allows {limit}" if limit is not None else
                             ", this host sets no limit")}
    if limit is None or need <= limit:
        return verdict
    is_strict = strict(facts.get("version", ""))
    message = (f"{KEY}: {maxconn} connections need about {need} open files, but this host "
               f"allows at most {limit} ({source}): lower {KEY} to "
               f"{max_maxconn(limit, threads)} or less, or {remedy}")
    if is_strict is False:
        message += (f" (HAProxy {facts.get('version')} starts anyway, with fewer connections "
                    "than configured; 3.0 and later refuse to start)")
        level = "warn"
    elif is_strict is None:
        message += " (HAProxy 3.0 and later refuse to start; its version is not known yet)"
        level = "error"
    else:
        level = "error"
    verdict.update(level=level, message=message, strict=is_strict)
    return verdict
