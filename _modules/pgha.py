"""
Cluster-wide helpers for the pgha formula: the address a node publishes to the mine, and
pillar validation that runs before any node changes.

:py:func:`check` is a plain function so that unit tests can feed it pillars without a minion.
"""
import difflib
import ipaddress
import logging
import re
import urllib.parse

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
PORT_KEYS = ("postgresql:port", "patroni:restapi:port", "pgbouncer:port", "etcd:client_port",
             "etcd:peer_port") + tuple(f"haproxy:ports:{name}" for name in DIRECT_PORTS + ("stats",))
# Failover presets (parameters/defaults.yaml rto_profiles, pillar patroni:rto_profile): Patroni's
# timings, each with the smallest value Patroni takes (it raises a smaller ttl, loop_wait or
# retry_timeout to it, so the pillar would not say what runs) and why.
PATRONI_TIMINGS = (
    ("ttl", 20, ": Patroni raises a smaller ttl to 20"),
    ("loop_wait", 1, ""),
    ("retry_timeout", 3, ": Patroni raises a smaller retry_timeout to 3"),
    ("primary_start_timeout", 0, ""),
)
HAPROXY_CHECK_TIMES = ("inter", "fastinter", "downinter")
HAPROXY_CHECK_COUNTS = ("rise", "fall")
# an HAProxy time: a number with a unit (us, ms, s, m, h, d), milliseconds without one
HAPROXY_TIME_RE = re.compile(r"^([0-9]+)(us|ms|s|m|h|d)?$")
# Pillar keys the formula reads that parameters/defaults.yaml does not define, and the distro
# facts (parameters/os_family) a pillar may override directly instead of through pgha:lookup.
EXTRA_KEYS = ("address", "lookup")
DISTRO_KEYS = ("pkgs", "paths", "services", "users")
# Mappings whose keys are the user's (options passed through as written): not checked for
# unknown keys. Patroni accepts tags of its own (failover_priority, nostream, ...) and any other.
FREE_FORM = ("lookup", "postgresql:parameters", "pgbackrest:repo", "pgbackrest:global",
             "wal_g:json", "patroni:tags", "haproxy:direct_ports", "system:sysctl:settings")
