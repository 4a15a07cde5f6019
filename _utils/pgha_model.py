"""
pgha's settings model: every key of ``pgha/parameters/defaults.yaml`` (and of os_family/,
osfinger/, and the pillar-only keys ``address`` and ``lookup``) declared once, with its type,
its grammar and autobase's variable for it. Defaults stay in defaults.yaml: this file says what
a value may be, not what it is. ``pgha_validate`` checks a pillar against it; the cross-key
rules live in ``pgha_rules*``. docs/configuration.md ("Grammars and reserved names") and
docs/autobase-mapping.md describe the same; unit tests compare them.
"""
import os.path
import re
import runpy


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


_t = _sibling("pgha_types")
_cluster = _sibling("pgha_cluster")
_g = _sibling("pgha_grammars")
Str, Bool, Int, Port, Enum, ListOf, Record, Map = (_t.Str, _t.Bool, _t.Int, _t.Port, _t.Enum, _t.ListOf,
                                                    _t.Record, _t.Map)

__virtualname__ = "pgha_model"


def __virtual__():
    return __virtualname__


# -- grammars ------------------------------------------------------------------------------------
NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"                  # pgBackRest stanzas, repository names
IFNAME = r"[A-Za-z0-9_.:@-]{1,15}"                     # Linux IFNAMSIZ (15 bytes), no '/', no space
BASIC_USER = r"[^:\s]+"                                # HTTP basic auth (RFC 7617): no ':' in the user
OS_USER = r"[a-z_][a-z0-9_-]{0,31}"                    # useradd's default NAME_REGEX
PKG = r"[A-Za-z0-9][A-Za-z0-9.+_{}-]*"                 # a package name; {version}, {language}
SERVICE = r"[A-Za-z0-9][A-Za-z0-9@._{}-]*"             # a systemd unit; {version}
NO_SPACE = r"\S+"
HAPROXY_TIME = r"[0-9]+(us|ms|s|m|h|d)?"
GUC = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?"   # work_mem, pg_stat_statements.max
PGBACKREST_OPTION = r"[a-z0-9][a-z0-9-]*"
PG_IDENTIFIER_BYTES = 63                               # NAMEDATALEN - 1


def identifier_problem(value):
    """Why ``value`` is not a PostgreSQL identifier pgha can quote (psycopg2.sql.Identifier):
    non-empty and at most 63 bytes in UTF-8 (PostgreSQL truncates longer ones silently, and
    the next run would not find what it created). Control characters: the sweep refuses them."""
    size = len(value.encode("utf-8"))
    if size > PG_IDENTIFIER_BYTES:
        return (f"is {size} bytes in UTF-8: PostgreSQL names are at most {PG_IDENTIFIER_BYTES} "
                f"bytes and it would truncate {value!r}")
    return None


def connstr_identifier_problem(value):
    """A database name written unquoted into PgBouncer's ``[databases]`` line (``dbname=...``)."""
    if re.search(r"[\s=;#'\"\\]", value):
        return f"must not contain spaces, '=', ';', '#', quotes or backslashes: PgBouncer's [databases] line (got {value!r})"
    return identifier_problem(value)


# PgBouncer's per-database options (its [databases] section) and what each takes.
POOL_INTS = ("pool_size", "min_pool_size", "reserve_pool", "max_db_connections", "max_db_client_connections",
             "server_lifetime")
POOL_WORDS = ("pool_mode", "auth_user", "client_encoding", "datestyle", "timezone", "application_name",
              "auth_dbname", "host", "port", "dbname", "user")


def pool_parameters_problem(value):
    """Why ``value`` is not PgBouncer per-database options (``pool_size=10 pool_mode=transaction``)."""
    example = "PgBouncer options such as 'pool_size=20 pool_mode=transaction'"
    if not re.fullmatch(POOL_PARAMETERS, value):
        return f"is not {example}: name=value words separated by single spaces (got {value!r})"
    for word in value.split(" "):
        name, _, setting = word.partition("=")
        if name not in POOL_INTS + POOL_WORDS:
            return f"{name!r} is not a PgBouncer database option; known: {', '.join(POOL_INTS + POOL_WORDS)}"
        if name in POOL_INTS and not (setting.isdigit() and setting.isascii() and int(setting) <= 1_000_000):
            return f"{name} must be a whole number from 0 to 1000000 (got {setting!r})"
        if name == "pool_mode" and setting not in ("session", "transaction", "statement"):
            return f"pool_mode must be session, transaction or statement (got {setting!r})"
    return None


def path(value):
    return _t.path_problem(value)


def data_path(value):
    return _t.path_problem(value, data_dir=True)


def Ident(**kw):
    return Str(identifier_problem, **kw)


def Path(**kw):
    return Str(path, **kw)


def Name(grammar, what, **kw):
    return Str(rf"^{grammar}$", what, **kw)


BOOT_ASCII = ("Patroni 3.0.2 (Debian 12) fails bootstrap with UnicodeDecodeError in create_or_update_role "
              "for a non-ASCII password, then renames the data directory; use ASCII letters, digits "
              "and punctuation")
