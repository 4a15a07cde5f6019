"""
pgha's cross-key rules (the settings model, ``pgha_model``, types each key on its own): the
cluster's name and roles, the passwords each deployment needs, Type A's parts, PostgreSQL's
users and databases (reserved roles, duplicates), the failover timings, bootstrap and WAL-G,
and pillar keys pgha does not know. Each function returns problems as (key, message).
Network and package-source rules: ``pgha_rules_net``; host and TLS: ``pgha_rules_host``.
"""
import difflib
import os.path
import re
import runpy


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


_get = _sibling("pgha_cluster").get
_model = _sibling("pgha_model")
_watchdog = _sibling("pgha_watchdog")

SECRETS = (
    "postgresql:superuser:password",
    "postgresql:replication_user:password",
    "patroni:restapi:password",
)
DIRECT_PORTS = ("master", "replicas", "replicas_sync", "replicas_async")
TYPE_A_SECRETS = ("pgbouncer:auth_user:password", "haproxy:stats_password")
EXAMPLE_PASSWORD_PREFIX = "CHANGE-ME"
RESTORE_TYPES = ("default", "time", "lsn", "name", "xid", "immediate")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?|[A-Za-z_/]+)$")
LSN_RE = re.compile(r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$")
# WAL-G options pgha writes itself (where PostgreSQL is), never from pillar.
WAL_G_OWN_OPTIONS = ("PGDATA", "PGHOST", "PGPORT")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Pillar keys the formula reads that parameters/defaults.yaml does not define, and the distro
# facts (parameters/os_family) a pillar may override directly instead of through pgha:lookup.
EXTRA_KEYS = ("address", "lookup")
DISTRO_KEYS = ("pkgs", "paths", "services", "users")
# Mappings whose keys are the user's (options passed through as written): not checked for
# unknown keys. Patroni accepts tags of its own (failover_priority, nostream, ...) and any other.
FREE_FORM = ("lookup", "postgresql:parameters", "pgbackrest:repo", "pgbackrest:global",
             "wal_g:json", "patroni:tags", "haproxy:direct_ports", "system:sysctl:settings",
             "patroni:log:loggers")


def _int(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _roles(cfg):
    roles = cfg.get("roles")
    return set(map(str, roles)) if isinstance(roles, list) else set()


def pgbouncer_on(cfg):
    """Whether PgBouncer (and so its auth_query role) runs: pgbouncer:enabled, auto = Type A."""
    enabled = _get(cfg, "pgbouncer:enabled")
    return enabled is True or (enabled == "auto" and cfg.get("with_haproxy_load_balancing") is True)


def core(pillar_pgha, cfg, context):
    """Problems as (key, message) across keys: the cluster's name and roles, the passwords each
    deployment needs, Type A's parts, replicas and backups, PostgreSQL's users and databases.
    ``cfg`` is the merged settings with the failover preset resolved."""
    problems = []

    def bad(key, msg):
        problems.append((key, msg))

    if not pillar_pgha.get("cluster_name"):
        bad("cluster_name", "is missing: orchestrations find a cluster's minions by this pillar key")

    roles = cfg.get("roles")
    if not isinstance(roles, list) or not roles:
        bad("roles", "is missing: give each minion a list of roles (postgresql, etcd, balancer)")

    def secret(key, missing):
        value = _get(cfg, key)
        if value is None or (isinstance(value, str) and value.strip() == ""):
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
    direct = _get(cfg, "haproxy:direct_ports")
    unknown_ports = sorted(set(map(str, direct)) - set(DIRECT_PORTS)) if isinstance(direct, dict) else []
    if unknown_ports:
        bad("haproxy:direct_ports", f"unknown listener(s) {', '.join(unknown_ports)}; "
            f"known: {', '.join(DIRECT_PORTS)}")
    if cfg.get("with_haproxy_load_balancing"):
        if not cfg.get("cluster_vip"):
            bad("cluster_vip", "is required with with_haproxy_load_balancing: keepalived holds it")
        for key in TYPE_A_SECRETS:
            secret(key, "is missing or empty: with_haproxy_load_balancing needs it")

    if _get(cfg, "confd:enabled") and not (_get(cfg, "confd:url") and _get(cfg, "confd:source_hash")):
        bad("confd:url", "and confd:source_hash are both required with confd:enabled "
            "(confd is not packaged: Salt downloads the binary and checks it)")

    version = _int(_get(cfg, "postgresql:version"))
    if version is None or not 10 <= version <= 18:
        bad("postgresql:version", f"must be a PostgreSQL major version such as 15 "
            f"(got {_get(cfg, 'postgresql:version')!r})")

    pgbr = cfg.get("pgbackrest") if isinstance(cfg.get("pgbackrest"), dict) else {}
    schedule = pgbr.get("schedule") if isinstance(pgbr.get("schedule"), list) else []
    for i, entry in enumerate(schedule):     # the model types them: here, that both are given
        if isinstance(entry, dict) and (entry.get("type") in (None, "") or entry.get("on_calendar") in (None, "")):
            bad(f"pgbackrest:schedule:{i}", "needs type (full, diff or incr) and on_calendar "
                "(a systemd OnCalendar expression such as 'Sun *-*-* 01:00:00')")
    methods = _get(cfg, "patroni:create_replica_methods")
    if methods in (None, []):
        bad("patroni:create_replica_methods", "is empty: list how replicas are made, in order, from "
            "basebackup, pgbackrest, wal_g")
    elif not isinstance(methods, list):
        pass    # the model says why
    elif "pgbackrest" in methods and not pgbr.get("enabled"):
        bad("patroni:create_replica_methods", "has pgbackrest but pgbackrest:enabled is false")
    elif "wal_g" in methods and not _get(cfg, "wal_g:enabled"):
        bad("patroni:create_replica_methods", "has wal_g but wal_g:enabled is false")

    if cfg.get("postgresql_exists") is True and isinstance(roles, list) and "postgresql" not in roles:
        bad("postgresql_exists", "is true on a minion without the postgresql role")

    if cfg.get("dcs_exists") and isinstance(roles, list) and "etcd" in roles:
        bad("roles", "has etcd while dcs_exists is true: the existing etcd is used, deploy none")
    if cfg.get("dcs_exists") and not _get(cfg, "etcd:endpoints"):
        bad("etcd:endpoints", "is empty but dcs_exists is true: list the existing etcd's client URLs")
    problems.extend(_roles_and_databases(cfg))
    return problems


def _listed(cfg, key):
    value = _get(cfg, key)
    return value if isinstance(value, list) else []


def _reserved_roles(cfg):
    """{lower-case name: (name, its key)} of the roles pgha manages itself."""
    reserved = {}
    for key in ("postgresql:superuser:name", "postgresql:replication_user:name") + (
            ("pgbouncer:auth_user:name",) if pgbouncer_on(cfg) else ()):
        name = _get(cfg, key)
        if isinstance(name, str) and name:
            reserved.setdefault(name.lower(), (name, key))
    return reserved


def _roles_and_databases(cfg):
    """Problems as (key, message) with postgresql:users, databases and extensions: each has a
    name, users a password; no name twice; no user that is a role pgha manages itself."""
    problems, reserved, seen = [], _reserved_roles(cfg), {}
    for i, user in enumerate(_listed(cfg, "postgresql:users")):
        name = user.get("name") if isinstance(user, dict) else None
        if name is None or name == "":
            problems.append((f"postgresql:users:{i}", "needs a name"))
            continue
        if not isinstance(name, str):
            continue    # the model says why (a YAML-typed scalar)
        if name.lower() in reserved:
            own, key = reserved[name.lower()]
            same = "is" if own == name else f"equals {own!r} when case is ignored (unquoted SQL folds case), which is"
            problems.append((f"postgresql:users:{i}:name", f"{name!r} {same} a role pgha manages itself: set "
                             f"it with pgha:{key} and its password there, not under postgresql:users"))
        if name in seen:
            problems.append((f"postgresql:users:{i}:name", f"{name!r} is listed twice (also postgresql:users:{seen[name]})"))
        seen.setdefault(name, i)
        if user.get("state") == "absent":
            continue    # a role being dropped needs no password
        password = user.get("password")
        if password is None or password == "":
            problems.append((f"postgresql:users:{i}:password", f"is missing for user {name!r}"))
        elif str(password).startswith(EXAMPLE_PASSWORD_PREFIX):
            problems.append((f"postgresql:users:{i}:password", f"of user {name!r} is still the placeholder "
                             "from pillar.example: set a real password"))
    seen = {}
    for i, db in enumerate(_listed(cfg, "postgresql:databases")):
        name = db.get("name") if isinstance(db, dict) else None
        if name is None or name == "":
            problems.append((f"postgresql:databases:{i}", "needs a name"))
        elif not isinstance(name, str):
            continue
        elif name in seen:
            problems.append((f"postgresql:databases:{i}:name", f"{name!r} is listed twice "
                             f"(also postgresql:databases:{seen[name]})"))
        else:
            seen[name] = i
    for i, ext in enumerate(_listed(cfg, "postgresql:extensions")):
        if not isinstance(ext, dict) or not ext.get("name") or not ext.get("db"):
            problems.append((f"postgresql:extensions:{i}", "needs a name and a db"))
    return problems


def check_restore_target(restore, prefix="restore"):
    """
    Problems as (key, message) with a restore target: ``type`` (default, time, lsn, name,
    xid, immediate), ``target``, ``stanza`` and ``set``. ``prefix`` names where the keys came
    from in the messages. The execution module's ``pgha.check_restore_target`` calls it.
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


def rto(cfg, from_preset, preset, pillar, defaults):
    """Problems as (key, message) with the failover timings: patroni:rto_profile names a preset
    (rto_profiles, pgha's own: not in pillar), and Patroni's timings resolved from it and pillar
    (``cfg``, resolved by ``pgha_cluster.resolve_rto``; ``from_preset`` the paths the preset
    filled) keep loop_wait + 2 * retry_timeout <= ttl. The model types each timing."""
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

    def number(key):
        """The timing when the model takes it (it types each, and says why not), else None."""
        raw = _get(cfg, f"patroni:{key}")
        return None if list(_model.KEYS[f"patroni:{key}"].problems(raw, key)) or raw is None else raw

    ttl, loop_wait, retry = number("ttl"), number("loop_wait"), number("retry_timeout")
    if None not in (ttl, loop_wait, retry) and loop_wait + 2 * retry > ttl:
        preset_keys = [k for k in ("ttl", "loop_wait", "retry_timeout") if f"patroni:{k}" in from_preset]
        origin = ""
        if preset_keys:
            one = len(preset_keys) == 1
            origin = (f"; {' and '.join(preset_keys)} {'comes' if one else 'come'} from rto_profile "
                      f"{preset}: set {'it' if one else 'them'} in pillar too, or choose another rto_profile")
        problems.append(("patroni:ttl", f"must be at least loop_wait + 2 * retry_timeout "
                         f"({loop_wait} + 2 * {retry}), got {ttl}{origin}"))
    return problems


def watchdog(cfg, context=None):
    """Problems as (key, message) with Patroni's watchdog (patroni:watchdog) that no node can
    meet, found before anything changes: mode ``required`` inside a container (the kernel is
    the host's: pgha loads no softdog there, so Patroni would refuse to lead), and mode
    ``required`` with timings for which Patroni switches its watchdog off (ttl - safety_margin
    - loop_wait < 0). ``cfg`` has the failover preset resolved; ``context['container']`` is the
    minion's container ('' on a host). Mode automatic with such timings: pgha_cluster warns."""
    context = context or {}
    mode = _get(cfg, "patroni:watchdog:mode")
    if mode != "required" or "postgresql" not in _roles(cfg):     # Patroni runs on database nodes only
        return []
    problems = []
    if context.get("container"):
        problems.append(("patroni:watchdog:mode", f"is required but this minion runs in a container "
                         f"({context['container']}), which shares the host's kernel: pgha loads no "
                         "watchdog module there; set automatic (it falls back to off, reported) or off"))
    timing = [_get(cfg, f"patroni:{key}") for key in ("ttl", "loop_wait", "watchdog:safety_margin")]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in timing) and _watchdog.disabled_by_timing(*timing):
        ttl, loop_wait, margin = timing
        problems.append(("patroni:watchdog:safety_margin", f"is {margin} but Patroni switches the watchdog off "
                         f"when ttl - safety_margin - loop_wait < 0 ({ttl} - {margin} - {loop_wait}), and "
                         "mode is required: lower safety_margin or loop_wait, or raise ttl"))
    return problems


def bootstrap(cfg):
    """Problems as (key, message) with bootstrapping from a backup: the method, the restore
    target (pgha:restore), the archive setting. ``cfg`` is the merged pgha pillar."""
    problems = []
    method = _get(cfg, "patroni:bootstrap_method")     # one of them: the model says
    if method == "pgbackrest" and not _get(cfg, "pgbackrest:enabled"):
        problems.append(("patroni:bootstrap_method", "is pgbackrest but pgbackrest:enabled is false: "
                         "configure the repository to bootstrap from"))
    elif method == "wal_g" and not _get(cfg, "wal_g:enabled"):
        problems.append(("patroni:bootstrap_method", "is wal_g but wal_g:enabled is false: "
                         "configure WAL-G to bootstrap from"))
    restore = cfg.get("restore") if isinstance(cfg.get("restore"), dict) else {}
    problems.extend(check_restore_target(restore))
    return problems


def wal_g(cfg):
    """Problems as (key, message) with WAL-G: the binary, its options (pgha:wal_g:json), one WAL
    archive per cluster. ``cfg`` is the merged pgha pillar."""
    problems = []
    walg = cfg.get("wal_g") if isinstance(cfg.get("wal_g"), dict) else {}
    options = walg.get("json") if isinstance(walg.get("json"), dict) else {}    # typed by the model
    own = sorted(set(options) & set(WAL_G_OWN_OPTIONS))
    if own:
        problems.append(("wal_g:json", f"must not set {', '.join(own)}: pgha writes them from "
                         "postgresql:data_dir, postgresql:port and the socket directory"))
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
    for key, value in sorted(options.items(), key=lambda item: str(item[0])):
        if isinstance(value, str) and value.startswith(EXAMPLE_PASSWORD_PREFIX):
            problems.append((f"wal_g:json:{key}", "is still the placeholder from pillar.example: "
                             "set the real value"))
    return problems


def unknown_keys(pillar, defaults, path=""):
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
            problems.extend(unknown_keys(value, defaults[name], f"{full}:"))
    return problems