HBA_TYPES = ("local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc")
HBA_KEYWORDS = ("all", "samehost", "samenet")
HOST_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(rf"^\.?{HOST_LABEL}(\.{HOST_LABEL})*$")   # pg_hba: .example.com = its subdomains
LOOKS_LIKE_IP_RE = re.compile(r"^[0-9./]+$|:")
# sysctl names as sysctl(8) writes them: vm.swappiness, net.ipv4.conf.eth0/1.rp_filter
SYSCTL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_/-]+)+$")
# language[_territory][.codeset][@modifier], e.g. en_US.UTF-8, de_DE.UTF-8@euro, C.UTF-8
LOCALE_RE = re.compile(r"^[A-Za-z]{1,8}(_[A-Za-z]{2,3})?(\.[A-Za-z0-9-]+)?(@[A-Za-z0-9]+)?$")
THP_MODES = ("never", "madvise", "")
TIME_DAEMONS = ("chrony", "ntpsec")


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
    ``{role: {minion: address}}`` for a cluster, from the mine (``pgha_member``), the cluster
    name compared exactly: ``pgha_settings.members``, which map.jinja's ``members`` come from.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.members main
    """
    found = __salt__["pgha_settings.members"](cluster_name)
    return {role: found.get(role, {}) for role in roles}


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
    return __utils__["pgha_cluster.get"](data, path, default)


def _int(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _merged(defaults, pillar_pgha):
    """The settings map.jinja would use: defaults, then pillar pgha:lookup, then pillar pgha."""
    return __utils__["pgha_cluster.merged"](defaults, pillar_pgha)


def _roles(cfg):
    roles = cfg.get("roles")
    return set(map(str, roles)) if isinstance(roles, list) else set()


def check(pillar_pgha, defaults, context=None):
    """Return a list of problems (strings naming the pillar key) for a pgha pillar dict.

    ``defaults`` are the merged parameters (defaults.yaml, os_family/, osfinger/). ``context``
    holds what only the minion knows: ``address`` (its cluster address, for the VIP's subnet)
    and ``os`` (its osfinger, for messages). Pure function: the unit tests and
    :py:func:`validate` both call it.
    """
    problems = []
    if not isinstance(pillar_pgha, dict):
        return ["pgha: pillar key 'pgha' is missing or not a mapping"]
    context = context or {}
    cfg, from_preset, preset = _resolve_rto(_merged(defaults, pillar_pgha))

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
    for found in (_check_rto(cfg, from_preset, preset, pillar_pgha, defaults),
                  _check_bootstrap(cfg), _check_wal_g(cfg), _check_unknown_keys(pillar_pgha, defaults),
                  _check_addresses(cfg, context), _check_pg_hba(cfg), _check_ports(cfg),
                  _check_version_available(cfg, context)):
        problems.extend(f"pgha:{key}: {msg}" for key, msg in found)

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
        elif str(user["password"]).startswith(EXAMPLE_PASSWORD_PREFIX):
            bad(f"postgresql:users:{i}:password", f"of user {user['name']!r} is still the placeholder "
                "from pillar.example: set a real password")
    for i, db in enumerate(_get(cfg, "postgresql:databases") or []):
        if not isinstance(db, dict) or not db.get("name"):
            bad(f"postgresql:databases:{i}", "needs a name")
    for i, ext in enumerate(_get(cfg, "postgresql:extensions") or []):
        if not isinstance(ext, dict) or not ext.get("name") or not ext.get("db"):
            bad(f"postgresql:extensions:{i}", "needs a name and a db")
    problems.extend(f"pgha:{key}: {msg}" for key, msg in _check_sources(cfg, context))
    problems.extend(f"pgha:{key}: {msg}" for key, msg in _check_firewall(cfg))
    problems.extend(f"pgha:{key}: {msg}" for key, msg in _check_tls(cfg))
    problems.extend(f"pgha:{key}: {msg}" for key, msg in _check_system(cfg, context))
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


PROXY_KEYS = ("http_proxy", "https_proxy", "no_proxy")
APT_REPO_KEYS = {"name", "url", "dist", "components", "signed_by", "key_text", "trusted"}
YUM_REPO_KEYS = {"name", "baseurl", "humanname", "gpgkey", "gpgcheck"}
PGDG_FAMILIES = ("Debian", "RedHat")


def _url_problem(value, schemes):
    """Why ``value`` is not a URL with one of ``schemes`` and a host (file: needs a path), or None."""
    parsed = urllib.parse.urlsplit(str(value))
    if parsed.scheme not in schemes:
        return f"{value!r} is not a {' or '.join(s + ':' for s in schemes)} URL"
    if parsed.scheme == "file":
        return None if parsed.path.startswith("/") else f"{value!r} needs an absolute path"
    try:
        parsed.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return f"{value!r} has a bad port"
    return None if parsed.hostname else f"{value!r} has no host"


def _check_sources(cfg, context):
    """Problems as (key, message) with the package sources: pgha:pgdg, pgha:epel, pgha:pkg_repos
    and pgha:proxy_env. ``context`` may name the minion's ``os_family``: the repository entries
    are apt's or yum's."""
    problems = []
    family = context.get("os_family") or ""
    proxy = cfg.get("proxy_env", {})
    if not isinstance(proxy, dict):
        problems.append(("proxy_env", "must be a mapping such as {https_proxy: 'http://proxy:3128', "
                         f"no_proxy: 'localhost,mirror.example'}} (got {proxy!r})"))
        proxy = {}
    for key, value in proxy.items():
        if key not in PROXY_KEYS:
            problems.append((f"proxy_env:{key}", f"unknown key; known: {', '.join(PROXY_KEYS)} "
                             "(pgha gives them to apt/dnf and pip only)"))
        elif not isinstance(value, str):
            problems.append((f"proxy_env:{key}", f"must be a string (got {value!r})"))
        elif key != "no_proxy" and value:
            why = _url_problem(value, ("http", "https"))
            if why:
                problems.append((f"proxy_env:{key}", f"{why} such as http://proxy.example:3128"))
    for name in ("pgdg", "epel"):
        section = cfg.get(name, {})
        if not isinstance(section, dict):
            problems.append((name, f"must be a mapping such as {{enabled: true}} (got {section!r})"))
            continue
        if not isinstance(section.get("enabled", False), bool):
            problems.append((f"{name}:enabled", f"must be true or false (got {section.get('enabled')!r})"))
        elif section.get("enabled"):
            supported = PGDG_FAMILIES if name == "pgdg" else ("RedHat",)
            if family and family not in supported:
                problems.append((f"{name}:enabled", f"is not supported on {context.get('os') or family} "
                                 f"(only the {' and '.join(supported)} families)"))
            if section.get("url") in (None, "") and family:
                problems.append((f"{name}:url", "is empty: give the repository's (or its mirror's) URL"))
            elif section.get("url"):
                why = _url_problem(section["url"], ("http", "https", "file"))
                if why:
                    problems.append((f"{name}:url", why))
    if not isinstance(_get(cfg, "pgdg:extras", True), bool):
        problems.append(("pgdg:extras", f"must be true or false (got {_get(cfg, 'pgdg:extras')!r})"))
    versions = _get(cfg, "pgdg:versions", [])
    if not isinstance(versions, list) or None in map(_int, versions):
        problems.append(("pgdg:versions", f"must be a list of PostgreSQL majors (got {versions!r})"))
    problems.extend(_check_repo_entries(cfg.get("pkg_repos", []), family))
    return problems


def _check_repo_entries(entries, family):
    """Problems as (key, message) with pgha:pkg_repos: apt entries {name, url, dist, ...} or yum
    entries {name, baseurl, ...}, as the minion's family (when known) needs."""
    if not isinstance(entries, list):
        return [("pkg_repos", f"must be a list of repositories (got {entries!r})")]
    problems, names = [], set()
    for i, entry in enumerate(entries):
        key = f"pkg_repos:{i}"
        if not isinstance(entry, dict):
            problems.append((key, "must be a mapping: apt {name, url, dist, components, signed_by, "
                             "key_text, trusted} or yum {name, baseurl, gpgkey, gpgcheck}"))
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append((f"{key}:name", f"must be a name of letters, digits, '.', '_' or '-' (got {name!r})"))
        elif name in names:
            problems.append((f"{key}:name", f"{name!r} is listed twice"))
        names.add(name)
        apt = "url" in entry or (family == "Debian" and "baseurl" not in entry)
        known = APT_REPO_KEYS if apt else YUM_REPO_KEYS
        if family and (family == "Debian") != apt:
            problems.append((key, f"is {'an apt' if apt else 'a yum'} repository but this minion's family is {family}: "
                             + ("give url, dist, components" if family == "Debian" else "give baseurl")))
            continue
        for extra in sorted(set(entry) - known):
            problems.append((f"{key}:{extra}", f"unknown key for {'an apt' if apt else 'a yum'} repository; known: "
                             f"{', '.join(sorted(known))}"))
        url_key = "url" if apt else "baseurl"
        if not entry.get(url_key):
            problems.append((f"{key}:{url_key}", "is missing"))
        else:
            why = _url_problem(entry[url_key], ("http", "https", "file"))
            if why:
                problems.append((f"{key}:{url_key}", why))
        for flag in ("trusted", "gpgcheck"):
            if flag in entry and not isinstance(entry[flag], bool):
                problems.append((f"{key}:{flag}", f"must be true or false (got {entry[flag]!r})"))
        if apt and entry.get("key_text") and "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in str(entry["key_text"]):
            problems.append((f"{key}:key_text", "is not an armored OpenPGP key (-----BEGIN PGP PUBLIC KEY BLOCK-----)"))
        if apt and entry.get("key_text") and entry.get("signed_by"):
            problems.append((f"{key}:signed_by", "and key_text are both set: key_text is written to "
                             f"/etc/apt/keyrings/pgha-{name}.asc and signs the repository"))
        if apt and entry.get("signed_by") and not str(entry["signed_by"]).startswith("/"):
            problems.append((f"{key}:signed_by", f"must be the absolute path of a key file on the node "
                             f"(got {entry['signed_by']!r})"))
        if not apt and entry.get("gpgkey"):
            why = _url_problem(entry["gpgkey"], ("http", "https", "file"))
            if why:
                problems.append((f"{key}:gpgkey", why))
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


def _check_tls(cfg):
    """Problems as (key, message) with TLS (pgha:tls): its switches and lifetimes, the extra
    names, and with tls:enabled the cluster CA (certificate and key). ``cfg`` is the merged
    pgha pillar."""
    tls = cfg.get("tls", {})
    if not isinstance(tls, dict):
        return [("tls", "must be a mapping such as {enabled: true, ca_cert: ..., ca_key: ...}")]
    problems = []
    for key in ("enabled", "require_ssl", "etcd_client_cert_auth"):
        if not isinstance(tls.get(key, False), bool):
            problems.append((f"tls:{key}", f"must be true or false (got {tls.get(key)!r})"))
    valid, remaining = _int(tls.get("days_valid")), _int(tls.get("days_remaining"))
    if "days_valid" in tls and (valid is None or valid < 1):
        problems.append(("tls:days_valid", f"must be a number of days >= 1 (got {tls.get('days_valid')!r})"))
    elif "days_remaining" in tls and (remaining is None or not 0 <= remaining < (valid or remaining + 1)):
        problems.append(("tls:days_remaining", f"must be a number of days from 0 to less than "
                         f"tls:days_valid ({valid}) (got {tls.get('days_remaining')!r})"))
    sans = tls.get("extra_sans", [])
    if not isinstance(sans, list):
        problems.append(("tls:extra_sans", f"must be a list such as ['DNS:db.example.com', "
                         f"'IP:192.0.2.10'] (got {sans!r})"))
        sans = []
    for i, name in enumerate(sans):
        kind, _, value = str(name).partition(":")
        if (kind == "DNS" and HOSTNAME_RE.match(value)) or (kind == "IP" and _ip(value)):
            continue
        problems.append((f"tls:extra_sans:{i}", f"{name!r} is not DNS:<host name> or IP:<address>"))
    if tls.get("enabled") is not True:
        return problems
    problems.extend(_check_tls_ca(str(tls.get("ca_cert") or "").strip(),
                                  str(tls.get("ca_key") or "").strip()))
    if tls.get("etcd_client_cert_auth") and _get(cfg, "confd:enabled"):
        problems.append(("tls:etcd_client_cert_auth", "is not supported with confd:enabled: confd on "
                         "the balancers has no client certificate"))
    return problems


def _check_system(cfg, context=None):
    """Problems as (key, message) with host preparation (pgha:system). ``cfg`` is the merged
    pgha pillar; ``context`` names the OS for the packages it lacks."""
    system = cfg.get("system", {})
    if not isinstance(system, dict):
        return [("system", "must be a mapping such as {sysctl: {enabled: true}}")]
    problems = []

    def flag(key, value):
        if not isinstance(value, bool):
            problems.append((key, f"must be true or false (got {value!r})"))

    def section(key):
        value = system.get(key, {})
        if isinstance(value, dict):
            return value
        problems.append((f"system:{key}", f"must be a mapping such as {{enabled: true}} (got {value!r})"))
        return {}

    def listed(key, value, example):
        if isinstance(value, list):
            return value
        problems.append((key, f"must be a list such as {example} (got {value!r})"))
        return []

    sysctl = section("sysctl")
    flag("system:sysctl:enabled", sysctl.get("enabled", True))
    settings = sysctl.get("settings", {})
    if not isinstance(settings, dict):
        problems.append(("system:sysctl:settings", "must be a mapping of sysctl names to values such as "
                         f"{{vm.swappiness: 1}} (got {settings!r})"))
        settings = {}
    for key, value in settings.items():
        where = f"system:sysctl:settings:{key}"
        if key == "vm.nr_hugepages":
            problems.append((where, "set system:huge_pages instead (it has a file of its own)"))
        elif not SYSCTL_KEY_RE.match(str(key)):
            problems.append((where, "is not a sysctl name such as vm.swappiness"))
        elif value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, str))
                                    or not str(value).strip() or "\n" in str(value)):
            problems.append((where, f"must be a number or a one-line string such as '10000 65535', or ~ to "
                             f"leave the kernel's value (got {value!r})"))

    pages = system.get("huge_pages", 0)
    if isinstance(pages, bool) or _int(pages) is None or _int(pages) < 0:
        problems.append(("system:huge_pages", f"must be a number of 2 MiB huge pages >= 0, 0 for none "
                         f"(got {pages!r})"))
    thp = system.get("transparent_huge_pages", "never")
    if thp not in THP_MODES:
        problems.append(("system:transparent_huge_pages", f"must be never, madvise or '' to leave it "
                         f"alone (got {thp!r})"))

    limits = section("limits")
    flag("system:limits:enabled", limits.get("enabled", True))
    if limits.get("user") and not NAME_RE.match(str(limits["user"])):
        problems.append(("system:limits:user", f"{limits['user']!r} is not a user name"))
    nofile = {}
    for key in ("soft_nofile", "hard_nofile"):
        value = limits.get(key, 65536)
        nofile[key] = None if isinstance(value, bool) else _int(value)
        if nofile[key] is None or nofile[key] < 1024:
            problems.append((f"system:limits:{key}", f"must be a number of open files >= 1024 (got {value!r})"))
    if None not in nofile.values() and nofile["soft_nofile"] > nofile["hard_nofile"]:
        problems.append(("system:limits:soft_nofile", f"{nofile['soft_nofile']} is above "
                         f"system:limits:hard_nofile ({nofile['hard_nofile']})"))

    locales = listed("system:locales", system.get("locales", []), "[en_US.UTF-8], [] for none")
    for i, locale in enumerate(locales):
        if not isinstance(locale, str) or not LOCALE_RE.match(locale):
            problems.append((f"system:locales:{i}", f"{locale!r} is not a locale such as en_US.UTF-8"))
    default = system.get("default_locale", "")
    if default and (not isinstance(default, str) or not LOCALE_RE.match(default)):
        problems.append(("system:default_locale", f"{default!r} is not a locale such as en_US.UTF-8"))

    etc_hosts = section("etc_hosts")
    flag("system:etc_hosts:enabled", etc_hosts.get("enabled", True))
    extra = listed("system:etc_hosts:extra", etc_hosts.get("extra", []),
                   "[{ip: 10.0.0.50, names: [backup.example.com]}]")
    for i, line in enumerate(extra):
        names = line.get("names") if isinstance(line, dict) else None
        if not isinstance(line, dict) or not _ip(str(line.get("ip", ""))) or not isinstance(names, list) \
                or not names or not all(map(_host_name, names)):
            problems.append((f"system:etc_hosts:extra:{i}", "needs ip (an address) and names (a list of host "
                             f"names), e.g. {{ip: 10.0.0.50, names: [backup.example.com, backup]}} (got {line!r})"))

    time_sync = section("time_sync")
    flag("system:time_sync:enabled", time_sync.get("enabled", True))
    daemon = time_sync.get("daemon", "chrony")
    if daemon not in TIME_DAEMONS:
        problems.append(("system:time_sync:daemon", f"must be chrony or ntpsec (got {daemon!r})"))
    elif time_sync.get("enabled", True) and _get(cfg, f"pkgs:{daemon}") == []:
        problems.append(("system:time_sync:daemon", f"{daemon} is not packaged for "
                         f"{(context or {}).get('os') or 'this OS'} (pkgs:{daemon} is empty): use chrony"))
    servers = listed("system:time_sync:servers", time_sync.get("servers", []),
                     "[ntp1.example.com, 10.0.0.5], [] for the distribution's")
    for i, server in enumerate(servers):
        if not _host_name(server) and not _ip(str(server)):
            problems.append((f"system:time_sync:servers:{i}", f"{server!r} is not an NTP server's name or address"))
    return problems


