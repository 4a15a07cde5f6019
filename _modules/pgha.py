"""
Cluster-wide helpers for the pgha formula: the address a node publishes to the mine, and
pillar validation that runs before any node changes.

:py:func:`check` is a plain function so that unit tests can feed it pillars without a minion.
"""
import ipaddress
import logging
import re

import salt.utils.data
import salt.utils.dictupdate
import salt.utils.yaml
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha"

ROLES = {"postgresql", "etcd", "balancer", "pgbackrest"}
SECRETS = (
    "postgresql:superuser:password",
    "postgresql:replication_user:password",
    "patroni:restapi:password",
)
DIRECT_PORTS = ("master", "replicas", "replicas_sync", "replicas_async")
TYPE_A_SECRETS = ("pgbouncer:auth_user:password", "haproxy:stats_password")
EXAMPLE_PASSWORD_PREFIX = "CHANGE-ME"
UPDATE_TARGETS = ("postgres", "patroni", "system")
REPO_TYPES = ("posix", "s3", "gcs", "azure")
REPLICA_METHODS = {"basebackup", "pgbackrest", "wal_g"}
BOOTSTRAP_METHODS = ("initdb", "pgbackrest", "wal_g")
RESTORE_TYPES = ("default", "time", "lsn", "name", "xid", "immediate")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?|[A-Za-z_/]+)$")
LSN_RE = re.compile(r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$")
# WAL-G options pgha writes itself (where PostgreSQL is), never from pillar.
WAL_G_OWN_OPTIONS = ("PGDATA", "PGHOST", "PGPORT")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def __virtual__():
    return __virtualname__


def _pillar(key, default=None):
    # Read __pillar__ directly: pillar.get masks values outside templates (Salt >= 3008).
    return salt.utils.data.traverse_dict_and_list(__pillar__, key, default, delimiter=":")


def _primary_ipv4(interfaces, skip=()):
    for name, data in sorted(interfaces.items(), key=lambda kv: kv[0] != "eth0"):
        if name == "lo":
            continue
        for inet in data.get("inet", []):
            addr = inet.get("address")
            if addr and addr not in skip and not addr.startswith("127."):
                return name, addr, inet.get("netmask")
    return None, None, None


def address():
    """
    The address this node is known by in the cluster: ``pgha:address`` from pillar, else the
    primary IPv4 address of the interface with the default route (never a VIP: VIPs are
    secondary addresses). Published to the mine as ``pgha_address``.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha.address
    """
    configured = _pillar("pgha:address", "")
    if configured:
        return configured
    return _pick_interface()[1]


def interface():
    """
    The network interface that holds :py:func:`address` (where a VIP goes by default).

    CLI Example:

    .. code-block:: bash

        salt '*' pgha.interface
    """
    return _pick_interface()[0]


def _pick_interface():
    interfaces = __salt__["network.interfaces"]()
    skip = {_pillar("pgha:cluster_vip", "")}
    route_if = None
    try:
        for route in __salt__["network.default_route"]("inet"):
            route_if = route.get("interface")
            break
    except (CommandExecutionError, KeyError, TypeError):
        route_if = None
    if route_if and route_if in interfaces:
        name, addr, mask = _primary_ipv4({route_if: interfaces[route_if]}, skip)
        if addr:
            return name, addr, mask
    return _primary_ipv4(interfaces, skip)


def members(cluster_name, roles=("postgresql", "etcd", "balancer", "pgbackrest")):
    """
    ``{role: {minion: address}}`` for a cluster, from the mine (``pgha_address``), looked up
    once per state run: map.jinja asks for it every time a state file or template imports it.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.members main
    """
    key = f"pgha.members.{cluster_name}"
    if key not in __context__:
        tgt = f"I@pgha:cluster_name:{cluster_name}"
        __context__[key] = {
            role: __salt__["mine.get"](f"{tgt} and I@pgha:roles:{role}", "pgha_address",
                                       tgt_type="compound")
            for role in roles
        }
    return __context__[key]


def existing_postgresql(data_dir=None):
    """
    The standalone PostgreSQL on this node, for adopting it (``pgha:postgresql_exists``):
    ``{running, version, data_directory}`` asked of the running server over the local socket,
    or read from ``data_dir``'s PG_VERSION when none runs.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.existing_postgresql
    """
    res = __salt__["cmd.run_all"](
        ["psql", "-XAtq", "-F", "|", "-c",
         "SELECT current_setting('server_version_num'), current_setting('data_directory')"],
        runas="postgres", python_shell=False, ignore_retcode=True)
    if res["retcode"] == 0 and "|" in res["stdout"]:
        num, directory = res["stdout"].strip().splitlines()[-1].split("|", 1)
        return {"running": True, "version": str(int(num) // 10000), "data_directory": directory}
    version = None
    if data_dir and __salt__["file.file_exists"](f"{data_dir}/PG_VERSION"):
        version = __salt__["file.read"](f"{data_dir}/PG_VERSION").strip()
    return {"running": False, "version": version, "data_directory": data_dir if version else None}


# -- validation ------------------------------------------------------------------------------

def _get(data, path, default=None):
    cur = data
    for part in path.split(":"):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def _int(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def check(pillar_pgha, defaults):
    """Return a list of problems (strings naming the pillar key) for a pgha pillar dict.

    Pure function: the unit tests and :py:func:`validate` both call it.
    """
    problems = []
    if not isinstance(pillar_pgha, dict):
        return ["pgha: pillar key 'pgha' is missing or not a mapping"]
    cfg = salt.utils.dictupdate.merge(
        salt.utils.dictupdate.merge({}, defaults or {}), pillar_pgha, merge_lists=False
    )

    def bad(key, msg):
        problems.append(f"pgha:{key}: {msg}")

    if not pillar_pgha.get("cluster_name"):
        bad("cluster_name", "is missing: orchestrations find a cluster's minions by this pillar key")
    name = cfg.get("cluster_name")
    if not name or not isinstance(name, str) or not NAME_RE.match(name):
        bad("cluster_name", f"must be a name of letters, digits, '.', '_' or '-' (got {name!r})")

    roles = cfg.get("roles")
    if not isinstance(roles, list) or not roles:
        bad("roles", "is missing: give each minion a list of roles (postgresql, etcd, balancer)")
    else:
        unknown = sorted(set(map(str, roles)) - ROLES)
        if unknown:
            bad("roles", f"unknown role(s) {', '.join(unknown)}; known: {', '.join(sorted(ROLES))}")

    def secret(key, missing):
        value = _get(cfg, key)
        if value is None or str(value).strip() == "":
            bad(key, missing)
        elif str(value).startswith(EXAMPLE_PASSWORD_PREFIX):
            bad(key, "is still the placeholder from pillar.example: set a real password")

    for key in SECRETS:
        secret(key, "is missing or empty: set a password in pillar")

    if isinstance(roles, list) and "pgbackrest" in roles and not _get(cfg, "pgbackrest:enabled"):
        bad("roles", "has pgbackrest (the backup repository host) but pgbackrest:enabled is false")
    if isinstance(roles, list) and "balancer" in roles and not cfg.get("with_haproxy_load_balancing"):
        bad("roles", "has balancer but with_haproxy_load_balancing is false: keepalived and "
            "vip-manager would both claim cluster_vip")
    unknown_ports = sorted(set(_get(cfg, "haproxy:direct_ports") or {}) - set(DIRECT_PORTS))
    if unknown_ports:
        bad("haproxy:direct_ports", f"unknown listener(s) {', '.join(unknown_ports)}; "
            f"known: {', '.join(DIRECT_PORTS)}")
    if cfg.get("with_haproxy_load_balancing"):
        auth_user = _get(cfg, "pgbouncer:auth_user:name")
        if auth_user in [u.get("name") for u in _get(cfg, "postgresql:users") or [] if isinstance(u, dict)]:
            bad("postgresql:users", f"must not contain {auth_user!r}: that is PgBouncer's "
                "auth_query role (pgbouncer:auth_user), which pgha manages")
        if not cfg.get("cluster_vip"):
            bad("cluster_vip", "is required with with_haproxy_load_balancing: keepalived holds it")
        for key in TYPE_A_SECRETS:
            secret(key, "is missing or empty: with_haproxy_load_balancing needs it")

    if _get(cfg, "confd:enabled") and not (_get(cfg, "confd:url") and _get(cfg, "confd:source_hash")):
        bad("confd:url", "and confd:source_hash are both required with confd:enabled "
            "(confd is not packaged: Salt downloads the binary and checks it)")

    vip = cfg.get("cluster_vip") or ""
    if vip:
        try:
            ipaddress.IPv4Address(str(vip))
        except ValueError:
            bad("cluster_vip", f"{vip!r} is not an IPv4 address")

    version = _int(_get(cfg, "postgresql:version"))
    if version is None or not 10 <= version <= 18:
        bad("postgresql:version", f"must be a PostgreSQL major version such as 15 "
            f"(got {_get(cfg, 'postgresql:version')!r})")

    method = _get(cfg, "patroni:install_method")
    if method not in ("pkg", "pip"):
        bad("patroni:install_method", f"must be 'pkg' or 'pip' (got {method!r})")
    if _get(cfg, "patroni:dcs_api") not in ("auto", "etcd", "etcd3"):
        bad("patroni:dcs_api", f"must be auto, etcd or etcd3 (got {_get(cfg, 'patroni:dcs_api')!r})")

    timing = {k: _int(_get(cfg, f"patroni:{k}")) for k in ("ttl", "loop_wait", "retry_timeout")}
    for key, value in timing.items():
        if value is None or value <= 0:
            bad(f"patroni:{key}", f"must be a positive number of seconds (got {_get(cfg, 'patroni:' + key)!r})")
    if None not in timing.values() and timing["loop_wait"] + 2 * timing["retry_timeout"] > timing["ttl"]:
        bad("patroni:ttl", f"must be at least loop_wait + 2 * retry_timeout "
            f"({timing['loop_wait']} + 2 * {timing['retry_timeout']}), got {timing['ttl']}")
    count = _int(_get(cfg, "patroni:synchronous_node_count"))
    if count is None or count < 1:
        bad("patroni:synchronous_node_count", "must be 1 or more")

    pgbr = cfg.get("pgbackrest") or {}
    if _get(cfg, "pgbackrest:repo:type") not in REPO_TYPES:
        bad("pgbackrest:repo:type", f"must be one of {', '.join(REPO_TYPES)} "
            f"(got {_get(cfg, 'pgbackrest:repo:type')!r})")
    for i, entry in enumerate(pgbr.get("schedule") or []):
        if (not isinstance(entry, dict) or entry.get("type") not in ("full", "diff", "incr")
                or not entry.get("on_calendar")):
            bad(f"pgbackrest:schedule:{i}", "needs type (full, diff or incr) and on_calendar "
                "(a systemd OnCalendar expression such as 'Sun *-*-* 01:00:00')")
    methods = _get(cfg, "patroni:create_replica_methods")
    if not isinstance(methods, list) or not methods or set(map(str, methods)) - REPLICA_METHODS:
        bad("patroni:create_replica_methods", f"must be a list of {', '.join(sorted(REPLICA_METHODS))} "
            f"(got {methods!r})")
    elif "pgbackrest" in methods and not pgbr.get("enabled"):
        bad("patroni:create_replica_methods", "has pgbackrest but pgbackrest:enabled is false")
    elif "wal_g" in methods and not _get(cfg, "wal_g:enabled"):
        bad("patroni:create_replica_methods", "has wal_g but wal_g:enabled is false")
    problems.extend(f"pgha:{key}: {msg}" for key, msg in _check_bootstrap(cfg))
    problems.extend(f"pgha:{key}: {msg}" for key, msg in _check_wal_g(cfg))

    if not isinstance(cfg.get("postgresql_exists", False), bool):
        bad("postgresql_exists", f"must be true or false (got {cfg.get('postgresql_exists')!r})")
    elif cfg.get("postgresql_exists") and isinstance(roles, list) and "postgresql" not in roles:
        bad("postgresql_exists", "is true on a minion without the postgresql role")

    if _get(cfg, "operations:update_target") not in UPDATE_TARGETS:
        bad("operations:update_target", f"must be one of {', '.join(UPDATE_TARGETS)} "
            f"(got {_get(cfg, 'operations:update_target')!r})")
    for key in ("max_replication_lag_bytes", "max_transaction_sec", "restart_timeout"):
        value = _int(_get(cfg, f"operations:{key}"))
        if value is None or value < 0:
            bad(f"operations:{key}", f"must be a whole number >= 0 (got {_get(cfg, 'operations:' + key)!r})")
    tags = _get(cfg, "patroni:tags")
    if not isinstance(tags, dict):
        bad("patroni:tags", "must be a mapping such as {nofailover: false}")
    else:
        for tag in ("nofailover", "noloadbalance", "clonefrom", "nosync"):
            if not isinstance(tags.get(tag, False), bool):
                bad(f"patroni:tags:{tag}", f"must be true or false (got {tags.get(tag)!r})")

    if cfg.get("dcs_exists") and isinstance(roles, list) and "etcd" in roles:
        bad("roles", "has etcd while dcs_exists is true: the existing etcd is used, deploy none")
    if cfg.get("dcs_exists") and not _get(cfg, "etcd:endpoints"):
        bad("etcd:endpoints", "is empty but dcs_exists is true: list the existing etcd's client URLs")

    for i, user in enumerate(_get(cfg, "postgresql:users") or []):
        if not isinstance(user, dict) or not user.get("name"):
            bad(f"postgresql:users:{i}", "needs a name")
        elif not user.get("password"):
            bad(f"postgresql:users:{i}:password", f"is missing for user {user['name']!r}")
    for i, db in enumerate(_get(cfg, "postgresql:databases") or []):
        if not isinstance(db, dict) or not db.get("name"):
            bad(f"postgresql:databases:{i}", "needs a name")
    for i, ext in enumerate(_get(cfg, "postgresql:extensions") or []):
        if not isinstance(ext, dict) or not ext.get("name") or not ext.get("db"):
            bad(f"postgresql:extensions:{i}", "needs a name and a db")
    problems.extend(f"pgha:{key}: {msg}" for key, msg in _check_firewall(cfg))
    return problems


def check_restore_target(restore, prefix="restore"):
    """
    Problems as (key, message) with a restore target: ``type`` (default, time, lsn, name,
    xid, immediate), ``target``, ``stanza`` and ``set``. ``prefix`` names where the keys came
    from in the messages.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.check_restore_target '{"type": "time", "target": "2026-11-26 04:00:00+00"}'
    """
    problems = []
    kind = restore.get("type", "default")
    target = str(restore.get("target") or "").strip()
    if kind not in RESTORE_TYPES:
        problems.append((f"{prefix}:type", f"must be one of {', '.join(RESTORE_TYPES)} (got {kind!r})"))
    elif kind in ("time", "lsn", "name", "xid") and not target:
        problems.append((f"{prefix}:target", f"is empty: restore type {kind} needs a target "
                         "(e.g. '2026-11-26 04:00:00+00' for time, '0/3000060' for lsn)"))
    elif kind == "time" and not TIME_RE.match(target):
        problems.append((f"{prefix}:target", f"{target!r} is not a time such as "
                         "'2026-11-26 04:00:00+00' (give the time zone)"))
    elif kind == "lsn" and not LSN_RE.match(target):
        problems.append((f"{prefix}:target", f"{target!r} is not an LSN such as '0/3000060'"))
    elif kind == "xid" and not target.isdigit():
        problems.append((f"{prefix}:target", f"{target!r} is not a transaction id"))
    elif kind in ("default", "immediate") and target:
        problems.append((f"{prefix}:target", f"is set but restore type {kind} takes no target"))
    for key in ("stanza", "set"):
        if restore.get(key) and not NAME_RE.match(str(restore[key])):
            problems.append((f"{prefix}:{key}", f"{restore[key]!r} is not a pgBackRest name"))
    return problems


def _check_firewall(cfg):
    """Problems as (key, message) with the firewall's own settings (pgha:firewall). ``cfg`` is
    the merged pgha pillar."""
    problems = []
    fw = cfg.get("firewall", {})
    if not isinstance(fw, dict):
        return [("firewall", "must be a mapping such as {enabled: true}")]
    enabled = fw.get("enabled", False)
    if not isinstance(enabled, bool):
        problems.append(("firewall:enabled", f"must be true or false (got {enabled!r})"))

    def port(key, value):
        if isinstance(value, bool) or _int(value) is None or not 1 <= _int(value) <= 65535:
            problems.append((key, f"must be a TCP port number from 1 to 65535 (got {value!r})"))

    if "ssh_port" in fw:
        port("firewall:ssh_port", fw["ssh_port"])
    extra = fw.get("extra_ports", [])
    if not isinstance(extra, list):
        problems.append(("firewall:extra_ports", f"must be a list of port numbers such as [9100] "
                         f"(got {extra!r})"))
    else:
        for i, value in enumerate(extra):
            port(f"firewall:extra_ports:{i}", value)
    sources = fw.get("client_sources", [])
    if not isinstance(sources, list):
        problems.append(("firewall:client_sources", "must be a list of addresses or networks such as "
                         f"['10.1.0.0/16'], [] for any (got {sources!r})"))
    else:
        for i, value in enumerate(sources):
            try:
                ipaddress.ip_network(str(value))
            except ValueError as exc:
                problems.append((f"firewall:client_sources:{i}", f"{value!r} is not an address or "
                                 f"network such as 10.1.0.0/16 ({exc})"))
    rules = fw.get("extra_rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) and r.strip() and "\n" not in r
                                              for r in rules):
        problems.append(("firewall:extra_rules", "must be a list of one-line nftables rules such as "
                         f"'ip saddr 10.9.0.0/16 tcp dport 9187 accept' (got {rules!r})"))
    return problems


def _check_bootstrap(cfg):
    """Problems as (key, message) with bootstrapping from a backup: the method, the restore
    target (pgha:restore), the archive setting. ``cfg`` is the merged pgha pillar."""
    problems = []
    method = _get(cfg, "patroni:bootstrap_method")
    if method not in BOOTSTRAP_METHODS:
        problems.append(("patroni:bootstrap_method", f"must be one of {', '.join(BOOTSTRAP_METHODS)} "
                         f"(got {method!r})"))
    elif method == "pgbackrest" and not _get(cfg, "pgbackrest:enabled"):
        problems.append(("patroni:bootstrap_method", "is pgbackrest but pgbackrest:enabled is false: "
                         "configure the repository to bootstrap from"))
    elif method == "wal_g" and not _get(cfg, "wal_g:enabled"):
        problems.append(("patroni:bootstrap_method", "is wal_g but wal_g:enabled is false: "
                         "configure WAL-G to bootstrap from"))
    restore = cfg.get("restore") if isinstance(cfg.get("restore"), dict) else {}
    problems.extend(check_restore_target(restore))
    if not isinstance(cfg.get("disable_archive_command", True), bool):
        problems.append(("disable_archive_command", "must be true or false "
                         f"(got {cfg.get('disable_archive_command')!r})"))
    return problems


def _check_wal_g(cfg):
    """Problems as (key, message) with WAL-G: the binary, its options (pgha:wal_g:json), one WAL
    archive per cluster. ``cfg`` is the merged pgha pillar."""
    problems = []
    walg = cfg.get("wal_g") or {}
    options = walg.get("json")
    if not isinstance(options, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in options.items()):
        problems.append(("wal_g:json", "must be a mapping of WAL-G option names to strings "
                         "(quote numbers and booleans: WALG_DELTA_MAX_STEPS: '6')"))
        options = {}
    own = sorted(set(options) & set(WAL_G_OWN_OPTIONS))
    if own:
        problems.append(("wal_g:json", f"must not set {', '.join(own)}: pgha writes them from "
                         "postgresql:data_dir, postgresql:port and the socket directory"))
    retain = _int(walg.get("retain_full"))
    if retain is None or retain < 0:
        problems.append(("wal_g:retain_full", "must be a whole number >= 0, 0 keeps every backup "
                         f"(got {walg.get('retain_full')!r})"))
    if not walg.get("enabled"):
        return problems
    if not (walg.get("url") and walg.get("source_hash")):
        problems.append(("wal_g:url", "and wal_g:source_hash are both required with wal_g:enabled "
                         "(WAL-G is not packaged: Salt downloads the binary and checks it)"))
    elif str(walg["url"]).endswith((".tar.gz", ".tgz", ".zip")):
        problems.append(("wal_g:url", "must be the wal-g binary itself (a release's file without "
                         f".tar.gz), not an archive (got {walg['url']!r})"))
    if _get(cfg, "pgbackrest:enabled"):
        problems.append(("wal_g:enabled", "choose one archive: pgbackrest:enabled and wal_g:enabled "
                         "are both true"))
    if not any(key.endswith("_PREFIX") for key in options):
        problems.append(("wal_g:json", "needs a storage, e.g. WALG_S3_PREFIX, WALG_GS_PREFIX, "
                         "WALG_AZ_PREFIX or WALG_FILE_PREFIX"))
    for key, value in sorted(options.items()):
        if value.startswith(EXAMPLE_PASSWORD_PREFIX):
            problems.append((f"wal_g:json:{key}", "is still the placeholder from pillar.example: "
                             "set the real value"))
    return problems


def _defaults():
    if "pgha.defaults" not in __context__:
        text = __salt__["cp.get_file_str"]("salt://pgha/parameters/defaults.yaml")
        __context__["pgha.defaults"] = salt.utils.yaml.safe_load(text) if text else {}
    return __context__["pgha.defaults"]


def validate():
    """
    Check this minion's ``pgha`` pillar. Returns the list of problems (empty when valid); each
    names the pillar key. Orchestrations run it on every cluster minion before changing anything.

    CLI Example:

    .. code-block:: bash

        salt -I 'pgha:cluster_name:main' pgha.validate
    """
    return check(_pillar("pgha"), _defaults())