REST_ASCII = ("it travels in an HTTP basic authentication header, which has no agreed character set: "
              "patronictl's urllib3 (1.26 on Debian 12) encodes it as Latin-1, Patroni compares UTF-8")

POOL_PARAMETERS = r"([a-z_]+=[^\s=;#'\"\\]+)( [a-z_]+=[^\s=;#'\"\\]+)*"
USER = Record({"name": Ident(), "password": Str(secret=True), "login": Bool(), "superuser": Bool(),
               "createdb": Bool(), "createrole": Bool(), "replication": Bool()}, closed=True)
DATABASE = Record({"name": Ident(), "owner": Ident(), "encoding": Name(NAME, "an encoding such as UTF8"),
                   "lc_collate": Name(NAME + r"(@[A-Za-z0-9]+)?", "a locale such as C.UTF-8"),
                   "lc_ctype": Name(NAME + r"(@[A-Za-z0-9]+)?", "a locale such as C.UTF-8")}, closed=True)
EXTENSION = Record({"name": Ident(), "db": Ident(), "schema": Ident()}, closed=True)
# a pg_hba line's fields; which of them a line needs (local has no address) is a rule's
HBA = Record({"type": Enum(*_g.HBA_TYPES), "database": Str(_g.hba_database_problem),
              "user": Str(_g.hba_user_problem), "address": Str(_g.hba_address_problem),
              "method": Enum(*_g.HBA_METHODS), "options": Str(_g.hba_options_problem)}, closed=True)
ROLES = ("postgresql", "etcd", "balancer", "pgbackrest", "monitor")   # monitor: issue 24
# an apt entry {name, url, dist, ...} or a yum entry {name, baseurl, ...}: which keys a minion's
# family takes, and the URLs, are pgha_rules_net.sources'
REPO = Record({"name": Name(NAME, "a name of letters, digits, '.', '_' or '-'"), "url": Str(),
               "dist": Name(NO_SPACE, "an apt distribution such as bookworm or ./"),
               "components": Str(r"^[A-Za-z0-9._-]+( [A-Za-z0-9._-]+)*$", "apt components such as 'main contrib'"),
               "signed_by": Path(), "key_text": Str(pem=True), "trusted": Bool(),
               "baseurl": Str(), "humanname": Str(), "gpgkey": Str(), "gpgcheck": Bool()})
SCHEDULE = Record({"type": Enum("full", "diff", "incr"), "on_calendar": Str()}, closed=True)
ETC_HOSTS_LINE = Record({"ip": Str(_g.ip_problem), "names": ListOf(Str(_g.host_name_problem))}, closed=True)
# Patroni's failover timings, each with the smallest value Patroni takes (it raises a smaller
# ttl or retry_timeout to it, so the pillar would not say what runs)
TTL = Int(20, None, "seconds", why="Patroni raises a smaller ttl to 20", autobase="patroni_ttl")
LOOP_WAIT = Int(1, None, "seconds", autobase="patroni_loop_wait")
RETRY_TIMEOUT = Int(3, None, "seconds", why="Patroni raises a smaller retry_timeout to 3",
                    autobase="patroni_retry_timeout")
PRIMARY_START_TIMEOUT = Int(0, None, "seconds", autobase="patroni_master_start_timeout")
HAPROXY_CHECK_TIME = Str(r"^0*[1-9][0-9]*(us|ms|s|m|h|d)?$", "an HAProxy time above 0 such as 500ms or 2s",
                         numbers=True)
HAPROXY_CHECK_COUNT = Int(1, None, "checks")
VIP_MANAGER_INTERVAL = Int(1, None, "milliseconds", autobase="vip_manager_interval")
HAPROXY_CHECK = {"inter": HAPROXY_CHECK_TIME, "fastinter": HAPROXY_CHECK_TIME, "downinter": HAPROXY_CHECK_TIME,
                 "rise": HAPROXY_CHECK_COUNT, "fall": HAPROXY_CHECK_COUNT}
SAFETY_MARGIN = Int(0, None, "seconds")
# a failover preset (rto_profiles): the same keys, the same types
PRESET = Record({
    "patroni": Record({"ttl": TTL, "loop_wait": LOOP_WAIT, "retry_timeout": RETRY_TIMEOUT,
                       "primary_start_timeout": PRIMARY_START_TIMEOUT,
                       # a preset may switch synchronous replication on (issue 18)
                       "synchronous_mode": Bool(), "synchronous_mode_strict": Bool(),
                       "watchdog": Record({"safety_margin": SAFETY_MARGIN}, closed=True)}, closed=True),
    "haproxy": Record({"check": Record(HAPROXY_CHECK, closed=True)}, closed=True),
    "vip_manager": Record({"interval": VIP_MANAGER_INTERVAL}, closed=True),
}, closed=True)
POOL = Record({"name": Str(connstr_identifier_problem), "dbname": Str(connstr_identifier_problem),
               "pool_parameters": Str(pool_parameters_problem)}, closed=True)