def _host_name(text):
    """A host name for /etc/hosts or a server (not pg_hba's .example.com suffix form)."""
    return isinstance(text, str) and bool(HOSTNAME_RE.match(text)) and not text.startswith(".")


def _ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _check_tls_ca(cert, key):
    """Problems as (key, message) with the cluster CA of pillar (tls:ca_cert, tls:ca_key): both
    given, PEM, the key unencrypted and the certificate's, a CA certificate still valid."""
    how = "docs/security.md, section TLS, shows how to make one"
    if not cert:
        return [("tls:ca_cert", f"required with tls:enabled: the cluster CA's certificate (PEM), "
                 f"the same for every minion; {how}")]
    if "-----BEGIN CERTIFICATE-----" not in cert:
        return [("tls:ca_cert", "is not a PEM certificate (-----BEGIN CERTIFICATE-----)")]
    if not key:
        return [("tls:ca_key", "required with tls:enabled: the cluster CA's private key (PEM), "
                 f"with which each node signs its own certificates; {how}")]
    if "ENCRYPTED" in key:
        return [("tls:ca_key", "is encrypted: give it without a passphrase (pillar keeps it secret)")]
    if "PRIVATE KEY-----" not in key:
        return [("tls:ca_key", "is not a PEM private key (-----BEGIN PRIVATE KEY-----)")]
    try:  # Salt's x509 modules need cryptography: where it is missing the nodes say so
        # pylint: disable=import-outside-toplevel
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        return []
    try:
        ca = x509.load_pem_x509_certificate(cert.encode())
    except ValueError as exc:
        return [("tls:ca_cert", f"cannot be read as a PEM certificate: {exc}")]
    try:
        private = serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError) as exc:
        return [("tls:ca_key", f"cannot be read as a PEM private key: {exc}")]
    problems = []
    try:
        is_ca = ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        problems.append(("tls:ca_cert", "is not a CA certificate (basicConstraints CA:true)"))
    utc = datetime.timezone.utc
    expires = getattr(ca, "not_valid_after_utc", None) or ca.not_valid_after.replace(tzinfo=utc)
    if expires <= datetime.datetime.now(utc):
        problems.append(("tls:ca_cert", f"expired on {expires:%Y-%m-%d}"))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if (private.public_key().public_bytes(serialization.Encoding.DER, spki)
            != ca.public_key().public_bytes(serialization.Encoding.DER, spki)):
        problems.append(("tls:ca_key", "is not the private key of tls:ca_cert"))
    return problems


