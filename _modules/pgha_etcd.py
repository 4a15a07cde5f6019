"""
etcd cluster health for pgha's orchestration gates, over etcd's HTTP API (no client library:
the same calls work for etcd 3.4 to 3.6). https endpoints (pgha:tls) are verified with the
cluster CA, and shown this node's client certificate (pgha.tls_files).
"""
import json
import logging
import ssl
import time
import urllib.error
import urllib.request

import salt.utils.data
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha_etcd"


def __virtual__():
    return __virtualname__


def _open(req, timeout):
    """urlopen, with pgha's TLS context for an https URL when pgha:tls is on."""
    url = req.full_url if isinstance(req, urllib.request.Request) else req
    context = _ssl_context() if url.startswith("https://") else None
    if context is None:
        return urllib.request.urlopen(req, timeout=timeout)  # nosec: cluster-internal URL
    return urllib.request.urlopen(req, timeout=timeout, context=context)  # nosec: cluster-internal


def _ssl_context():
    """The cluster CA and this node's client certificate (pgha.tls_files), or None when
    pgha:tls is off (an https endpoint of an existing etcd: the system's CAs)."""
    files = __salt__["pgha.tls_files"]() if "pgha.tls_files" in __salt__ else {}
    if not files:
        return None
    context = ssl.create_default_context(cafile=files["ca"])
    if files.get("cert"):
        context.load_cert_chain(files["cert"], files["key"])
    return context


def _get(url, timeout):
    with _open(url, timeout) as resp:
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


def _post(endpoints, path, body, timeout=5, headers=None):
    """POST to etcd's v3 JSON gateway on the first endpoint that answers."""
    errors = []
    for endpoint in [endpoints] if isinstance(endpoints, str) else endpoints:
        req = urllib.request.Request(endpoint.rstrip("/") + path, data=json.dumps(body).encode(),
                                     method="POST", headers=headers or {})
        try:
            with _open(req, timeout) as resp:
                return json.loads(resp.read().decode() or "{}")
        except urllib.error.HTTPError as exc:
            raise CommandExecutionError(f"etcd {path} at {endpoint} refused: "
                                        f"{exc.read().decode(errors='replace').strip()}") from exc
        except (OSError, ValueError) as exc:
            errors.append(f"{endpoint}: {getattr(exc, 'reason', exc)}")
    raise CommandExecutionError(f"no etcd endpoint answered {path}: {'; '.join(errors)}")


def _member(m):
    return {"id": str(m.get("ID", "")), "name": m.get("name", ""), "peer_urls": m.get("peerURLs", []),
            "client_urls": m.get("clientURLs", [])}


def members(endpoint, timeout=3):
    """
    List the members of the etcd cluster behind one client URL (or a list of them: the first
    that answers), over etcd's v3 JSON gateway. A member added but not started yet has no name.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd.members http://10.0.0.11:2379
    """
    try:
        data = _post(endpoint, "/v3/cluster/member/list", {}, timeout=timeout)
    except CommandExecutionError as exc:
        raise CommandExecutionError(f"cannot list etcd members at {endpoint}: {exc}") from exc
    return [_member(m) for m in data.get("members", [])]


def member_add(endpoints, peer_url):
    """
    Add a member with ``peer_url`` to the running etcd cluster (before that member starts with
    ``initial-cluster-state: existing``). Does nothing when a member has that peer URL already.
    Returns ``{added, members}``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd.member_add '["http://10.0.0.11:2379"]' http://10.0.0.14:2380
    """
    current = members(endpoints)
    if any(peer_url in m["peer_urls"] for m in current):
        return {"added": False, "members": current}
    _post(endpoints, "/v3/cluster/member/add", {"peerURLs": [peer_url]})
    return {"added": True, "members": members(endpoints)}


def _leaving(endpoints, name):
    """(current members, the member `name`) after checking that the others keep a quorum."""
    current = members(endpoints)
    target = [m for m in current if m["name"] == name or name in m["peer_urls"]]
    if not target:
        return current, None
    left = [m for m in current if m is not target[0]]
    healthy = [m for m in left if any(v is True for v in health(m["client_urls"]).values())]
    if not left or len(healthy) < len(left) // 2 + 1:
        raise CommandExecutionError(
            f"removing etcd member {name} would break quorum: {len(healthy)} of the {len(left)} "
            f"members left are healthy, a quorum needs {len(left) // 2 + 1}")
    return current, target[0]