# -- application roles and objects (issue 22): autobase's shapes --------------------------------
# Role membership, removal and connection limits; a database's limit and its removal (behind
# drop: true); an extension's package and preload (pgha_extensions). Cross-key checks:
# pgha_rules_objects. The fields declared Any take autobase's shapes, a list or a comma (or, for
# functions, ':') separated string: pgha_rules_objects and pgha_privs check and split them.
Any = _t.Any
USER.fields.update({"role": Any(), "conn_limit": Int(-1, 1_000_000, digits=True),
                    "state": Enum("present", "absent"), "reassign_owned_to": Ident()})
DATABASE.fields.update({"conn_limit": Int(-1, 1_000_000, digits=True), "state": Enum("present", "absent"),
                        "drop": Bool()})
EXTENSION.fields.update({"package": Name(PKG, "a package name such as postgresql-{version}-foo"),
                         "preload": Bool()})
SCHEMA = Record({"schema": Ident(nonempty=True), "db": Ident(nonempty=True), "owner": Ident()}, closed=True)
PRIVS = Record({"role": Any(), "privs": Any(), "type": Any(), "db": Ident(nonempty=True), "objs": Any(),
                "schema": Ident(), "target_roles": Any(), "state": Enum("present", "absent"),
                "exact": Bool(), "grant_option": Bool()}, closed=True)
PG_IDENT = Record({"mapname": Str(nonempty=True), "system_username": Str(nonempty=True),
                   "pg_username": Str(nonempty=True)}, closed=True)