def _resolve_rto(cfg):
    """The settings with the failover preset applied (``pgha_cluster.resolve_rto``, shared with
    the planner's cluster checks): (settings, the paths the preset filled, the preset's name)."""
    return __utils__["pgha_cluster.resolve_rto"](cfg)


def _check_rto(cfg, from_preset, preset, pillar, defaults):
    """Problems as (key, message) with the failover timings: patroni:rto_profile names a preset
    (rto_profiles, pgha's own: not in pillar), and the values resolved from it and pillar
    (``cfg``, see :py:func:`_resolve_rto`; ``from_preset`` the paths the preset filled) are ones
    Patroni, HAProxy and vip-manager take, Patroni's with loop_wait + 2 * retry_timeout <= ttl."""
    problems = []
    profiles = cfg.get("rto_profiles")
    lookup = pillar.get("lookup") if isinstance(pillar.get("lookup"), dict) else {}
    if isinstance(defaults, dict) and defaults:
        for key, where in (("rto_profiles", pillar), ("lookup:rto_profiles", lookup)):
            if "rto_profiles" in where:
                problems.append((key, "are pgha's own presets (parameters/defaults.yaml): choose one with "
                                 "patroni:rto_profile and override single keys (patroni:ttl, "
                                 "haproxy:check:inter, vip_manager:interval, ...) in pillar"))
    if not isinstance(profiles, dict) or not profiles:
        return problems + [("rto_profiles", "are missing from the parameters (parameters/defaults.yaml)")]
    if preset is None:
        problems.append(("patroni:rto_profile", f"must be one of {', '.join(sorted(map(str, profiles)))} "
                         f"(got {_get(cfg, 'patroni:rto_profile')!r})"))

    def number(path, minimum, unit, why=""):
        raw = _get(cfg, path)
        value = None if isinstance(raw, bool) else _int(raw)
        if raw is None and preset is None:
            return None     # left to the preset, which is unknown: reported above
        if value is None or value < minimum:
            problems.append((path, f"must be a whole number of {unit} >= {minimum}{why} (got {raw!r})"))
            return None
        return value

    timing = {key: number(f"patroni:{key}", minimum, "seconds", why)
              for key, minimum, why in PATRONI_TIMINGS}
    ttl, loop_wait, retry = timing["ttl"], timing["loop_wait"], timing["retry_timeout"]
    if None not in (ttl, loop_wait, retry) and loop_wait + 2 * retry > ttl:
        preset_keys = [k for k in ("ttl", "loop_wait", "retry_timeout") if f"patroni:{k}" in from_preset]
        origin = ""
        if preset_keys:
            one = len(preset_keys) == 1
            origin = (f"; {' and '.join(preset_keys)} {'comes' if one else 'come'} from rto_profile "
                      f"{preset}: set {'it' if one else 'them'} in pillar too, or choose another rto_profile")
        problems.append(("patroni:ttl", f"must be at least loop_wait + 2 * retry_timeout "
                         f"({loop_wait} + 2 * {retry}), got {ttl}{origin}"))
    for key in HAPROXY_CHECK_TIMES:
        raw = _get(cfg, f"haproxy:check:{key}")
        if raw is None and preset is None:
            continue
        match = None if isinstance(raw, bool) else HAPROXY_TIME_RE.match(str(raw))
        if not match or int(match.group(1)) == 0:
            problems.append((f"haproxy:check:{key}", f"must be an HAProxy time above 0 such as 500ms or 2s "
                             f"(got {raw!r})"))
    for key in HAPROXY_CHECK_COUNTS:
        number(f"haproxy:check:{key}", 1, "checks")
    number("vip_manager:interval", 1, "milliseconds")
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


