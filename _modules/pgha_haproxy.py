"""
HAProxy health for pgha's Type A gates: reads HAProxy's stats page (CSV) on the balancer.
"""
import base64
import csv
import io
import socket
import time
import urllib.error
import urllib.request

import salt.utils.data

from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_haproxy"


def __virtual__():
    return __virtualname__


def servers(port=7000, user="admin", password=None, host="127.0.0.1", timeout=3):
    """
    Status of every server in every HAProxy listener: ``{listener: {server: "UP"|"DOWN"|...}}``.

    Without ``password``, the stats password is read from this minion's pillar
    (``pgha:haproxy:stats_password``): states and orchestrations never pass it, so it shows in
    no state argument, job return or command line.

    CLI Example:

    .. code-block:: bash

        salt lb1 pgha_haproxy.servers
    """
    if password is None:
        # __pillar__ itself: Salt 3008's pillar.get masks every value (**********) outside a
        # template render, and this runs inside a state.
        password = salt.utils.data.traverse_dict_and_list(
            __pillar__, "pgha:haproxy:stats_password", "", delimiter=":")
    req = urllib.request.Request(f"http://{host}:{port}/;csv")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # nosec: local stats page
            text = resp.read().decode()
    except (OSError, urllib.error.URLError) as exc:
        raise CommandExecutionError(f"HAProxy stats unreachable on {host}:{port}: {exc}") from exc
    result = {}
    try:
        for row in csv.DictReader(io.StringIO(text.lstrip("# "))):
            if row.get("svname") in ("FRONTEND", "BACKEND"):
                continue
            result.setdefault(row["pxname"], {})[row["svname"]] = row.get("status", "")
    except (KeyError, csv.Error) as exc:
        raise CommandExecutionError(f"{host}:{port} did not answer with HAProxy's stats CSV") from exc
    return result


def wait_ready(vip=None, master_port=5000, timeout=60, interval=0.5, **stats):
    """
    Wait until HAProxy's ``master`` listener has exactly one server UP (the primary) and, when
    ``vip`` is given, the VIP accepts TCP connections on ``master_port``.

    CLI Example:

    .. code-block:: bash

        salt lb1 pgha_haproxy.wait_ready vip=10.0.0.100
    """
    deadline = time.monotonic() + float(timeout)
    why = "not checked"
    while True:
        try:
            up = [s for s, st in servers(**stats).get("master", {}).items() if st == "UP"]
            if len(up) != 1:
                why = f"master listener has {len(up)} servers UP: {up}"
            elif vip:
                with socket.create_connection((vip, int(master_port)), timeout=2):
                    return f"primary {up[0]} behind {vip}:{master_port}"
            else:
                return f"primary {up[0]} UP"
        except (CommandExecutionError, OSError) as exc:
            why = str(exc)
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"HAProxy not ready after {timeout}s: {why}")
        time.sleep(interval)