# Every key, as a colon path. Records and lists declare their items; Map takes any key.
KEYS = {
    "cluster_name": Str(_cluster.cluster_name_problem, autobase="patroni_cluster_name"),
    "roles": ListOf(Enum(*ROLES)),
    "cluster_vip": Str(_g.ipv4_problem, autobase="cluster_vip"),
    "vip_interface": Name(IFNAME, "a network interface name (at most 15 of A-Z a-z 0-9 _ . : @ -)",
                          autobase="vip_interface"),
    "with_haproxy_load_balancing": Bool(autobase="with_haproxy_load_balancing"),
    "dcs_exists": Bool(autobase="dcs_exists"),
    "postgresql_exists": Bool(autobase="postgresql_exists"),
    "address": Str(_g.ipv4_problem),
    "lookup": Map(),                                    # distro facts: the keys below say their types
    # package sources
    "pkg_repo:url": Str(), "pkg_repo:dist": Name(NO_SPACE, "an apt distribution such as bookworm or ./"),
    "pkg_repo:components": Str(r"^[A-Za-z0-9._-]+( [A-Za-z0-9._-]+)*$", "apt components such as 'main contrib'"),
    "pkg_repo:trusted": Bool(),
    "pkg_repos": ListOf(REPO, autobase="apt_repository"),
    "pgdg:enabled": Bool(autobase="install_postgresql_repo"), "pgdg:url": Str(), "pgdg:signed_by": Path(),
    "pgdg:gpgkey": Str(), "pgdg:versions": ListOf(Int(10, 99)), "pgdg:extras": Bool(),
    "pgdg:disable_dnf_module": Bool(),
    "epel:enabled": Bool(autobase="install_epel_repo"), "epel:url": Str(), "epel:gpgkey": Str(),
    "pip:index_url": Str(autobase="pip_package_repository"), "pip:find_links": Str(), "pip:no_index": Bool(),
    "proxy_env": Map(Str(), example="{https_proxy: 'http://proxy.example:3128'}", autobase="proxy_env"),
    # etcd
    "etcd:cluster_token": Name(NAME, "a name of letters, digits, '.', '_' or '-'", autobase="etcd_cluster_name"),
    "etcd:client_port": Port(), "etcd:peer_port": Port(),
    "etcd:data_dir": Str(data_path, autobase="etcd_data_dir"),
    "etcd:endpoints": ListOf(Str(_g.etcd_url_problem), "['http://10.0.0.21:2379']",
                             autobase="patroni_etcd_hosts"),
    "etcd:enable_v2": Enum("auto", True, False),
    "etcd:leader_apart": Enum("auto", True, False),
    "etcd:heartbeat_interval": Int(10, 10000, "milliseconds"),
    "etcd:election_timeout": Int(50, 50000, "milliseconds"),
    # PostgreSQL
    "postgresql:version": Int(digits=True, autobase="postgresql_version"),
    "postgresql:available_versions": ListOf(Int(10, 99, digits=True, what="a PostgreSQL major version"), "[15]"),
    "postgresql:port": Port(autobase="postgresql_port"),
    "postgresql:data_dir": Str(data_path, autobase="postgresql_data_dir"),
    "postgresql:wal_dir": Str(data_path, autobase="postgresql_wal_dir"),
    "postgresql:superuser:name": Ident(nonempty=True, autobase="patroni_superuser_username"),
    "postgresql:superuser:password": Str(secret=True, ascii=BOOT_ASCII, autobase="patroni_superuser_password"),
    "postgresql:replication_user:name": Ident(nonempty=True, autobase="patroni_replication_username"),
    "postgresql:replication_user:password": Str(secret=True, ascii=BOOT_ASCII,
                                                autobase="patroni_replication_password"),
    "postgresql:encoding": Name(NAME, "an encoding such as UTF8", autobase="postgresql_encoding"),
    "postgresql:locale": Name(NAME + r"(@[A-Za-z0-9]+)?", "a locale such as C.UTF-8", autobase="postgresql_locale"),
    "postgresql:data_checksums": Bool(autobase="postgresql_data_checksums"),
    # the values are free-form: each parameter has its own grammar, PostgreSQL checks them
    "postgresql:parameters": Map(names=GUC, what="a PostgreSQL parameter name such as work_mem",
                                 autobase="postgresql_parameters"),
    "postgresql:pg_hba": ListOf(HBA, autobase="postgresql_pg_hba"),
    "postgresql:users": ListOf(USER, autobase="postgresql_users"),
    "postgresql:databases": ListOf(DATABASE, autobase="postgresql_databases"),
    "postgresql:extensions": ListOf(EXTENSION, autobase="postgresql_extensions"),
    "postgresql:restore_command": Str(autobase="postgresql_restore_command"),
    # application objects (issue 22)
    "postgresql:schemas": ListOf(SCHEMA, autobase="postgresql_schemas"),
    "postgresql:privs": ListOf(PRIVS, autobase="postgresql_privs"),
    "postgresql:pg_ident": ListOf(PG_IDENT, autobase="postgresql_pg_ident"),
    "postgresql:extension_packages_from": Enum("debian", "pgdg_rpm"),   # distro fact (os_family/)
    # Patroni
    "patroni:install_method": Enum("pkg", "pip", autobase="patroni_installation_method"),
    "patroni:pip_version": Name(r"[0-9]+(\.[0-9]+)*([a-z]+[0-9]*)?", "a version such as 4.1.5"),
    "patroni:venv": Path(),
    "patroni:dcs_api": Enum("auto", "etcd", "etcd3"),
    "patroni:bootstrap_node": Name(NAME, "a minion id"),
    "patroni:rto_profile": Name(NAME, "a failover preset such as norm"),
    "patroni:ttl": TTL, "patroni:loop_wait": LOOP_WAIT, "patroni:retry_timeout": RETRY_TIMEOUT,
    "patroni:primary_start_timeout": PRIMARY_START_TIMEOUT,
    "patroni:maximum_lag_on_failover": Int(0, None, "bytes", autobase="patroni_maximum_lag_on_failover"),
    "patroni:synchronous_mode": Bool(autobase="synchronous_mode"),
    "patroni:synchronous_mode_strict": Bool(autobase="synchronous_mode_strict"),
    "patroni:synchronous_node_count": Int(1, None, autobase="synchronous_node_count"),
    "patroni:use_pg_rewind": Bool(autobase="patroni_postgresql_use_pg_rewind"),
    "patroni:use_slots": Bool(),
    "patroni:bootstrap_method": Enum("initdb", "pgbackrest", "wal_g",
                                     autobase="patroni_cluster_bootstrap_method"),
    "patroni:create_replica_methods": ListOf(Enum("basebackup", "pgbackrest", "wal_g"), "[basebackup]",
                                             autobase="patroni_create_replica_methods"),
    "patroni:failsafe_mode": Bool(autobase="patroni_failsafe_mode"),
    "patroni:tags": Map(),
    "patroni:tags:nofailover": Bool(), "patroni:tags:noloadbalance": Bool(),
    "patroni:tags:clonefrom": Bool(), "patroni:tags:nosync": Bool(),
    "patroni:restapi:port": Port(autobase="patroni_restapi_port"),
    "patroni:restapi:username": Name(BASIC_USER, "a user name without ':' or spaces (HTTP basic auth)",
                                     autobase="patroni_restapi_username"),
    "patroni:restapi:password": Str(secret=True, ascii=REST_ASCII, autobase="patroni_restapi_password"),
    "rto_profiles": Map(PRESET),
    # Patroni's watchdog
    "patroni:watchdog:mode": Enum("automatic", "required", "off", autobase="patroni_watchdog_mode"),
    "patroni:watchdog:device": Name(r"/dev/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*", "a device such as /dev/watchdog",
                                    autobase="patroni_watchdog_device"),
    "patroni:watchdog:safety_margin": SAFETY_MARGIN,
    # pgBackRest, restore, WAL-G
    "pgbackrest:enabled": Bool(autobase="pgbackrest_install"),
    "pgbackrest:stanza": Name(NAME, "a pgBackRest name", autobase="pgbackrest_stanza"),
    "pgbackrest:repo": Map(names=PGBACKREST_OPTION, what="a pgBackRest option such as retention-full",
                           autobase="pgbackrest_conf"),
    "pgbackrest:repo:type": Enum("posix", "s3", "gcs", "azure"),
    "pgbackrest:repo:path": Path(),
    "pgbackrest:repo_host_user": Name(OS_USER, "a user name such as pgbackrest", autobase="pgbackrest_repo_user"),
    "pgbackrest:global": Map(names=PGBACKREST_OPTION, what="a pgBackRest option such as compress-type"),
    "pgbackrest:schedule": ListOf(SCHEDULE),
    "restore:stanza": Name(NAME, "a pgBackRest name"),
    "restore:type": Enum("default", "time", "lsn", "name", "xid", "immediate"),
    "restore:target": Str(), "restore:set": Name(NAME, "a pgBackRest backup label such as 20261126-010000F"),
    "disable_archive_command": Bool(autobase="disable_archive_command"),
    "paused_archive_command": Str(),
    "wal_g:enabled": Bool(autobase="wal_g_install"), "wal_g:url": Str(autobase="wal_g_download_url"),
    "wal_g:source_hash": Name(NO_SPACE, "a hash such as sha256=<hex>"),
    "wal_g:bin": Path(autobase="wal_g_path"),
    # WAL-G reads its options as environment variables: names as such, values strings
    "wal_g:json": Map(Str(secret=True), names=r"[A-Za-z_][A-Za-z0-9_]*",
                      what="a WAL-G option name such as WALG_S3_PREFIX",
                      example="{WALG_S3_PREFIX: 's3://backups/main'}", autobase="wal_g_json"),
    "wal_g:backup_on_calendar": Str(), "wal_g:retain_full": Int(0, None, "backups", why="0 keeps every backup"),
    # operations
    "operations:max_replication_lag_bytes": Int(0, None, "bytes", autobase="max_replication_lag_bytes"),
    "operations:max_transaction_sec": Int(0, None, "seconds", autobase="max_transaction_sec"),
    "operations:update_target": Enum("postgres", "patroni", "system"),
    "operations:restart_timeout": Int(0, None, "seconds"),
    # issue 19: major upgrade (pgha.upgrade)
    "upgrade:remove_old_data": Bool(),
    "upgrade:remove_old_packages": Bool(autobase="pg_old_packages_remove"),
    "upgrade:update_extensions": Bool(autobase="update_extensions"),
    "upgrade:stanza_upgrade": Bool(autobase="pgbackrest_stanza_upgrade"),
    "upgrade:pgbouncer_pause": Bool(autobase="pgbouncer_pool_pause"),
    "upgrade:vacuumdb_parallel_jobs": Int(1, 256, autobase="vacuumdb_parallel_jobs"),
    "upgrade:start_stop_timeout": Int(1, None, "seconds", autobase="pg_start_stop_timeout"),
    # Type A: HAProxy, PgBouncer, confd, keepalived
    **{f"haproxy:ports:{name}": Port(autobase="haproxy_listen_port")
       for name in ("master", "replicas", "replicas_sync", "replicas_async", "stats")},
    "haproxy:direct_ports": Map(Port()),
    "haproxy:maxconn": Int(1, 10_000_000, autobase="haproxy_maxconn"),
    "haproxy:timeout_client": Name(HAPROXY_TIME, "an HAProxy time such as 30m", autobase="haproxy_timeout"),
    "haproxy:timeout_server": Name(HAPROXY_TIME, "an HAProxy time such as 30m", autobase="haproxy_timeout"),
    "haproxy:max_replication_lag": Int(0, None, "bytes", autobase="patroni_maximum_lag_on_replica"),
    **{f"haproxy:check:{name}": kind for name, kind in HAPROXY_CHECK.items()},
    "haproxy:stats_user": Name(BASIC_USER, "a user name without ':' or spaces (HTTP basic auth)"),
    "haproxy:stats_password": Str(secret=True),
    "pgbouncer:enabled": Enum("auto", True, False, autobase="pgbouncer_install"),
    "pgbouncer:port": Port(autobase="pgbouncer_listen_port"),
    "pgbouncer:pool_mode": Enum("session", "transaction", "statement", autobase="pgbouncer_default_pool_mode"),
    "pgbouncer:max_client_conn": Int(1, 1_000_000, autobase="pgbouncer_max_client_conn"),
    "pgbouncer:default_pool_size": Int(1, 100_000, autobase="pgbouncer_default_pool_size"),
    "pgbouncer:auth_user:name": Ident(nonempty=True, autobase="pgbouncer_auth_username"),
    "pgbouncer:auth_user:password": Str(secret=True, autobase="pgbouncer_auth_password"),
    "pgbouncer:pools": ListOf(POOL, autobase="pgbouncer_pools"),
    # issue 21: PgBouncer's settings by version (pgha_rules_pgbouncer), Type B, switchover
    "pgbouncer:version": Name(r"([0-9]+\.[0-9]+(\.[0-9]+)?)?", "a PgBouncer version such as '1.18' (a string)"),
    "pgbouncer:processes": Int(1, 64, autobase="pgbouncer_processes"),
    "pgbouncer:max_db_connections": Int(0, 1_000_000, autobase="pgbouncer_max_db_connections"),
    "pgbouncer:max_prepared_statements": Int(0, 1_000_000, autobase="pgbouncer_max_prepared_statements"),
    "pgbouncer:query_wait_timeout": Int(0, 86_400, "seconds", autobase="pgbouncer_query_wait_timeout"),
    "pgbouncer:auth_user:enabled": Bool(autobase="pgbouncer_auth_user"),
    "pgbouncer:auth_dbname": Str(connstr_identifier_problem, autobase="pgbouncer_auth_dbname"),
    "pgbouncer:switchover_pause": Bool(),
    "pgbouncer:pause_timeout": Int(1, 3600, "seconds"),
    "confd:enabled": Bool(), "confd:url": Str(), "confd:source_hash": Name(NO_SPACE, "a hash such as sha256=<hex>"),
    "confd:bin": Path(),
    "keepalived:virtual_router_id": Int(1, 255, what="a VRRP router id"),
    "keepalived:interface": Name(IFNAME, "a network interface name (at most 15 of A-Z a-z 0-9 _ . : @ -)",
                                 autobase="vip_interface"),
    "keepalived:unicast": Bool(), "keepalived:advert_int": Int(1, 255, "seconds"),
    # firewall, host preparation, TLS (pgha_rules_host: what crosses keys)
    "firewall:enabled": Bool(autobase="firewall"), "firewall:ssh_port": Port(),
    "firewall:client_sources": ListOf(Str(_g.network_problem), "['10.1.0.0/16'], [] for any"),
    "firewall:extra_ports": ListOf(Port(), "[9100]", autobase="firewall_allowed_tcp_ports_for"),
    "firewall:extra_rules": ListOf(Name(r".*\S.*", "a one-line nftables rule"),
                                   "['ip saddr 10.9.0.0/16 tcp dport 9187 accept']",
                                   autobase="firewall_additional_rules_for"),
    "system:sysctl:enabled": Bool(autobase="sysctl_set"),
    # the values are the kernel's own words: a number, a one-line string or ~ (pgha_rules_host)
    "system:sysctl:settings": Map(names=_g.SYSCTL_NAME, what="a sysctl name such as vm.swappiness",
                                  example="{vm.swappiness: 1}",
                                  autobase="sysctl_conf"),
    "system:huge_pages": Int(0, None, what="a number of 2 MiB huge pages", why="0 for none"),
    "system:transparent_huge_pages": Enum("never", "madvise", "", why="'' leaves it alone",
                                           autobase="disable_thp"),
    "system:limits:enabled": Bool(autobase="set_limits"),
    "system:limits:user": Name(OS_USER, "a user name such as postgres", autobase="limits_user"),
    "system:limits:soft_nofile": Int(1024, None, what="a number of open files", autobase="soft_nofile"),
    "system:limits:hard_nofile": Int(1024, None, what="a number of open files", autobase="hard_nofile"),
    "system:locales": ListOf(Name(_g.LOCALE, "a locale such as en_US.UTF-8"), "[en_US.UTF-8], [] for none",
                             autobase="locale_gen"),
    "system:default_locale": Name(_g.LOCALE, "a locale such as en_US.UTF-8", autobase="locale"),
    "system:etc_hosts:enabled": Bool(),
    "system:etc_hosts:extra": ListOf(ETC_HOSTS_LINE, "[{ip: 10.0.0.50, names: [backup.example.com]}]",
                                     autobase="etc_hosts"),
    "system:time_sync:enabled": Bool(autobase="ntp_enabled"),
    "system:time_sync:daemon": Enum("chrony", "ntpsec", autobase="ntp_package"),
    "system:time_sync:servers": ListOf(Str(_g.server_problem), "[ntp1.example.com, 10.0.0.5]",
                                       autobase="ntp_servers"),
    "tls:enabled": Bool(autobase="tls_cert_generate"), "tls:ca_cert": Str(pem=True),
    "tls:ca_key": Str(pem=True, secret=True),
    "tls:require_ssl": Bool(), "tls:etcd_client_cert_auth": Bool(autobase="etcd_client_cert_auth"),
    "tls:extra_sans": ListOf(Str(_g.san_problem), "['DNS:db.example.com', 'IP:192.0.2.10']"),
    "tls:days_valid": Int(1, None, "days", autobase="tls_cert_valid_days"),
    "tls:days_remaining": Int(0, None, "days"),
    # Type B: vip-manager
    "vip_manager:enabled": Enum("auto", True, False), "vip_manager:major_version": Int(1, 9),
    "vip_manager:pkg_source": Str(), "vip_manager:pkg_source_hash": Name(NO_SPACE, "a hash such as sha256=<hex>"),
    "vip_manager:netmask": Int(1, 32, what="the VIP's prefix length", autobase="vip_manager_mask"),
    "vip_manager:interval": VIP_MANAGER_INTERVAL,
    # distro facts (parameters/os_family, osfinger; pillar pgha:lookup or pgha directly)
    "pkgs": Map(ListOf(Name(PKG, "a package name"))),
    "paths": Map(Str(path)),
    "services": Map(Name(SERVICE, "a systemd unit name")),
    "users": Map(Name(OS_USER, "a user name such as postgres")),
}