def _check_unknown_keys(pillar, defaults, path=""):
    """Problems as (key, message) with pillar keys pgha does not know, each with the closest
    known key when one is close (a typo). ``defaults`` are the merged parameters; FREE_FORM
    mappings and mappings empty in the defaults take any key. No defaults: nothing to compare."""
    if not isinstance(defaults, dict) or not defaults:
        return []
    known, problems = set(map(str, defaults)), []
    if not path:
        known |= set(EXTRA_KEYS) | set(DISTRO_KEYS)
        if not isinstance(pillar.get("lookup", {}), dict):
            problems.append(("lookup", "must be a mapping of distro facts such as {pkgs: {etcd: [etcd]}}"))
    for key, value in pillar.items():
        name, full = str(key), f"{path}{key}"
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
            problems.append((full, f"unknown key; did you mean {path}{close[0]}?" if close
                             else "unknown key (pillar.example lists the known keys)"))
        elif isinstance(value, dict) and isinstance(defaults.get(name), dict) and full not in FREE_FORM:
            problems.extend(_check_unknown_keys(value, defaults[name], f"{full}:"))
    return problems


def _ipv4(value):
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        return None


def _check_addresses(cfg, context):
    """Problems as (key, message) with addresses: pgha:address, the etcd endpoints, the VIP's
    prefix length and, when ``context`` has this node's address, whether the VIP is in its
    subnet (on the nodes that hold the VIP: database nodes in Type B, balancers in Type A)."""
    problems = []
    own = cfg.get("address")
    if own not in (None, "") and not _ipv4(own):
        problems.append(("address", f"{own!r} is not an IPv4 address"))
    endpoints = _get(cfg, "etcd:endpoints")
    if not isinstance(endpoints, list):
        problems.append(("etcd:endpoints", f"must be a list of client URLs (got {endpoints!r})"))
        endpoints = []
    for i, url in enumerate(endpoints):
        parsed = urllib.parse.urlsplit(str(url))
        try:
            port = parsed.port
        except ValueError:
            port = None
        host = parsed.hostname or ""
        if (parsed.scheme not in ("http", "https") or not host or port is None
                or parsed.path not in ("", "/") or (re.fullmatch(r"[0-9.]+", host) and not _ipv4(host))):
            problems.append((f"etcd:endpoints:{i}", f"{url!r} is not an etcd client URL such as "
                             "http://10.0.0.21:2379"))
    router_id = _int(_get(cfg, "keepalived:virtual_router_id"))
    if router_id is None or not 1 <= router_id <= 255:
        problems.append(("keepalived:virtual_router_id", "must be 1-255 "
                         f"(got {_get(cfg, 'keepalived:virtual_router_id')!r})"))
    netmask = _int(_get(cfg, "vip_manager:netmask"))
    if netmask is None or not 1 <= netmask <= 32:
        problems.append(("vip_manager:netmask", "must be the VIP's prefix length, 1-32 "
                         f"(got {_get(cfg, 'vip_manager:netmask')!r})"))
        netmask = None
    vip, address = _ipv4(cfg.get("cluster_vip") or ""), _ipv4(context.get("address") or "")
    holder = "balancer" if cfg.get("with_haproxy_load_balancing") else "postgresql"
    if vip and address and netmask and holder in _roles(cfg):
        subnet = ipaddress.IPv4Network(f"{address}/{netmask}", strict=False)
        if vip == address:
            problems.append(("cluster_vip", f"{vip} is this node's own address: the VIP must be "
                             "an address no node has"))
        elif vip not in subnet:
            problems.append(("cluster_vip", f"{vip} is outside this node's subnet {subnet} "
                             "(vip_manager:netmask)"))
    return problems