def removal_allowed(name, endpoints=None):
    """
    Say whether etcd member ``name`` can leave: the members left must be healthy enough to
    keep a quorum. Raises with the reason when not. ``endpoints`` default to this node's
    Patroni etcd hosts.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd.removal_allowed pg3
    """
    endpoints = endpoints or _patroni_endpoints()
    current, target = _leaving(endpoints, name)
    if target is None:
        return f"{name} is not an etcd member"
    left = len(current) - 1
    return (f"{name} can leave: {left} member(s) stay" +
            (" (an even count tolerates no more failures than one fewer)" if left % 2 == 0 else ""))


def _patroni_endpoints():
    """The etcd hosts of this node's Patroni configuration (the cluster's client URLs)."""
    path = __utils__["pgha_patroni_config.path"](__salt__, __context__)
    try:
        data = __utils__["pgha_patroni_config.read"](path)
    except CommandExecutionError as exc:
        raise CommandExecutionError(f"no etcd endpoints given and {exc}") from exc
    section = data.get("etcd3") or data.get("etcd") or {}
    hosts = section.get("hosts", [])
    if not hosts:
        raise CommandExecutionError(f"no etcd endpoints given and none in {path}")
    scheme = section.get("protocol", "http")
    return [f"{scheme}://{h}" if "://" not in h else h for h in hosts]


def member_remove(endpoints, name):
    """
    Remove member ``name`` (or the member with that peer URL) from the etcd cluster. Does
    nothing when it is not a member. Refuses when the members left could not form a quorum:
    fewer healthy members than a majority of those left.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd.member_remove '["http://10.0.0.11:2379"]' pg4
    """
    current, target = _leaving(endpoints, name)
    if target is None:
        return {"removed": False, "members": current}
    _post(endpoints, "/v3/cluster/member/remove", {"ID": target["id"]})
    return {"removed": True, "members": members(endpoints)}


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


def _root_token(endpoint, timeout):
    """etcd's root token when pgha turned authentication on (pgha:patroni:etcd:username), else
    None: moving etcd's leadership is an administrator's request. The password is read from
    pillar and sent only in the request body; the token is never returned or logged."""
    def pillar(key):
        # pillar.get masks values outside templates (Salt >= 3008): read __pillar__ directly
        return salt.utils.data.traverse_dict_and_list(__pillar__, f"pgha:patroni:etcd:{key}", "", delimiter=":")
    if not pillar("username"):
        return None
    if not pillar("root_password"):
        raise CommandExecutionError("pgha:patroni:etcd:root_password is needed to move etcd's leadership")
    try:
        answer = _post(endpoint, "/v3/auth/authenticate", {"name": "root", "password": pillar("root_password")},
                       timeout)
    except CommandExecutionError as exc:
        if "not enabled" in str(exc):       # pgha.deploy switches it on after the members start
            return None
        raise
    return answer.get("token")


def leader_apart(endpoint, timeout=3):
    """
    Hand etcd's leadership to another member when this node leads both Patroni and etcd
    (pgha:etcd:leader_apart; a Salt schedule runs it on every node that has both roles).

    Why: with Patroni's etcd v3 API the leader key lives on a lease, and an etcd member that
    becomes etcd's leader extends every lease by its full TTL. When the node that leads both
    crashes, the dead Patroni leader's key then outlives it by a whole ``ttl`` plus etcd's
    election instead of ``ttl`` minus the time since its last renewal: a slower failover.

    ``endpoint``: this node's etcd client URL. Nothing is moved unless this node's Patroni is
    the running leader, this node's etcd member leads etcd, and another member is healthy (the
    first by name). Returns ``{"moved": bool, "reason" or "to": name}``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd.leader_apart http://10.0.0.11:2379
    """
    if not __salt__["pgha_patroni.is_leader"]():
        return {"moved": False, "reason": "this node is not Patroni's leader"}
    status = _post(endpoint, "/v3/maintenance/status", {}, timeout)
    own = str((status.get("header") or {}).get("member_id", ""))
    if not own or own != str(status.get("leader", "")):
        return {"moved": False, "reason": "etcd's leader is another member"}
    others = sorted((m for m in members(endpoint, timeout) if m["id"] != own and m["name"] and m["client_urls"]),
                    key=lambda m: m["name"])
    target = next((m for m in others if any(v is True for v in health(m["client_urls"][:1], timeout).values())),
                  None)
    if target is None:
        return {"moved": False, "reason": "no other etcd member is healthy"}
    token = _root_token(endpoint, timeout)
    _post(endpoint, "/v3/maintenance/transfer-leadership", {"targetID": target["id"]}, timeout,
          headers={"Authorization": token} if token else None)
    log.info("pgha: etcd's leadership moved from this node, Patroni's leader, to %s", target["name"])
    return {"moved": True, "to": target["name"]}