# Strings that may span lines (PEM blocks): every other string is refused a control character.
MULTILINE = (re.compile(r"^tls:ca_cert$"), re.compile(r"^tls:ca_key$"), re.compile(r"^pkg_repos:\d+:key_text$"),
             re.compile(r"^patroni:callbacks:\d+:contents$"))


# -- Patroni's and etcd's own settings, version pins (issue 23) --------------------------------
SLOT_NAME = r"[a-z0-9_]{1,63}"                         # PostgreSQL: lower case, digits, '_'
LOG_LEVEL = r"(DEBUG|INFO|WARNING|ERROR|CRITICAL|debug|info|warning|error|critical)"  # Python logging's
CALLBACK_ACTIONS = ("on_start", "on_stop", "on_restart", "on_reload", "on_role_change")
# a package version: Debian's (15.18-0+deb12u1, 3.0.2-1) or a prefix of one (15.18, 3.0)
PKG_VERSION = r"[0-9][A-Za-z0-9.+~:-]*"


def namespace_problem(value):
    """Why ``value`` is not an etcd namespace pgha can build key paths under: absolute, path
    segments of letters, digits, '.', '_' or '-', no '..' (vip-manager's trigger key and
    confd's prefix are written from it)."""
    if not re.fullmatch(r"/([A-Za-z0-9._-]+/?)*", value) or "//" in value:
        return ("must be an absolute etcd key prefix such as /service/: '/' then path segments "
                f"of letters, digits, '.', '_' or '-' (got {value!r})")
    if ".." in value.split("/") or "." in value.split("/"):
        return f"must not contain a '.' or '..' segment (got {value!r})"
    return None


