"""
etcd cluster health for pgha's orchestration gates, over etcd's HTTP API (no client library:
the same calls work for etcd 3.4 to 3.6).
"""
import json
import logging
import time
import urllib.error
import urllib.request

from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha_etcd"


def __virtual__():
    return __virtualname__


def _get(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # nosec: cluster-internal URL
        return json.loads(resp.read().decode() or "{}")


def health(endpoints, timeout=2):
    """
    Ask each etcd client URL for ``/health``. Returns ``{url: True|False|"error text"}``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd.health '["http://10.0.0.11:2379"]'
    """
    result = {}
    for url in endpoints:
        try:
            data = _get(url.rstrip("/") + "/health", timeout)
            result[url] = str(data.get("health")).lower() == "true"
        except (OSError, ValueError, urllib.error.URLError) as exc:
            result[url] = str(getattr(exc, "reason", exc))
    return result


def members(endpoint, timeout=3):
    """
    List the members of the etcd cluster behind one client URL (v3 JSON gateway).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd.members http://10.0.0.11:2379
    """
    req = urllib.request.Request(endpoint.rstrip("/") + "/v3/cluster/member/list", data=b"{}",
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # nosec
            data = json.loads(resp.read().decode())
    except (OSError, ValueError) as exc:
        raise CommandExecutionError(f"cannot list etcd members at {endpoint}: {exc}") from exc
    return [{"name": m.get("name", ""), "peer_urls": m.get("peerURLs", []),
             "client_urls": m.get("clientURLs", [])} for m in data.get("members", [])]


def wait_healthy(endpoints, timeout=90, interval=0.5):
    """
    Wait until every listed etcd member reports healthy (a cluster with quorum answers
    ``/health`` true only from members that can reach the leader). Raises on timeout with the
    last answer of each member.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd.wait_healthy '["http://10.0.0.11:2379", "http://10.0.0.12:2379"]'
    """
    if not endpoints:
        raise CommandExecutionError("no etcd endpoints to check: is the mine populated "
                                    "(pgha_address) and are minions given the etcd role?")
    deadline = time.monotonic() + float(timeout)
    while True:
        status = health(endpoints)
        if all(v is True for v in status.values()):
            return status
        if time.monotonic() >= deadline:
            bad = {k: v for k, v in status.items() if v is not True}
            raise CommandExecutionError(f"etcd not healthy after {timeout}s: {bad}")
        time.sleep(interval)
