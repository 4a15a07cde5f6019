"""
Patroni operations for pgha, through Patroni's REST API.

Connection details (REST address and credentials, the superuser for SQL checks) come from
the node's Patroni configuration file, so there is one source of truth: the file the formula
rendered (``paths:patroni_config``, read by the utils module ``pgha_patroni_config``). Override
the path with the minion option ``pgha_patroni.config``.
"""
import base64
import datetime
import json
import logging
import os
import socket
import ssl
import time
import urllib.error
import urllib.request

import salt.utils.yaml
from salt.exceptions import CommandExecutionError

try:
    import psycopg2

    HAS_PSYCOPG2 = True
except ImportError:  # pragma: no cover - depends on the minion's Python
    HAS_PSYCOPG2 = False

log = logging.getLogger(__name__)

__virtualname__ = "pgha_patroni"
__func_alias__ = {"list_": "list"}
LEADER_ROLES = ("master", "primary", "leader", "standby_leader")
ERRORS_BEFORE_GATE = 300  # seconds of Patroni's journal before a gate began that it quotes


def __virtual__():
    return __virtualname__


# -- plumbing --------------------------------------------------------------------------------

def _config_path():
    return __utils__["pgha_patroni_config.path"](__salt__, __context__)


def _config():
    """This node's Patroni configuration (the utils module ``pgha_patroni_config``, which
    pgha_upgrade reads it with too); an unreadable file raises, naming it."""
    return __utils__["pgha_patroni_config.read"](_config_path())


def _base_url(conf, host=None):
    if host and "://" in host:  # a member's api_url from /cluster
        return host.split("/patroni", 1)[0].rstrip("/")
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
    cafile = conf.get("restapi", {}).get("cafile")
    try:
        # https (pgha:tls): Patroni's certificate verified with the CA file of its config
        extra = ({"context": ssl.create_default_context(cafile=cafile)}
                 if cafile and req.full_url.startswith("https://") else {})
        with urllib.request.urlopen(req, timeout=timeout, **extra) as resp:  # nosec: cluster-internal
            status, raw = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read().decode()
    except (OSError, urllib.error.URLError) as exc:
        raise CommandExecutionError(f"Patroni REST API unreachable: {exc}") from exc
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.strip()


def _sql(query, host, conf=None, params=None, fetch="one"):
    if not HAS_PSYCOPG2:
        raise CommandExecutionError("psycopg2 is not installed in the minion's Python")
    conf = conf if conf is not None else _config()
    pg = conf.get("postgresql", {})
    su = pg.get("authentication", {}).get("superuser", {})
    port = pg.get("connect_address", ":5432").rsplit(":", 1)[1]
    # synchronous_commit=local: the health gate's txid_current() commits, and under
    # synchronous_mode_strict a leader without a streaming standby would block it forever.
    # Every query here is a catalogue look-up: 10 s is a hang, not a slow answer.
    conn = psycopg2.connect(host=host, port=port, dbname="postgres", user=su.get("username"),
                            password=su.get("password"), connect_timeout=3,
                            options="-c synchronous_commit=local -c statement_timeout=10000")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if fetch == "all" else cur.fetchone()
    finally:
        conn.close()


def _get_json(path, kind=dict):
    code, data = _request(path)
    if code != 200 or not isinstance(data, kind):
        raise CommandExecutionError(f"Patroni {path} answered {code}: {data}")
    return data


def _leader(cluster_data):
    for member in cluster_data.get("members", []):
        if member.get("role") in LEADER_ROLES and member.get("state") in _running(member):
            return member
    return None


def _running(member):
    # Patroni (3.0.4 and later) shows a standby leader's replication state, not 'running'
    if member.get("role") == "standby_leader":
        return ("running", "streaming", "in archive recovery")
    return ("running",)


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
    return _get_json("/cluster")


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