def minor_problem(value):
    """A PostgreSQL minor pin: '' (the newest), a minor number ('18' for 15.18, autobase's
    postgresql_version_minor) or 'latest'."""
    if value in ("", "latest") or re.fullmatch(r"[0-9]{1,3}", value):
        return None
    return f"must be a minor release number such as '18' (for 15.18), 'latest' or '' (got {value!r})"


SLOT = Record({"slot": Name(SLOT_NAME, "a slot name of lower case letters, digits and '_'", nonempty=True),
               "type": Enum("physical", "logical"), "plugin": Name(NAME, "a decoding plugin such as pgoutput"),
               "database": Ident()}, closed=True)
CALLBACK = Record({"action": Enum(*CALLBACK_ACTIONS),
                   "source": Str(r"^salt://\S+$", "a salt:// URL of the script"),
                   "contents": Str()}, closed=True)
KEYS.update({
    "patroni:slots": ListOf(SLOT, autobase="patroni_slots"),
    "patroni:logical_slots_restart_replicas": Bool(),
    "patroni:callbacks": ListOf(CALLBACK, autobase="patroni_callbacks"),
    "patroni:remove_data_directory_on_rewind_failure": Bool(
        autobase="patroni_remove_data_directory_on_rewind_failure"),
    "patroni:remove_data_directory_on_diverged_timelines": Bool(
        autobase="patroni_remove_data_directory_on_diverged_timelines"),
    "patroni:log:destination": Enum("journal", "logfile", autobase="patroni_log_destination"),
    "patroni:log:dir": Path(autobase="patroni_log_dir"),
    "patroni:log:level": Name(LOG_LEVEL, "a log level such as WARNING", autobase="patroni_log_level"),
    "patroni:log:traceback_level": Name(LOG_LEVEL, "a log level such as ERROR",
                                        autobase="patroni_log_traceback_level"),
    "patroni:log:format": Str(autobase="patroni_log_format"),
    "patroni:log:dateformat": Str(autobase="patroni_log_dateformat"),
    "patroni:log:max_queue_size": Int(1, 1_000_000, autobase="patroni_log_max_queue_size"),
    "patroni:log:file_num": Int(1, 1000, autobase="patroni_log_file_num"),
    "patroni:log:file_size": Int(4096, None, "bytes", autobase="patroni_log_file_size"),
    "patroni:log:loggers": Map(Name(LOG_LEVEL, "a log level such as WARNING"), names=r"[A-Za-z0-9_.]+",
                               what="a Python logger name such as urllib3"),
    "patroni:etcd:namespace": Str(namespace_problem, autobase="patroni_etcd_namespace"),
    "patroni:etcd:username": Name(r"[A-Za-z0-9._-]+", "an etcd user name of letters, digits, '.', '_' or '-'",
                                  autobase="patroni_etcd_username"),
    "patroni:etcd:password": Str(secret=True, autobase="patroni_etcd_password"),
    "patroni:etcd:root_password": Str(secret=True),
    "patroni:pending_restart": Bool(autobase="pending_restart"),
    "patroni:packaged_version": Name(PKG_VERSION, "a version such as 3.0.2"),
    "postgresql:version_minor": Str(minor_problem, autobase="postgresql_version_minor"),
    "patroni:version": Name(PKG_VERSION, "a package version such as 3.0.2 or 3.0.2-1"),
    "etcd:version": Name(PKG_VERSION, "a package version such as 3.4.23 or 3.4.23-4+b4", autobase="etcd_version"),
})