def _hba_address_problem(text):
    """Why a pg_hba address is malformed, or None: a CIDR (10.0.0.0/24, fd00::/64), an address
    and a netmask ('10.0.0.0 255.255.255.0'), all, samehost, samenet or a host name."""
    if text in HBA_KEYWORDS or (HOSTNAME_RE.match(text) and not LOOKS_LIKE_IP_RE.search(text)):
        return None
    parts = text.split()
    try:
        if len(parts) == 2:
            ipaddress.ip_network(f"{parts[0]}/{parts[1]}", strict=False)
            return None
        if len(parts) == 1 and "/" in text:
            ipaddress.ip_network(text, strict=False)
            return None
        if len(parts) == 1:
            ipaddress.ip_address(text)
            return f"{text!r} needs a prefix length, e.g. {text}/{32 if '.' in text else 128}"
    except ValueError:
        pass
    return f"{text!r} is not a CIDR address such as 10.0.0.0/24, a host name, all, samehost or samenet"


def _check_pg_hba(cfg):
    """Problems as (key, message) with the extra pg_hba lines (postgresql:pg_hba)."""
    entries = _get(cfg, "postgresql:pg_hba")
    if not isinstance(entries, list):
        return [("postgresql:pg_hba", "must be a list of {type, database, user, address, method}")]
    problems = []
    for i, entry in enumerate(entries):
        key = f"postgresql:pg_hba:{i}"
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind not in HBA_TYPES:
            problems.append((key, f"needs a type: one of {', '.join(HBA_TYPES)} (got {kind or entry!r})"))
            continue
        needed = ("database", "user", "method") + (() if kind == "local" else ("address",))
        missing = [name for name in needed if not str(entry.get(name) or "").strip()]
        if missing:
            problems.append((key, f"needs {', '.join(missing)}"))
        elif kind != "local":
            why = _hba_address_problem(str(entry["address"]).strip())
            if why:
                problems.append((f"{key}:address", why))
    return problems