def table(vip=None, port=None, dbname="postgres", main=None):
    """
    A readable cluster summary: members, roles, states, lag, whether a member waits for a
    restart (``Pending restart``: a parameter change takes effect only then; pgha.config
    restarts it with ``patroni:pending_restart: true``, else ``pgha.restart`` does), and how
    to connect. A standby cluster's table ends with the cluster it follows (``main``: its
    name, pgha:standby_cluster:cluster) and its lag.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.table vip=10.0.0.100
    """
    data = cluster()
    rows = [("Member", "Host", "Role", "State", "TL", "Lag MB", "Pending restart")]
    for m in sorted(data.get("members", []), key=lambda m: m.get("name", "")):
        lag = m.get("lag", "")
        lag = "" if lag in ("", None) else (f"{lag / 1048576:.1f}" if isinstance(lag, int) else str(lag))
        rows.append((m.get("name", ""), str(m.get("host", "")), m.get("role", ""),
                     m.get("state", ""), str(m.get("timeline", "")), lag,
                     "yes" if m.get("pending_restart") else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    conf = _config()
    su = conf.get("postgresql", {}).get("authentication", {}).get("superuser", {})
    port = port or conf.get("postgresql", {}).get("connect_address", ":5432").rsplit(":", 1)[1]
    host = vip or (_leader(data) or {}).get("host", "")
    lines.append(f"Connect: psql 'postgresql://{su.get('username', 'postgres')}@{host}:{port}/{dbname}'")
    lead = _leader(data) or {}
    if lead.get("role") == "standby_leader":
        # a standby cluster (issue 20): of which cluster, with its lag
        try:
            receiver = _receiver(lead["host"], conf)
        except Exception as exc:  # pylint: disable=broad-except ; a report line only
            receiver = {"status": f"unknown ({type(exc).__name__})"}
        standby = (conf.get("bootstrap", {}).get("dcs", {}) or {}).get("standby_cluster") or {}
        receiver.setdefault("host", standby.get("host"))
        receiver.setdefault("port", standby.get("port"))
        lines.append(__utils__["pgha_standby.summary"](conf.get("scope", ""), receiver, main or ""))
    return "\n".join(lines)


# -- standby clusters (issue 20) ---------------------------------------------------------------

# The standby leader's WAL receiver (pg_stat_wal_receiver) and how far its replay is behind
# what the main cluster last reported (latest_end_lsn): bytes and seconds.
RECEIVER_SQL = """
SELECT r.status, r.sender_host, r.sender_port,
       pg_wal_lsn_diff(r.latest_end_lsn, pg_last_wal_replay_lsn())::bigint,
       extract(epoch FROM now() - r.last_msg_receipt_time)::float8,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
       pg_is_in_recovery()
FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS r ON true
"""


def _receiver(host, conf):
    row = _sql(RECEIVER_SQL, host, conf)
    standby = (conf.get("bootstrap", {}).get("dcs", {}) or {}).get("standby_cluster") or {}
    lag = row[3]
    return {"status": row[0], "sender_host": row[1], "sender_port": row[2],
            "lag_bytes": int(lag) if lag is not None and lag >= 0 else (0 if lag is not None else None),
            "last_msg_age_seconds": row[4], "replay_delay_seconds": row[5], "in_recovery": row[6],
            "host": standby.get("host"), "port": standby.get("port")}


def standby_status():
    """
    A standby cluster's state as its leader sees it (issue 20): ``is_standby_cluster`` (the
    DCS holds ``standby_cluster``), ``leader`` and its role, and the leader's WAL receiver:
    ``status`` (streaming, ...), ``sender_host``/``sender_port`` (the main cluster's node it
    streams from), ``lag_bytes`` (replay behind what the main last reported),
    ``last_msg_age_seconds``, ``replay_delay_seconds`` (since the last replayed commit; grows
    while the main is idle), and ``main_reachable`` (a TCP connection from this node to the
    main cluster's host and port opens now). Read-only; asks the leader, wherever it runs.

    CLI Example:

    .. code-block:: bash

        salt dr1 pgha_patroni.standby_status
    """
    conf = _config()
    data = cluster()
    lead = _leader(data) or {}
    dcs = show_config()
    found = {"is_standby_cluster": bool(dcs.get("standby_cluster")), "standby_cluster": dcs.get("standby_cluster"),
             "leader": lead.get("name"), "leader_role": lead.get("role"), "scope": data.get("scope") or conf.get("scope")}
    if lead.get("host"):
        found.update(_receiver(lead["host"], conf))
    standby = found.get("standby_cluster") or {}
    found["main_reachable"] = _reachable(standby.get("host"), standby.get("port") or 5432) if standby else None
    return found


def _reachable(host, port, timeout=3):
    """Whether a TCP connection to host:port opens from this node now (the main cluster's
    entry point: a lost site answers nothing, or refuses)."""
    if not host:
        return None
    try:
        with socket.create_connection((str(host), int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def promote(confirm, timeout=60, interval=0.5):
    """
    Turn this standby cluster into a normal one (issue 20): remove ``standby_cluster`` from
    the DCS (``PATCH /config``), then wait until the standby leader accepts writes. ``confirm``
    must be the cluster's name (Patroni's scope). The guard against a main cluster that still
    runs is the orchestration's (``salt-run state.orch pgha.promote``). Returns what happened
    and the seconds it took.

    CLI Example:

    .. code-block:: bash

        salt dr1 pgha_patroni.promote confirm=dr
    """
    conf = _config()
    scope = __utils__["pgha_patroni_config.require_confirm"](conf, confirm, "promote")
    started = time.monotonic()
    current = show_config()
    if current.get("standby_cluster"):
        code, answer = _request("/config", method="PATCH", body={"standby_cluster": None}, conf=conf)
        if code != 200:
            raise CommandExecutionError(f"Patroni refused to remove standby_cluster ({code}): {answer}")
    deadline = started + float(timeout)
    why = ""
    while True:
        try:
            lead = _leader(cluster())
            if lead and lead.get("role") in ("master", "primary", "leader"):
                in_recovery, _ = _sql("SELECT pg_is_in_recovery(), txid_current()", lead["host"], conf)
                if not in_recovery:
                    took = time.monotonic() - started
                    return {"cluster": scope, "leader": lead["name"], "seconds": round(took, 1),
                            "comment": f"cluster {scope} promoted: {lead['name']} accepts writes after {took:.1f}s"}
                why = f"{lead['name']} is still in recovery"
            else:
                why = f"the leader is {lead and lead.get('role')}"
        except CommandExecutionError as exc:
            why = str(exc)
        except Exception as exc:  # pylint: disable=broad-except ; psycopg2 errors while it promotes
            why = f"{type(exc).__name__}: {exc}".strip()
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"cluster {scope}: standby_cluster removed, but no leader accepts "
                                        f"writes after {timeout}s: {why}")
        time.sleep(interval)


# -- act -------------------------------------------------------------------------------------

def _member(name, data):
    for member in data.get("members", []):
        if member.get("name") == name:
            return member
    names = ", ".join(sorted(m.get("name", "") for m in data.get("members", [])))
    raise CommandExecutionError(f"no member {name!r} in this cluster (members: {names})")


def _member_api(name, data=None):
    """The REST base URL of member ``name``; this node's own API when ``name`` is empty."""
    if not name:
        return None
    return _member(name, data if data is not None else cluster()).get("api_url")


def _lag(member):
    lag = member.get("lag", 0)
    return lag if isinstance(lag, int) else None  # "unknown" while it does not stream


def _replicas(data):
    return [m for m in data.get("members", [])
            if m.get("role") not in LEADER_ROLES and m.get("state") in ("running", "streaming")]


def _is_sync(member):
    return member.get("role") == "sync_standby"


def candidate(max_lag_bytes=None):
    """
    The member a switchover should go to: a running replica without ``nofailover``, a
    synchronous standby when synchronous_mode is on, within ``max_lag_bytes`` of lag, the
    least lagging first. Raises, saying why, when there is none.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.candidate max_lag_bytes=1048576
    """
    data = cluster()
    return _pick_candidate(data, show_config(), None, max_lag_bytes)["name"]


def _pick_candidate(data, dcs, wanted, max_lag_bytes):
    replicas = _replicas(data)
    if wanted:
        member = _member(wanted, data)
        if member not in replicas:
            raise CommandExecutionError(
                f"switchover refused: candidate {wanted} is {member.get('role')}/{member.get('state')}, "
                "not a running replica")
        pool = [member]
    else:
        pool = [m for m in replicas if not m.get("tags", {}).get("nofailover")]
    if dcs.get("synchronous_mode"):
        sync = [m for m in pool if _is_sync(m)]
        if not sync:
            if dcs.get("synchronous_mode_strict") and not any(_is_sync(m) for m in replicas):
                raise CommandExecutionError(
                    "switchover refused: no synchronous candidate while synchronous_mode_strict is on")
            raise CommandExecutionError(
                f"switchover refused: {wanted or 'no replica'} is not a synchronous standby and "
                "synchronous_mode is on (choose one of: "
                f"{', '.join(m['name'] for m in replicas if _is_sync(m)) or 'none'})")
        pool = sync
    if max_lag_bytes is not None:
        within = [m for m in pool if _lag(m) is not None and _lag(m) <= int(max_lag_bytes)]
        if not within:
            lags = ", ".join(f"{m['name']}={m.get('lag')}" for m in sorted(pool, key=lambda m: m["name"]))
            raise CommandExecutionError(
                f"switchover refused: no candidate within {max_lag_bytes} bytes of lag ({lags})")
        pool = within
    if not pool:
        raise CommandExecutionError("switchover refused: no running replica to switch over to")
    return sorted(pool, key=lambda m: (_lag(m) if _lag(m) is not None else 2**63, m["name"]))[0]


def switchover(candidate=None, scheduled_at=None, max_lag_bytes=None, timeout=60):  # pylint: disable=redefined-outer-name
    """
    Planned switchover from the current leader to ``candidate``, or to the best candidate
    (see ``pgha_patroni.candidate``). ``scheduled_at`` (ISO 8601) schedules it instead.
    Returns ``{from, to, result}``; raises with the reason when refused.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.switchover
        salt pg1 pgha_patroni.switchover candidate=pg2 max_lag_bytes=1048576
        salt pg1 pgha_patroni.switchover candidate=pg2 scheduled_at=2026-12-01T02:00+00:00
    """
    data = cluster()
    current = _leader(data)
    if not current:
        raise CommandExecutionError("switchover refused: the cluster has no running leader "
                                    "(use pgha_patroni.failover)")
    chosen = _pick_candidate(data, show_config(), candidate, max_lag_bytes)["name"]
    body = {"leader": current["name"], "candidate": chosen}
    if scheduled_at:
        body["scheduled_at"] = scheduled_at
    code, answer = _request("/switchover", method="POST", body=body, host=current.get("api_url"),
                            timeout=timeout)
    if code not in (200, 202):
        raise CommandExecutionError(f"switchover refused by Patroni ({code}): {answer}")
    return {"from": current["name"], "to": chosen, "result": answer}


def failover(candidate, force=False, timeout=60):  # pylint: disable=redefined-outer-name
    """
    Manual failover to ``candidate`` for a cluster without a healthy leader (for example
    while paused). Refuses when a running leader exists unless ``force=True``: use a
    switchover then.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.failover candidate=pg2
    """
    data = cluster()
    current = _leader(data)
    if current and not force:
        raise CommandExecutionError(
            f"failover refused: {current['name']} is a running leader; use pgha_patroni.switchover "
            "(or force=True)")
    member = _member(candidate, data)
    if member.get("state") not in ("running", "streaming"):
        raise CommandExecutionError(f"failover refused: candidate {candidate} is {member.get('state')}")
    code, answer = _request("/failover", method="POST", body={"candidate": candidate},
                            host=member.get("api_url"), timeout=timeout)
    if code != 200:
        raise CommandExecutionError(f"failover refused by Patroni ({code}): {answer}")
    return {"from": current["name"] if current else None, "to": candidate, "result": answer}


def restart(member=None, pending_only=False, timeout=300):
    """
    Restart PostgreSQL on ``member`` (default: this node) through Patroni, and wait for it.
    With ``pending_only=True`` only when Patroni reports a pending restart. Returns
    ``{member: restarted?}``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.restart member=pg2
        salt pg1 pgha_patroni.restart pending_only=True
    """
    api = _member_api(member)
    code, me = _request("/patroni", host=api)
    name = member or _config().get("name") or __opts__["id"]
    if pending_only and not (isinstance(me, dict) and me.get("pending_restart")):
        return {name: False}
    code, answer = _request("/restart", method="POST", body={}, host=api, timeout=timeout)
    if code != 200:
        raise CommandExecutionError(f"restart of {name} failed ({code}): {answer}")
    return {name: True}


def reload(member=None):
    """
    Make Patroni on ``member`` (default: this node) re-read its configuration file.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.reload
    """
    code, answer = _request("/reload", method="POST", body={}, host=_member_api(member))
    if code not in (200, 202):
        raise CommandExecutionError(f"reload failed ({code}): {answer}")
    return answer


def reinit(member, force=False, timeout=600):
    """
    Rebuild replica ``member`` from the leader (its data directory is replaced), and wait
    until it runs again. Refused for the leader.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.reinit pg3
    """
    data = cluster()
    target = _member(member, data)
    if target.get("role") in LEADER_ROLES:
        raise CommandExecutionError(f"reinit refused: {member} is the leader")
    api = target.get("api_url")
    code, before = _request("/patroni", host=api)
    started = before.get("postmaster_start_time") if isinstance(before, dict) else None
    code, answer = _request("/reinitialize", method="POST", body={"force": bool(force)}, host=api)
    if code != 200:
        raise CommandExecutionError(f"reinit of {member} refused ({code}): {answer}")
    deadline = time.monotonic() + float(timeout)
    while True:
        try:
            code, now = _request("/patroni", host=api)
        except CommandExecutionError:
            now = {}
        if (isinstance(now, dict) and now.get("state") == "running"
                and now.get("postmaster_start_time") != started):
            return {member: "reinitialized"}
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"{member} not running again {timeout}s after reinit: {now}")
        time.sleep(1)


def remove_cluster(confirm, patronictl="patronictl"):
    """
    Remove this node's cluster from the DCS (``patronictl remove``): leader, members,
    configuration and initialize key. Patroni must be stopped on every member; ``confirm``
    must be the cluster name. pgha.restore uses it before it starts the restored primary.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.remove_cluster confirm=main
    """
    conf = _config()
    scope = __utils__["pgha_patroni_config.require_confirm"](conf, confirm, "remove_cluster")
    try:
        members = cluster().get("members", [])
    except CommandExecutionError:
        members = []  # Patroni stopped here: what we want
    running = [m["name"] for m in members if m.get("state") == "running"]
    if running:
        raise CommandExecutionError(f"remove_cluster refused: Patroni still runs PostgreSQL on {', '.join(running)}")
    # a member left in the DCS may still hold the leader key: patronictl then asks for its name
    __utils__["pgha_patroni_config.remove_from_dcs"](__salt__["cmd.run_all"], patronictl, _config_path(), scope,
                                                    leader=members[0]["name"] if members else None)
    return f"cluster {scope} removed from the DCS"


def show_config(wait=0, interval=1):
    """
    The cluster's dynamic configuration, as stored in the DCS (``GET /config``). ``wait``:
    seconds to wait while the DCS holds none yet (Patroni answers 502): a leader that starts
    against an emptied DCS writes it in one of its first loops, after it already accepts
    writes (seen in the lab after pgha.upgrade's DCS reset).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.show_config
    """
    deadline = time.monotonic() + float(wait)
    while True:
        code, data = _request("/config")
        if code == 200 and isinstance(data, dict):
            return data
        if code != 502 or time.monotonic() >= deadline:
            raise CommandExecutionError(f"Patroni /config answered {code}: {data}")
        time.sleep(interval)


def _config_diff(desired, current):
    """{dotted key: {old, new}} for each key of ``desired`` whose value differs in ``current``."""
    diff = {}
    for key, want in desired.items():
        have = current.get(key) if isinstance(current, dict) else None
        if isinstance(want, dict) and want:
            for sub, change in _config_diff(want, have or {}).items():
                diff[f"{key}.{sub}"] = change
        elif _normal(want) != _normal(have):
            diff[key] = {"old": have, "new": want}
    return diff


def _normal(value):
    """PostgreSQL and Patroni accept 'on'/true and '100'/100 alike: compare them alike."""
    if isinstance(value, bool):
        return "on" if value else "off"
    text = str(value).strip().lower() if value is not None else None
    return {"true": "on", "false": "off", "yes": "on", "no": "off"}.get(text, text)


def edit_config(patch, test=False, timeout=30):
    """
    Patch the cluster's dynamic configuration (``PATCH /config``; ``None`` deletes a key).
    Only keys whose value differs are sent. Returns ``{changes}`` (with ``test=True``, what
    would change) once every member runs with the new configuration (each member reads the
    DCS in its own loop; ``timeout`` seconds at most).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.edit_config '{"loop_wait": 5, "postgresql": {"parameters": {"work_mem": "8MB"}}}'
    """
    if isinstance(patch, str):
        patch = salt.utils.yaml.safe_load(patch)
    if not isinstance(patch, dict):
        raise CommandExecutionError("patch must be a mapping, e.g. {loop_wait: 5}")
    changes = _config_diff(patch, show_config())
    if changes and not test:
        body = _patch_for(patch, changes)
        code, answer = _request("/config", method="PATCH", body=body)
        if code == 409:  # another member patched at the same moment: patch again on top
            code, answer = _request("/config", method="PATCH", body=body)
        if code != 200:
            raise CommandExecutionError(f"Patroni refused the configuration change ({code}): {answer}")
        _wait_members_see(body, timeout)
    return {"changes": changes}


def _wait_members_see(body, timeout, interval=0.5):
    """GET /config answers from each member's cache, refreshed once per Patroni loop."""
    deadline = time.monotonic() + float(timeout)
    while True:
        behind = []
        for member in cluster().get("members", []):
            try:
                _, seen = _request("/config", host=member.get("api_url"))
            except CommandExecutionError:
                continue  # Patroni stopped there: it reads the DCS when it starts
            if not isinstance(seen, dict) or _config_diff(body, seen):
                behind.append(member["name"])
        if not behind:
            return
        if time.monotonic() >= deadline:
            raise CommandExecutionError(
                f"the DCS has the new configuration, but {', '.join(sorted(behind))} still run "
                f"with the old one after {timeout}s")
        time.sleep(interval)


def _patch_for(patch, changes):
    """The part of ``patch`` that changes something (Patroni merges PATCH bodies)."""
    body = {}
    for dotted in changes:
        src, dst, keys = patch, body, dotted.split(".")
        for key in keys[:-1]:
            src, dst = src[key], dst.setdefault(key, {})
        dst[keys[-1]] = src[keys[-1]]
    return body


def pause(wait=True, timeout=30):
    """
    Pause automatic failover (maintenance mode): Patroni keeps running but does not act.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.pause
    """
    return _set_pause(True, wait, timeout)


def resume(wait=True, timeout=30):
    """
    Resume automatic failover after ``pgha_patroni.pause``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.resume
    """
    return _set_pause(False, wait, timeout)


def _set_pause(paused, wait, timeout):
    code, answer = _request("/config", method="PATCH", body={"pause": paused})
    if code != 200:
        raise CommandExecutionError(f"{'pause' if paused else 'resume'} failed ({code}): {answer}")
    deadline = time.monotonic() + float(timeout)
    # Each member's own loop must see the flag before it stops (or resumes) acting.
    while wait:
        members = cluster().get("members", [])
        seen = [bool(_request("/patroni", host=m.get("api_url"))[1].get("pause")) for m in members]
        if all(s == paused for s in seen):
            break
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"not every member reports pause={paused} after {timeout}s")
        time.sleep(0.5)
    return {"paused": paused}


def history():
    """
    The cluster's timeline history: when each failover or switchover happened, to whom.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.history
    """
    data = _get_json("/history", kind=list)
    keys = ("timeline", "lsn", "reason", "timestamp", "new_leader")
    return [dict(zip(keys, row)) for row in data]


def list_():
    """
    Members with role, state, timeline, lag, pending restart and tags (``patronictl list``).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.list
    """
    data = cluster()
    members = {}
    for m in data.get("members", []):
        members[m["name"]] = {k: m[k] for k in ("host", "role", "state", "timeline", "lag",
                                                 "pending_restart", "tags") if k in m}
    lead = _leader(data)
    return {"leader": lead["name"] if lead else None, "paused": bool(data.get("pause")),
            "members": members}


def topology():
    """
    The replication tree: the leader and the replicas that stream from it
    (``patronictl topology``).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.topology
    """
    listing = list_()
    members = dict(listing["members"])
    lead = listing["leader"]
    if not lead:
        return {"(no leader)": members}
    root = dict(members.pop(lead))
    root["replicas"] = members
    return {lead: root}


# -- pending restart ---------------------------------------------------------------------------

# Parameters Patroni passes on the postmaster command line: a change needs a restart, and
# PostgreSQL's own pending_restart flag never shows it.
CMDLINE_PARAMS = ("max_connections", "max_locks_per_transaction", "max_worker_processes",
                  "max_prepared_transactions", "wal_level", "track_commit_timestamp",
                  "max_wal_senders", "max_replication_slots", "wal_log_hints", "hot_standby")
# A hot standby refuses to run with less of these than its primary has.
HOT_STANDBY_MINIMUMS = ("max_connections", "max_locks_per_transaction", "max_worker_processes",
                        "max_prepared_transactions", "max_wal_senders")


def _local_host(conf):
    return conf.get("postgresql", {}).get("connect_address", "127.0.0.1:5432").rsplit(":", 1)[0]


def pending_restart():
    """
    The parameters that wait for a PostgreSQL restart on this node: changed in the
    configuration, not yet in effect. Empty when nothing waits.

    CLI Example:

    .. code-block:: bash

        salt -I 'pgha:roles:postgresql' pgha_patroni.pending_restart
    """
    conf = _config()
    host = _local_host(conf)
    names = {row[0] for row in _sql(
        "SELECT name FROM pg_settings WHERE pending_restart "
        "UNION SELECT name FROM pg_file_settings WHERE error IS NOT NULL AND name IS NOT NULL",
        host, conf, fetch="all")}
    wanted = show_config().get("postgresql", {}).get("parameters", {})
    cmdline = [p for p in CMDLINE_PARAMS if p in wanted]
    if cmdline:
        rows = _sql("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                    host, conf, params=(cmdline,), fetch="all")
        names |= {name for name, value in rows if _normal(value) != _normal(wanted[name])}
    if not names and status().get("pending_restart"):
        names.add("(Patroni reports a pending restart)")
    return sorted(names)


def restart_params(names):
    """
    Which of the parameters ``names`` PostgreSQL reads only at start (a change needs a
    restart).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.restart_params '[max_connections, work_mem]'
    """
    conf = _config()
    rows = _sql("SELECT name FROM pg_settings WHERE context = 'postmaster' AND name = ANY(%s)",
                _local_host(conf), conf, params=(list(names),), fetch="all")
    return sorted({row[0] for row in rows} | (set(names) & set(CMDLINE_PARAMS)))


def decreasing():
    """
    The hot-standby-critical parameters (max_connections, ...) whose DCS value is lower than
    what this node runs with. When any go down, the primary must restart before its replicas.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.decreasing
    """
    conf = _config()
    wanted = show_config().get("postgresql", {}).get("parameters", {})
    names = [p for p in HOT_STANDBY_MINIMUMS if p in wanted]
    if not names:
        return []
    rows = _sql("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", _local_host(conf),
                conf, params=(names,), fetch="all")
    return sorted(n for n, running in rows if int(wanted[n]) < int(running))


def wait_applied(timeout=30, interval=0.5):
    """
    Wait until PostgreSQL's configuration files carry the parameters of this node's Patroni
    configuration file (Patroni applies a reload in its next loop). Returns the parameters
    that then wait for a restart.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_patroni.wait_applied
    """
    deadline = time.monotonic() + float(timeout)
    while True:
        conf = _config()
        wanted = {k: v for k, v in conf.get("postgresql", {}).get("parameters", {}).items()
                  if k not in CMDLINE_PARAMS}
        rows = _sql("SELECT DISTINCT ON (name) name, setting FROM pg_file_settings "
                    "WHERE name = ANY(%s) ORDER BY name, seqno DESC",
                    _local_host(conf), conf, params=(list(wanted),), fetch="all")
        found = dict(rows)
        stale = sorted(k for k, v in wanted.items() if _normal(found.get(k)) != _normal(v))
        if not stale:
            return pending_restart()
        if time.monotonic() >= deadline:
            raise CommandExecutionError(
                f"Patroni has not applied {', '.join(stale)} after {timeout}s: check its log")
        time.sleep(interval)


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
    if i_lead and conf.get("name") and lead.get("name") != conf["name"]:
        # a thawed or healed old primary until its Patroni's next loop demotes it
        return False, f"this node still runs as a primary while {lead['name']} holds the leader key"
    if role == "replica" and i_lead:
        return False, "this node is the leader, expected a replica"
    if (role == "leader" or i_lead) and lead.get("role") == "standby_leader":
        # a standby cluster (issue 20): its leader is read-only and streams from the main cluster
        return _standby_leader_check(lead, conf)
    if role == "leader" or i_lead:
        in_recovery, _ = _sql("SELECT pg_is_in_recovery(), txid_current()", lead["host"], conf)
        if in_recovery:
            return False, f"leader {lead['name']} is still in recovery"
        return True, f"leader {lead['name']} accepts writes"
    host = conf.get("postgresql", {}).get("connect_address", "127.0.0.1:5432").rsplit(":", 1)[0]
    row = _sql("SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none'), "
               "(SELECT received_tli FROM pg_stat_wal_receiver)", host, conf)
    if row[0] != "streaming":
        return False, f"replica WAL receiver is {row[0]!r}, not streaming"
    if lead.get("timeline") and row[1] and int(row[1]) != int(lead["timeline"]):
        return False, f"replica streams timeline {row[1]}, the leader is on timeline {lead['timeline']}"
    return True, f"replica streaming from {lead['name']}"


def _standby_leader_check(lead, conf):
    """A standby cluster's leader is healthy when its WAL receiver streams from the main cluster."""
    found = _receiver(lead["host"], conf)
    if found["status"] != "streaming":
        return False, (f"standby leader {lead['name']} does not stream from the main cluster "
                       f"({found['host']}:{found['port']}): WAL receiver {found['status'] or 'not running'}")
    return True, (f"standby leader {lead['name']} streams from {found['sender_host']}:{found['sender_port']}, "
                  f"lag {found['lag_bytes']} bytes")


def _failed_data_dir(conf, since):
    """Patroni renames a data directory it could not bootstrap to ``<data_dir>.failed``."""
    data_dir = (conf.get("postgresql") or {}).get("data_dir")
    failed = f"{data_dir}.failed" if data_dir else None
    if not failed or not os.path.isdir(failed):
        return None
    when = datetime.datetime.fromtimestamp(os.path.getmtime(failed), datetime.timezone.utc)
    during = "recently" if when.timestamp() >= since.timestamp() else "before this run"
    return f"Patroni renamed the data directory to {failed} ({during}, {when:%Y-%m-%d %H:%M:%S} UTC)"


def _why_patroni_failed(service, since):
    """
    Patroni's own last errors since ``since`` (its journal, ``journalctl -u service``) and
    whether it gave up on the data directory: what a gate adds when it times out. Best effort:
    a log that cannot be read adds nothing, and never hides the gate's own reason.
    """
    try:
        return _patroni_errors(service, since)
    except Exception as exc:  # pylint: disable=broad-except ; a diagnosis only
        log.debug("pgha_patroni: cannot read Patroni's errors: %s", exc)
        return ""


def _patroni_errors(service, since):
    try:
        conf = _config()
    except CommandExecutionError:
        conf = {}
    found = []
    out = __salt__["cmd.run_all"](
        # bounded: the last 2000 lines since `since`, of which a few errors are kept
        ["journalctl", "--unit", service, "--since", f"@{int(since.timestamp())}", "--output", "cat",
         "--no-pager", "--lines", "2000"],
        python_shell=False, ignore_retcode=True, output_loglevel="quiet")
    if out.get("retcode") == 0:
        errors = __utils__["pgha_patroni_log.last_errors"](
            out.get("stdout", ""), secrets=__utils__["pgha_patroni_log.secrets_of"](conf))
        if errors:
            found.append(f"{service}'s last errors: " + " | ".join(errors))
    failed = _failed_data_dir(conf, since)
    if failed:
        found.append(failed)
    return "; ".join(found)


def wait_healthy(role="member", timeout=120, interval=0.5, service="patroni"):
    """
    Wait until this node is healthy in ``role``: ``leader`` (the cluster has a leader that
    accepts writes), ``replica`` (this node streams from the leader) or ``member`` (either,
    depending on this node's role). Raises on timeout with the last reason and, after a
    real wait, Patroni's own last errors from the journal of systemd unit ``service`` and
    whether it renamed the data directory to ``*.failed``.

    CLI Example:

    .. code-block:: bash

        salt pg2 pgha_patroni.wait_healthy role=replica timeout=60
    """
    if role not in ("leader", "replica", "member"):
        raise CommandExecutionError(f"role must be leader, replica or member, not {role!r}")
    # Patroni's errors are looked up from a little before the gate began: the same state run
    # started Patroni just before it, and a bootstrap can fail within seconds.
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=ERRORS_BEFORE_GATE)
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
            # with timeout=0 (test=True looks once) there was no wait to explain
            patroni_says = _why_patroni_failed(service, since) if float(timeout) > 0 else ""
            raise CommandExecutionError(f"not healthy as {role} after {timeout}s: {why}"
                                        + (f"; {patroni_says}" if patroni_says else ""))
        time.sleep(interval)


def wait_restart_flagged(timeout=60, interval=0.5):
    """
    Wait until Patroni itself flags this node's pending restart: it has applied the new
    configuration, so a restart now starts PostgreSQL with it. (The DCS may already hold a
    change that Patroni applies only in its next loop.)

    CLI Example:

    .. code-block:: bash

        salt pg2 pgha_patroni.wait_restart_flagged
    """
    deadline = time.monotonic() + float(timeout)
    while True:
        if status().get("pending_restart"):
            return "Patroni flags a pending restart"
        if time.monotonic() >= deadline:
            raise CommandExecutionError(
                f"Patroni has not applied the configuration change after {timeout}s "
                "(no pending restart flag): check its log")
        time.sleep(interval)


def wait_replayed(timeout=60, interval=0.2):
    """
    Wait until this replica has replayed all WAL the leader had written when the call began.
    Before a replica restarts, this makes its control file carry the primary's current
    settings (Patroni starts a replica with no less max_connections, ... than those).

    CLI Example:

    .. code-block:: bash

        salt pg2 pgha_patroni.wait_replayed
    """
    conf = _config()
    lead = _leader(cluster())
    if not lead:
        raise CommandExecutionError("the cluster has no running leader to catch up with")
    # a standby cluster's leader (issue 20) is in recovery: its replayed position
    target = _sql("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                  "ELSE pg_current_wal_lsn() END", lead["host"], conf)[0]
    deadline = time.monotonic() + float(timeout)
    while True:
        behind = _sql("SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn())", _local_host(conf),
                      conf, params=(target,))[0]
        if behind is not None and float(behind) <= 0:
            return f"replayed up to {target}"
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"still {behind} bytes behind {lead['name']} after {timeout}s")
        time.sleep(interval)


def wait_tags(timeout=30, interval=0.5):
    """
    Wait until Patroni runs with the tags of this node's configuration file (nofailover,
    noloadbalance, nosync, ...): a reload takes effect in Patroni's next loop.

    CLI Example:

    .. code-block:: bash

        salt pg2 pgha_patroni.wait_tags
    """
    deadline = time.monotonic() + float(timeout)
    while True:
        wanted = {k: v for k, v in (_config().get("tags") or {}).items() if v}
        running = {k: v for k, v in (status().get("tags") or {}).items() if v}
        if running == wanted:
            return f"Patroni runs with tags {wanted or 'none'}"
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"Patroni runs with tags {running}, not {wanted}, after {timeout}s")
        time.sleep(interval)