# -- monitoring (issue 24, pgha_rules_monitoring) -------------------------------------------------
PROM_DURATION = r"([0-9]+(ms|s|m|h|d|w|y))+"          # Prometheus' durations: 30s, 1h30m, 15d
KEYS.update({
    "monitoring:enabled": Bool(),
    "monitoring:user:name": Ident(nonempty=True),
    "monitoring:user:password": Str(secret=True),
    **{f"monitoring:ports:{name}": Port() for name in ("node_exporter", "postgres_exporter", "pgbouncer_exporter",
                                                       "etcd_metrics", "haproxy_exporter", "prometheus",
                                                       "alertmanager")},
    "monitoring:retention": Name(PROM_DURATION, "a Prometheus duration such as 15d"),
    "monitoring:scrape_interval": Name(PROM_DURATION, "a Prometheus duration such as 15s"),
    "monitoring:evaluation_interval": Name(PROM_DURATION, "a Prometheus duration such as 15s"),
    "monitoring:textfile_interval": Int(5, 3600, "seconds"),
    # h9-mon: whether this release runs PgBouncer's exporter (parameters/osfinger; docs/monitoring.md)
    "monitoring:pgbouncer_exporter": Bool(),
    "monitoring:clusters": ListOf(Name(r"[A-Za-z0-9][A-Za-z0-9._-]*", "a cluster name (pgha:cluster_name)")),
    "monitoring:alertmanager:webhook_url": Str(r"^(https?://\S+)?$", "an http(s) URL or ''"),
    "monitoring:alerts:no_leader_for": Name(PROM_DURATION, "a Prometheus duration such as 30s"),
    "monitoring:alerts:member_down_for": Name(PROM_DURATION, "a Prometheus duration such as 1m"),
    "monitoring:alerts:lag_for": Name(PROM_DURATION, "a Prometheus duration such as 2m"),
    "monitoring:alerts:leader_change_window": Name(PROM_DURATION, "a Prometheus duration such as 10m"),
    "monitoring:alerts:paused_for": Name(PROM_DURATION, "a Prometheus duration such as 1h"),
    "monitoring:alerts:pending_restart_for": Name(PROM_DURATION, "a Prometheus duration such as 1h"),
    "monitoring:alerts:replication_lag_bytes": Int(0, None, "bytes"),
    "monitoring:alerts:slot_retained_bytes": Int(0, None, "bytes"),
    "monitoring:alerts:pgbouncer_waiting_clients": Int(0, 1_000_000),
    "monitoring:alerts:backup_age_hours": Int(1, 100_000, "hours"),
    "monitoring:alerts:disk_free_percent": Int(1, 99, "percent"),
    "monitoring:alerts:cert_days": Int(1, 3650, "days"),
})


