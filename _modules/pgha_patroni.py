"""
Patroni operations for pgha, through Patroni's REST API.

Connection details (REST address and credentials, the superuser for SQL checks) come from
the node's Patroni configuration file, so there is one source of truth: the file the formula
rendered. Override the path with the minion option ``pgha_patroni.config``.
"""
import base64
import json
import logging
import time
import urllib.error
import urllib.request

import salt.utils.files
import salt.utils.yaml
from salt.exceptions import CommandExecutionError

try:
    import psycopg2

    HAS_PSYCOPG2 = True
except ImportError:  # pragma: no cover - depends on the minion's Python
    HAS_PSYCOPG2 = False

log = logging.getLogger(__name__)

__virtualname__ = "pgha_patroni"
DEFAULT_CONFIG = "/etc/patroni/config.yml"
LEADER_ROLES = ("master", "primary", "leader", "standby_leader")


def __virtual__():
    return __virtualname__


# -- plumbing --------------------------------------------------------------------------------

def _config():
    path = __salt__["config.option"]("pgha_patroni.config") or DEFAULT_CONFIG
    try:
        with salt.utils.files.fopen(path) as f:
            return salt.utils.yaml.safe_load(f) or {}
    except OSError as exc:
        raise CommandExecutionError(f"cannot read Patroni config {path}: {exc}") from exc


def _base_url(conf, host=None):
    restapi = conf.get("restapi", {})
    address = restapi.get("connect_address") or restapi.get("listen", "127.0.0.1:8008")
    port = address.rsplit(":", 1)[1]
    scheme = "https" if restapi.get("certfile") else "http"
    return f"{scheme}://{host or address.rsplit(':', 1)[0]}:{port}"