def _listening(cfg):
    """The port keys of what listens on this minion, for its roles, in a fixed order."""
    roles, keys = _roles(cfg), []
    if "postgresql" in roles:
        keys += ["postgresql:port", "patroni:restapi:port"]
        pgbouncer = _get(cfg, "pgbouncer:enabled")
        if pgbouncer is True or (pgbouncer == "auto" and cfg.get("with_haproxy_load_balancing")):
            keys.append("pgbouncer:port")
    if "etcd" in roles and not cfg.get("dcs_exists"):
        keys += ["etcd:client_port", "etcd:peer_port"]
    if "balancer" in roles:
        listeners = ["master", "replicas"]
        if _get(cfg, "patroni:synchronous_mode"):
            listeners += ["replicas_sync", "replicas_async"]
        keys += [f"haproxy:ports:{name}" for name in listeners + ["stats"]]
        direct = _get(cfg, "haproxy:direct_ports")
        keys += [f"haproxy:direct_ports:{name}" for name in DIRECT_PORTS
                 if isinstance(direct, dict) and name in direct]
    return keys


def _check_ports(cfg):
    """Problems as (key, message) with ports: each a number 1-65535, and no two components that
    run on this minion (by its roles) on the same port."""
    problems, ports = [], {}
    direct = _get(cfg, "haproxy:direct_ports")
    keys = list(PORT_KEYS) + [f"haproxy:direct_ports:{name}" for name in DIRECT_PORTS
                              if isinstance(direct, dict) and name in direct]
    for key in keys:
        port = _int(_get(cfg, key))
        if port is None or not 1 <= port <= 65535:
            problems.append((key, f"must be a port number 1-65535 (got {_get(cfg, key)!r})"))
        else:
            ports[key] = port
    taken = {}
    for key in _listening(cfg):
        if key not in ports:
            continue
        if ports[key] in taken:
            problems.append((key, f"port {ports[key]} is also {taken[ports[key]]}"))
        else:
            taken[ports[key]] = key
    return problems