def keys():
    """The model: ``{colon path: type}`` (CLI: ``__utils__["pgha_model.keys"]()``)."""
    return KEYS


def autobase():
    """``{pgha key: autobase variable}`` for every key that has one."""
    return {key: kind.autobase for key, kind in KEYS.items() if kind.autobase}


# -- standby clusters (issue 20, pgha_standby) --------------------------------------------------
# This cluster as a standby of another (autobase's patroni_standby_cluster.*), and the main
# cluster's side: its standby clusters' addresses and slots. Cross-key rules: pgha_standby.rules.
STANDBY_OF = Record({"name": Str(_cluster.cluster_name_problem),
                     "addresses": ListOf(Str(_g.network_problem), "['10.0.1.11', '10.0.1.0/24']"),
                     "slot": Name(SLOT_NAME, "a slot name of lower case letters, digits and '_'"),
                     # its nodes restore from this cluster's pgBackRest repository host (SSH trust there)
                     "pgbackrest": Bool()}, closed=True)


def standby_host_problem(value):
    """The main cluster's address: a host name or an IP address, or '' (not a standby)."""
    if not value or _g.server_problem(value) is None:
        return None
    return f"{value!r} is not a host name or an IP address (the main cluster's VIP, or a member's)"


KEYS.update({
    "standby_cluster:host": Str(standby_host_problem, autobase="patroni_standby_cluster"),
    "standby_cluster:port": Port(autobase="patroni_standby_cluster"),
    "standby_cluster:primary_slot_name": Str(autobase="patroni_standby_cluster"),
    "standby_cluster:create_replica_methods": ListOf(Enum("basebackup", "pgbackrest", "wal_g"), "[basebackup]",
                                                     autobase="patroni_standby_cluster"),
    "standby_cluster:restore_command": Str(autobase="patroni_standby_cluster"),
    "standby_cluster:recovery_min_apply_delay": Name(r"([0-9]+(us|ms|s|min|h|d)?)?",
                                                     "a delay such as 5min or 300000 (milliseconds)",
                                                     numbers=True,
                                                     autobase="patroni_standby_cluster"),
    "standby_cluster:cluster": Str(lambda v: v and _cluster.cluster_name_problem(v)),
    "standby_clusters": ListOf(STANDBY_OF, "[{name: dr, addresses: ['10.0.1.11'], slot: dr}]"),
})
# A standby cluster that restores from its main cluster's pgBackRest repository host (h10-drrepo):
# the main's stanza and repository user; the host itself is the main's minion with role pgbackrest.
KEYS.update({
    "standby_cluster:pgbackrest:enabled": Bool(),
    "standby_cluster:pgbackrest:stanza": Name(NAME, "a pgBackRest name (the main cluster's stanza)"),
    "standby_cluster:pgbackrest:repo_host_user": Name(OS_USER, "a user name such as pgbackrest"),
})