def _request(path, method="GET", body=None, host=None, timeout=5, conf=None):
    """Return (status, decoded body). Patroni answers health endpoints with 503 + JSON."""
    conf = conf if conf is not None else _config()
    req = urllib.request.Request(_base_url(conf, host) + path, method=method)
    auth = conf.get("restapi", {}).get("authentication")
    if auth and method != "GET":
        token = base64.b64encode(f"{auth['username']}:{auth['password']}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # nosec: cluster-internal
            status, raw = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read().decode()
    except (OSError, urllib.error.URLError) as exc:
        raise CommandExecutionError(f"Patroni REST API unreachable: {exc}") from exc
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.strip()


def _sql(query, host, conf=None):
    if not HAS_PSYCOPG2:
        raise CommandExecutionError("psycopg2 is not installed in the minion's Python")
    conf = conf if conf is not None else _config()
    pg = conf.get("postgresql", {})
    su = pg.get("authentication", {}).get("superuser", {})
    port = pg.get("connect_address", ":5432").rsplit(":", 1)[1]
    conn = psycopg2.connect(host=host, port=port, dbname="postgres", user=su.get("username"),
                            password=su.get("password"), connect_timeout=3)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchone()
    finally:
        conn.close()


def _leader(cluster_data):
    for member in cluster_data.get("members", []):
        if member.get("role") in LEADER_ROLES and member.get("state") == "running":
            return member
    return None


# -- read ------------------------------------------------------------------------------------

def status():
    """
    This node's Patroni status (``GET /patroni``): role, state, timeline, WAL positions.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.status
    """
    code, data = _request("/patroni")
    if not isinstance(data, dict):
        raise CommandExecutionError(f"unexpected answer from Patroni ({code}): {data}")
    return data


def cluster():
    """
    The cluster as Patroni sees it (``GET /cluster``): members with role, state, lag, timeline.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.cluster
    """
    code, data = _request("/cluster")
    if code != 200 or not isinstance(data, dict):
        raise CommandExecutionError(f"Patroni /cluster answered {code}: {data}")
    return data


def leader():
    """
    Name of the current leader, or ``None`` when the cluster has none.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.leader
    """
    member = _leader(cluster())
    return member["name"] if member else None


def is_leader():
    """
    True when this node is the running leader. False when it is not, or when Patroni does not
    answer (a node that cannot be asked is not the leader to act on).

    CLI Example:

    .. code-block:: bash

        salt -I 'pgha:roles:postgresql' pgha_patroni.is_leader
    """
    try:
        data = status()
    except CommandExecutionError:
        return False
    return data.get("role") in LEADER_ROLES and data.get("state") == "running"


def table(vip=None, port=None, dbname="postgres"):
    """
    A readable cluster summary: members, roles, states, lag, and how to connect.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.table vip=10.0.0.100
    """
    data = cluster()
    rows = [("Member", "Host", "Role", "State", "TL", "Lag MB")]
    for m in sorted(data.get("members", []), key=lambda m: m.get("name", "")):
        lag = m.get("lag", "")
        lag = "" if lag in ("", None) else (f"{lag / 1048576:.1f}" if isinstance(lag, int) else str(lag))
        rows.append((m.get("name", ""), str(m.get("host", "")), m.get("role", ""),
                     m.get("state", ""), str(m.get("timeline", "")), lag))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    conf = _config()
    su = conf.get("postgresql", {}).get("authentication", {}).get("superuser", {})
    port = port or conf.get("postgresql", {}).get("connect_address", ":5432").rsplit(":", 1)[1]
    host = vip or (_leader(data) or {}).get("host", "")
    lines.append(f"Connect: psql 'postgresql://{su.get('username', 'postgres')}@{host}:{port}/{dbname}'")
    return "\n".join(lines)


# -- act -------------------------------------------------------------------------------------

def switchover(candidate=None, scheduled_at=None):
    """
    Planned switchover from the current leader, to ``candidate`` or to the member Patroni
    picks. Returns Patroni's answer; raises with Patroni's reason when refused.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.switchover candidate=pg2
    """
    current = leader()
    if not current:
        raise CommandExecutionError("switchover refused: the cluster has no running leader "
                                    "(use a failover instead)")
    body = {"leader": current}
    if candidate:
        body["candidate"] = candidate
    if scheduled_at:
        body["scheduled_at"] = scheduled_at
    code, data = _request("/switchover", method="POST", body=body, timeout=60)
    if code not in (200, 202):
        raise CommandExecutionError(f"switchover refused ({code}): {data}")
    return {"from": current, "to": candidate, "result": data}


# -- wait (orchestration health gates) ---------------------------------------------------------

def _check(role, conf):
    """One look at health; returns (ok, description)."""
    code, me = _request("/patroni", conf=conf)
    if not isinstance(me, dict) or me.get("state") != "running":
        return False, f"local PostgreSQL not running: {me}"
    code, data = _request("/cluster", conf=conf)
    lead = _leader(data) if isinstance(data, dict) else None
    if not lead:
        return False, "the cluster has no running leader yet"
    i_lead = me.get("role") in LEADER_ROLES
    if role == "replica" and i_lead:
        return False, "this node is the leader, expected a replica"
    if role == "leader" or i_lead:
        in_recovery, _ = _sql("SELECT pg_is_in_recovery(), txid_current()", lead["host"], conf)
        if in_recovery:
            return False, f"leader {lead['name']} is still in recovery"
        return True, f"leader {lead['name']} accepts writes"
    host = conf.get("postgresql", {}).get("connect_address", "127.0.0.1:5432").rsplit(":", 1)[0]
    row = _sql("SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')", host, conf)
    if row[0] != "streaming":
        return False, f"replica WAL receiver is {row[0]!r}, not streaming"
    return True, f"replica streaming from {lead['name']}"


def wait_healthy(role="member", timeout=120, interval=0.5):
    """
    Wait until this node is healthy in ``role``: ``leader`` (the cluster has a leader that
    accepts writes), ``replica`` (this node streams from the leader) or ``member`` (either,
    depending on this node's role). Raises on timeout with the last reason.

    CLI Example:

    .. code-block:: bash

        salt pg2 pgha_patroni.wait_healthy role=replica timeout=60
    """
    if role not in ("leader", "replica", "member"):
        raise CommandExecutionError(f"role must be leader, replica or member, not {role!r}")
    deadline = time.monotonic() + float(timeout)
    while True:  # look at least once, even with timeout=0
        try:
            ok, why = _check(role, _config())
            if ok:
                return why
        except CommandExecutionError as exc:
            why = str(exc)
        except Exception as exc:  # pylint: disable=broad-except ; psycopg2 errors while starting
            why = f"{type(exc).__name__}: {exc}".strip()
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"not healthy as {role} after {timeout}s: {why}")
        time.sleep(interval)


def wait_vip(vip, timeout=60, interval=0.5):
    """
    Wait until the VIP is where it belongs: on this node if it is the leader, absent otherwise.

    CLI Example:

    .. code-block:: bash

        salt -I 'pgha:roles:postgresql' pgha_patroni.wait_vip 10.0.0.100
    """
    deadline = time.monotonic() + float(timeout)
    while True:
        holds = vip in __salt__["network.ip_addrs"]()
        leads = is_leader()
        if holds == leads:
            return f"{'holds' if holds else 'does not hold'} {vip} as {'leader' if leads else 'replica'}"
        if time.monotonic() >= deadline:
            raise CommandExecutionError(
                f"VIP {vip} {'present' if holds else 'missing'} on a "
                f"{'leader' if leads else 'non-leader'} after {timeout}s: check vip-manager")
        time.sleep(interval)