def _check_version_available(cfg, context):
    """Problems as (key, message) with a PostgreSQL major the database node's package sources
    lack: postgresql:available_versions (from parameters/osfinger, os_family) lists the
    distro's, pgdg:versions PGDG's with pgdg:enabled. Not checked when unknown ([]) or when
    pkg_repo:url adds a package source."""
    available = _get(cfg, "postgresql:available_versions", [])
    if not isinstance(available, list) or None in map(_int, available):
        return [("postgresql:available_versions", "must be a list of PostgreSQL major versions "
                 f"such as [15] (got {available!r})")]
    if _get(cfg, "pgdg:enabled") is True and isinstance(_get(cfg, "pgdg:versions"), list):
        available = list(available) + list(_get(cfg, "pgdg:versions"))
    version = _int(_get(cfg, "postgresql:version"))
    if (not available or version is None or not 10 <= version <= 18
            or "postgresql" not in _roles(cfg) or _get(cfg, "pkg_repo:url")):
        return []
    majors = sorted(set(map(_int, available)))
    if version in majors:
        return []
    listed = ", ".join(map(str, majors))
    choice = listed if len(majors) == 1 else "one of those"
    return [("postgresql:version", f"{version} is not available on {context.get('os') or 'this OS'} "
             f"(available: {listed}); add a repository (pgdg:enabled, pkg_repo) that has it, list it in "
             f"postgresql:available_versions if this node's own sources have it, or choose {choice}")]


def check_cluster(pillars, defaults=None):
    """
    The cluster-wide problems and warnings no single minion's pillar shows: the etcd member
    count, synchronous replication with too few database nodes, Type A without balancers, and
    cluster settings (``pgha_cluster.CLUSTER_KEYS``) that differ between minions. ``pillars`` is
    ``{minion: pgha pillar}`` (pass only the roles and the cluster keys, never a password);
    ``defaults`` None reads this minion's parameters. Returns ``{"problems": [...],
    "warnings": [...]}``, each ``pgha:<key>: <message>``. The checks live in the utils module
    ``pgha_cluster`` (``saltutil.sync_utils``), which the ``pgha.plan`` runner runs on the
    master for the orchestrations.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.check_cluster '{"pg1": {"roles": [postgresql, etcd]}, "pg2": {"roles": [postgresql, etcd]}}'
    """
    if defaults is None:
        defaults = _defaults()
    return __utils__["pgha_cluster.check_cluster"](pillars, defaults)


def _defaults():
    """parameters/defaults.yaml merged with this minion's os_family/ and osfinger/ files, as
    map.jinja merges them; read once per run."""
    if "pgha.defaults" not in __context__:
        merged = {}
        for layer in ("defaults.yaml", f"os_family/{__grains__.get('os_family', '')}.yaml",
                      f"osfinger/{__grains__.get('osfinger', '')}.yaml"):
            text = __salt__["cp.get_file_str"](f"salt://pgha/parameters/{layer}")
            data = salt.utils.yaml.safe_load(text) if text else None
            if isinstance(data, dict):
                merged = salt.utils.dictupdate.merge(merged, data, merge_lists=False)
        __context__["pgha.defaults"] = merged
    return __context__["pgha.defaults"]


def _context(pillar_pgha):
    """What :py:func:`check` needs to know of this minion: its OS, and its cluster address when
    a VIP is set (the address may come from the network)."""
    context = {"os": __grains__.get("osfinger") or __grains__.get("os_family") or "",
               "os_family": __grains__.get("os_family") or ""}
    if isinstance(pillar_pgha, dict) and pillar_pgha.get("cluster_vip"):
        try:
            context["address"] = address()
        except CommandExecutionError as exc:
            log.warning("pgha.validate: no address to check cluster_vip's subnet against: %s", exc)
    return context


def validate():
    """
    Check this minion's ``pgha`` pillar. Returns the list of problems (empty when valid); each
    names the pillar key. Orchestrations run it on every cluster minion before changing anything.

    CLI Example:

    .. code-block:: bash

        salt -I 'pgha:cluster_name:main' pgha.validate
    """
    pillar_pgha = _pillar("pgha")
    return check(pillar_pgha, _defaults(), _context(pillar_pgha))


def tls_files():
    """
    The TLS files (``pgha:tls``) with which pgha's modules reach etcd from this node:
    ``{"ca": ..., "cert": ..., "key": ...}``, the cluster CA's certificate and a client
    certificate (an etcd member's own key pair, else the postgres user's on a database node,
    else none). ``{}`` when ``pgha:tls:enabled`` is false. The names are map.jinja's
    ``tls_files``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.tls_files
    """
    cfg = _merged(_defaults(), _pillar("pgha", {}) or {})
    if _get(cfg, "tls:enabled") is not True:
        return {}
    tls_dir, roles = _get(cfg, "paths:tls_dir"), _roles(cfg)
    files = {"ca": f"{tls_dir}/ca.crt"}
    service = ("etcd" if "etcd" in roles and not cfg.get("dcs_exists")
               else "postgres" if "postgresql" in roles else None)
    if service:
        files.update(cert=f"{tls_dir}/{service}.crt", key=f"{tls_dir}/{service}.key")
    return files