def wait_maintenance_ready(max_lag_bytes, max_transaction_sec, timeout=60, interval=1):
    """
    Wait until this node may be taken down for maintenance: it lags the leader by at most
    ``max_lag_bytes`` and no transaction on the leader has run longer than
    ``max_transaction_sec`` (it would be cut by a later switchover). Raises with the reason
    after ``timeout`` seconds.

    CLI Example:

    .. code-block:: bash

        salt pg2 pgha_patroni.wait_maintenance_ready 10485760 15
    """
    deadline = time.monotonic() + float(timeout)
    while True:
        conf = _config()
        data = cluster()
        lead = _leader(data)
        me = _member(conf.get("name") or __opts__["id"], data)
        why = None
        if not lead:
            why = "the cluster has no running leader"
        elif me is not lead and (_lag(me) is None or _lag(me) > int(max_lag_bytes)):
            why = f"this replica lags {me.get('lag')} bytes (limit {max_lag_bytes})"
        else:
            longest = _sql("SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0) "
                           "FROM pg_stat_activity WHERE state <> 'idle' "
                           "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                           lead["host"], conf)[0]
            if float(longest) > float(max_transaction_sec):
                why = (f"a transaction on leader {lead['name']} has run {float(longest):.0f}s "
                       f"(limit {max_transaction_sec}s)")
        if not why:
            return "replication lag and transaction age within limits"
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"refused after waiting {timeout}s: {why}")
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
