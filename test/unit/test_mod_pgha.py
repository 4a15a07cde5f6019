"""Unit tests of the pgha execution module (_modules/pgha.py)."""
import copy
from pathlib import Path
from unittest.mock import MagicMock, patch

import pgha
import pytest
import salt.utils.dictupdate
import yaml
from salt.exceptions import CommandExecutionError

from pgha_unit_helpers import PGHA_UTILS

try:  # pillar masking (MaskedDict) came in Salt 3008; 3006 and 3007 have no such module
    import salt.utils.secret as salt_secret
except ImportError:
    salt_secret = None

# what Salt 3008's pillar.get returns for a masked value (salt.utils.secret.REDACT_PLACEHOLDER)
REDACT_PLACEHOLDER = getattr(salt_secret, "REDACT_PLACEHOLDER", "**********")

DELETE = object()
REPO = Path(__file__).resolve().parents[2]
PARAMETERS = REPO / "pgha" / "parameters"
# osfinger -> os_family of the distributions the tables use
OS_FAMILY = {"Debian-12": "Debian", "Debian-13": "Debian", "Rocky Linux-9": "RedHat",
             "Rocky Linux-8": "RedHat", "AlmaLinux-9": "RedHat", "AlmaLinux-8": "RedHat",
             "Ubuntu-24.04": "Debian", "SLES-15": "Suse"}

VALID = {
    "cluster_name": "main",
    "roles": ["postgresql", "etcd"],
    "cluster_vip": "10.0.0.100",
    "postgresql": {
        "superuser": {"password": "su-secret"},
        "replication_user": {"password": "repl-secret"},
    },
    "patroni": {"restapi": {"password": "rest-secret"}},
}

INTERFACES = {
    "lo": {"up": True, "inet": [{"address": "127.0.0.1", "netmask": "255.0.0.0"}]},
    "eth0": {"up": True, "inet": [{"address": "192.168.1.5", "netmask": "255.255.255.0"}]},
    "eth1": {
        "up": True,
        "inet": [
            # the VIP first, as `ip addr` may list it: it is never the node's address
            {"address": "10.0.0.100", "netmask": "255.255.255.0"},
            {"address": "10.0.0.11", "netmask": "255.255.255.0"},
        ],
    },
}


TYPE_A = {
    "with_haproxy_load_balancing": True,
    "pgbouncer": {"auth_user": {"password": "pgb-secret"}},
    "haproxy": {"stats_password": "stats-secret"},
}

WAL_G = {"wal_g": {"enabled": True, "url": "https://mirror.example/wal-g-pg-ubuntu-22.04-amd64",
                   "source_hash": "sha256=" + "0" * 64,
                   "json": {"WALG_S3_PREFIX": "s3://backups/main", "AWS_SECRET_ACCESS_KEY": "s3-secret"}}}


@pytest.fixture
def configure_loader_modules():
    return {
        pgha: {
            "__salt__": {},
            "__opts__": {"id": "pg1", "test": False},
            "__pillar__": {"pgha": copy.deepcopy(VALID)},
            "__grains__": {"os_family": "Debian", "osfinger": "Debian-12"},
            "__context__": {},
            "__utils__": PGHA_UTILS,
        }
    }


def _with(base, override):
    """Deep-merge ``override`` into a copy of ``base``; DELETE removes a key."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if value is DELETE:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _with(result[key], value)
        else:
            result[key] = value
    return result


def _parameter_file(url):
    """cp.get_file_str for salt://pgha/parameters/...: the repository's file, False if none."""
    path = PARAMETERS / url.split("salt://pgha/parameters/", 1)[1]
    return path.read_text() if path.is_file() else False


def _os_defaults(defaults, osfinger):
    """defaults.yaml merged with the os_family/ and osfinger/ files, as pgha._defaults does."""
    merged = copy.deepcopy(defaults)
    for layer in (f"os_family/{OS_FAMILY[osfinger]}.yaml", f"osfinger/{osfinger}.yaml"):
        text = _parameter_file(f"salt://pgha/parameters/{layer}")
        if text:
            merged = salt.utils.dictupdate.merge(merged, yaml.safe_load(text), merge_lists=False)
    return merged


def _network(interfaces=None, routes=None):
    routes = [{"addr_family": "inet", "interface": "eth1", "gateway": "10.0.0.1"}] \
        if routes is None else routes
    default_route = routes if callable(routes) else MagicMock(return_value=routes)
    return {
        "network.interfaces": MagicMock(return_value=INTERFACES if interfaces is None else interfaces),
        "network.default_route": default_route,
    }


def test_virtual():
    assert pgha.__virtual__() == "pgha"


# -- address / interface -----------------------------------------------------------------------

def test_address_from_pillar_does_not_look_at_interfaces():
    interfaces = MagicMock()
    with patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"address": "172.16.0.9"})}), \
            patch.dict(pgha.__salt__, {"network.interfaces": interfaces}):
        assert pgha.address() == "172.16.0.9"
    interfaces.assert_not_called()


def test_address_reads_pillar_directly_not_masked_pillar_get():
    """Salt 3008's pillar.get masks values outside templates: the module must not use it."""
    masked_get = MagicMock(return_value=REDACT_PLACEHOLDER)
    with patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"address": "172.16.0.9"})}), \
            patch.dict(pgha.__salt__, {"pillar.get": masked_get, **_network()}):
        assert pgha.address() == "172.16.0.9"
        assert pgha.address() != REDACT_PLACEHOLDER
    masked_get.assert_not_called()


def test_address_is_the_default_route_interface_address_never_the_vip():
    net = _network()
    with patch.dict(pgha.__salt__, net):
        assert pgha.address() == "10.0.0.11"
        assert pgha.interface() == "eth1"
    net["network.default_route"].assert_called_with("inet")


def test_address_without_vip_in_pillar_takes_the_first_address():
    with patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"cluster_vip": DELETE})}), \
            patch.dict(pgha.__salt__, _network()):
        assert pgha.address() == "10.0.0.100"


@pytest.mark.parametrize("routes", [
    [],                                                         # no default route
    [{"addr_family": "inet", "interface": "wg0"}],              # route via an unknown interface
    MagicMock(side_effect=CommandExecutionError("no route")),  # network.default_route fails
], ids=["no-route", "unknown-interface", "route-error"])
def test_address_without_usable_route_prefers_eth0_and_skips_loopback(routes):
    with patch.dict(pgha.__salt__, _network(routes=routes)):
        assert pgha.address() == "192.168.1.5"
        assert pgha.interface() == "eth0"


def test_address_route_interface_holding_only_the_vip_falls_back():
    interfaces = {
        "lo": INTERFACES["lo"],
        "eth1": {"inet": [{"address": "10.0.0.100", "netmask": "255.255.255.0"}]},
        "ens3": {"inet": [{"address": "10.1.0.7", "netmask": "255.255.0.0"}]},
    }
    with patch.dict(pgha.__salt__, _network(interfaces=interfaces)):
        assert pgha.address() == "10.1.0.7"
        assert pgha.interface() == "ens3"


def test_address_none_when_only_loopback():
    with patch.dict(pgha.__salt__, _network(interfaces={"lo": INTERFACES["lo"]}, routes=[])):
        assert pgha.address() is None
        assert pgha.interface() is None


# -- check (table-driven) --------------------------------------------------------------------

CHECK_CASES = [
    # (id, pillar override, substrings that must appear in the problems)
    ("valid", {}, []),
    ("valid-version-as-string", {"postgresql": {"version": "16"}}, []),
    ("valid-pip-etcd-v2", {"patroni": {"install_method": "pip", "dcs_api": "etcd"}}, []),
    ("valid-no-vip", {"cluster_vip": ""}, []),
    ("valid-dcs-exists", {"dcs_exists": True, "roles": ["postgresql"],
                          "etcd": {"endpoints": ["http://10.0.0.21:2379"]}}, []),
    ("valid-users", {"postgresql": {
        "users": [{"name": "app", "password": "pw"}],
        "databases": [{"name": "appdb", "owner": "app"}],
        "extensions": [{"name": "pg_trgm", "db": "appdb"}]}}, []),
    ("missing-superuser-password", {"postgresql": {"superuser": DELETE}},
     ["pgha:postgresql:superuser:password"]),
    ("empty-superuser-password", {"postgresql": {"superuser": {"password": ""}}},
     ["pgha:postgresql:superuser:password: is missing or empty"]),
    ("blank-replication-password", {"postgresql": {"replication_user": {"password": "  "}}},
     ["pgha:postgresql:replication_user:password"]),
    ("missing-restapi-password", {"patroni": DELETE}, ["pgha:patroni:restapi:password"]),
    ("placeholder-password", {"patroni": {"restapi": {"password": "CHANGE-ME-rest"}}},
     ["pgha:patroni:restapi:password: is still the placeholder from pillar.example"]),
    ("cluster-name-only-from-defaults", {"cluster_name": DELETE},
     ["pgha:cluster_name: is missing: orchestrations find a cluster's minions"]),
    ("bad-cluster-name", {"cluster_name": "my cluster"}, ["pgha:cluster_name", "'my cluster'"]),
    ("empty-cluster-name", {"cluster_name": ""}, ["pgha:cluster_name"]),
    ("cluster-name-not-a-string", {"cluster_name": 42}, ["pgha:cluster_name"]),
    ("missing-roles", {"roles": DELETE}, ["pgha:roles: is missing"]),
    ("empty-roles", {"roles": []}, ["pgha:roles: is missing"]),
    ("roles-not-a-list", {"roles": "postgresql"}, ["pgha:roles: is missing"]),
    ("unknown-roles", {"roles": ["postgresql", "postgres", "haproxy"]},
     ["pgha:roles:1: must be one of postgresql, etcd, balancer, pgbackrest, monitor (got 'postgres')",
      "pgha:roles:2: must be one of postgresql, etcd, balancer, pgbackrest, monitor (got 'haproxy')"]),
    ("bad-vip", {"cluster_vip": "10.0.0.300"}, ["pgha:cluster_vip", "'10.0.0.300' is not an IPv4"]),
    ("vip-with-prefix", {"cluster_vip": "10.0.0.100/24"}, ["pgha:cluster_vip"]),
    ("ipv6-vip", {"cluster_vip": "fd00::100"}, ["pgha:cluster_vip"]),
    ("version-too-old", {"postgresql": {"version": 9}}, ["pgha:postgresql:version", "(got 9)"]),
    ("version-too-new", {"postgresql": {"version": 19}}, ["pgha:postgresql:version"]),
    ("version-not-a-number", {"postgresql": {"version": "fifteen"}}, ["pgha:postgresql:version"]),
    ("version-minor", {"postgresql": {"version": "15.4"}}, ["pgha:postgresql:version"]),
    ("bad-install-method", {"patroni": {"install_method": "apt"}},
     ["pgha:patroni:install_method", "'apt'"]),
    ("bad-dcs-api", {"patroni": {"dcs_api": "consul"}}, ["pgha:patroni:dcs_api", "'consul'"]),
    ("zero-ttl", {"patroni": {"ttl": 0}},
     ["pgha:patroni:ttl: must be a whole number of seconds >= 20: Patroni raises a smaller ttl to 20 (got 0)"]),
    ("negative-loop-wait", {"patroni": {"loop_wait": -1}}, ["pgha:patroni:loop_wait"]),
    ("retry-timeout-not-a-number", {"patroni": {"retry_timeout": "ten"}},
     ["pgha:patroni:retry_timeout"]),
    ("ttl-rule", {"patroni": {"ttl": 20, "loop_wait": 10, "retry_timeout": 10}},
     ["pgha:patroni:ttl: must be at least loop_wait + 2 * retry_timeout (10 + 2 * 10), got 20"]),
    # failover presets (patroni:rto_profile): every preset is valid, pillar keys override it
    *[(f"valid-rto-{name}", {"patroni": {"rto_profile": name}}, []) for name in ("fast", "norm", "safe")],
    ("valid-rto-override", {"patroni": {"rto_profile": "fast", "ttl": 25, "retry_timeout": 5},
                            "haproxy": {"check": {"inter": 1500, "fall": 3}},
                            "vip_manager": {"interval": 250}}, []),
    ("valid-rto-null-is-the-preset", {"patroni": {"rto_profile": "safe", "ttl": None}}, []),
    ("valid-primary-start-timeout-zero", {"patroni": {"primary_start_timeout": 0}}, []),
    ("unknown-rto-profile", {"patroni": {"rto_profile": "quick"}},
     ["pgha:patroni:rto_profile: must be one of fast, norm, safe (got 'quick')"]),
    ("rto-profile-not-a-string", {"patroni": {"rto_profile": ["fast"]}},
     ["pgha:patroni:rto_profile: must be one of fast, norm, safe (got ['fast'])"]),
    ("ttl-below-patronis-minimum", {"patroni": {"ttl": 15, "loop_wait": 3, "retry_timeout": 5}},
     ["pgha:patroni:ttl: must be a whole number of seconds >= 20: Patroni raises a smaller ttl to 20 (got 15)"]),
    ("retry-timeout-below-patronis-minimum", {"patroni": {"retry_timeout": 2}},
     ["pgha:patroni:retry_timeout: must be a whole number of seconds >= 3: Patroni raises a smaller "
      "retry_timeout to 3 (got 2)"]),
    ("loop-wait-zero", {"patroni": {"loop_wait": 0}},
     ["pgha:patroni:loop_wait: must be a whole number of seconds >= 1 (got 0)"]),
    ("primary-start-timeout-negative", {"patroni": {"primary_start_timeout": -1}},
     ["pgha:patroni:primary_start_timeout: must be a whole number of seconds >= 0 (got -1)"]),
    ("ttl-a-bool", {"patroni": {"ttl": True}}, ["pgha:patroni:ttl: must be a whole number of seconds"]),
    ("ttl-rule-with-the-presets-ttl", {"patroni": {"rto_profile": "fast", "loop_wait": 15}},
     ["pgha:patroni:ttl: must be at least loop_wait + 2 * retry_timeout (15 + 2 * 3), got 20; ttl and "
      "retry_timeout come from rto_profile fast: set them in pillar too, or choose another rto_profile"]),
    ("ttl-rule-with-the-presets-timings", {"patroni": {"ttl": 20}},
     ["pgha:patroni:ttl: must be at least loop_wait + 2 * retry_timeout (10 + 2 * 6), got 20; loop_wait "
      "and retry_timeout come from rto_profile norm"]),
    ("ttl-rule-with-the-presets-retry-timeout", {"patroni": {"rto_profile": "safe", "ttl": 50, "loop_wait": 5}},
     ["got 50; retry_timeout comes from rto_profile safe: set it in pillar too"]),
    ("haproxy-time-not-a-time", {"haproxy": {"check": {"inter": "fast"}}},
     ["pgha:haproxy:check:inter: is not an HAProxy time above 0 such as 500ms or 2s (got 'fast')"]),
    ("haproxy-time-zero", {"haproxy": {"check": {"fastinter": "0ms"}}}, ["pgha:haproxy:check:fastinter"]),
    ("haproxy-time-with-a-space", {"haproxy": {"check": {"downinter": "2 s"}}}, ["pgha:haproxy:check:downinter"]),
    ("haproxy-fall-zero", {"haproxy": {"check": {"fall": 0}}},
     ["pgha:haproxy:check:fall: must be a whole number of checks >= 1 (got 0)"]),
    ("haproxy-rise-not-a-number", {"haproxy": {"check": {"rise": "2x"}}}, ["pgha:haproxy:check:rise"]),
    ("vip-manager-interval-zero", {"vip_manager": {"interval": 0}},
     ["pgha:vip_manager:interval: must be a whole number of milliseconds >= 1 (got 0)"]),
    ("presets-in-pillar", {"rto_profiles": {"fast": {"patroni": {"ttl": 25}}}},
     ["pgha:rto_profiles: are pgha's own presets (parameters/defaults.yaml): choose one with "
      "patroni:rto_profile and override single keys"]),
    ("presets-in-lookup", {"lookup": {"rto_profiles": {}}}, ["pgha:lookup:rto_profiles: are pgha's own presets"]),
    ("sync-node-count-zero", {"patroni": {"synchronous_node_count": 0}},
     ["pgha:patroni:synchronous_node_count"]),
    ("dcs-exists-without-endpoints", {"dcs_exists": True, "roles": ["postgresql"]},
     ["pgha:etcd:endpoints"]),
    ("dcs-exists-with-etcd-role", {"dcs_exists": True, "etcd": {"endpoints": ["http://e:2379"]}},
     ["pgha:roles: has etcd while dcs_exists is true"]),
    ("user-without-name", {"postgresql": {"users": [{"password": "pw"}]}},
     ["pgha:postgresql:users:0: needs a name"]),
    ("user-not-a-mapping", {"postgresql": {"users": ["app"]}}, ["pgha:postgresql:users:0"]),
    ("user-without-password", {"postgresql": {"users": [{"name": "ok", "password": "x"},
                                                        {"name": "app"}]}},
     ["pgha:postgresql:users:1:password", "'app'"]),
    ("database-without-name", {"postgresql": {"databases": [{"owner": "app"}]}},
     ["pgha:postgresql:databases:0"]),
    ("extension-without-db", {"postgresql": {"extensions": [{"name": "pg_trgm"}]}},
     ["pgha:postgresql:extensions:0: needs a name and a db"]),
    # Type A (with_haproxy_load_balancing): PgBouncer's auth_query role and HAProxy's stats page
    ("valid-type-a", TYPE_A, []),
    ("valid-type-a-balancer", _with(TYPE_A, {"roles": ["balancer"]}), []),
    ("type-a-numeric-password", _with(TYPE_A, {"haproxy": {"stats_password": 12345}}),
     ["pgha:haproxy:stats_password: must be a string, but YAML read it as an integer: quote the value"]),
    ("valid-type-b-ignores-type-a-secrets",
     {"pgbouncer": {"auth_user": {"password": "CHANGE-ME-pgbouncer"}},
      "haproxy": {"stats_password": ""}}, []),
    ("type-a-without-pgbouncer-password", _with(TYPE_A, {"pgbouncer": DELETE}),
     ["pgha:pgbouncer:auth_user:password: is missing or empty: with_haproxy_load_balancing needs it"]),
    ("type-a-empty-pgbouncer-password", _with(TYPE_A, {"pgbouncer": {"auth_user": {"password": ""}}}),
     ["pgha:pgbouncer:auth_user:password: is missing or empty"]),
    ("type-a-blank-pgbouncer-password",
     _with(TYPE_A, {"pgbouncer": {"auth_user": {"password": "   "}}}),
     ["pgha:pgbouncer:auth_user:password: is missing or empty"]),
    ("type-a-placeholder-pgbouncer-password",
     _with(TYPE_A, {"pgbouncer": {"auth_user": {"password": "CHANGE-ME-pgbouncer"}}}),
     ["pgha:pgbouncer:auth_user:password: is still the placeholder from pillar.example"]),
    ("type-a-without-stats-password", _with(TYPE_A, {"haproxy": DELETE}),
     ["pgha:haproxy:stats_password: is missing or empty: with_haproxy_load_balancing needs it"]),
    ("type-a-null-stats-password", _with(TYPE_A, {"haproxy": {"stats_password": None}}),
     ["pgha:haproxy:stats_password: is missing or empty"]),
    ("type-a-placeholder-stats-password",
     _with(TYPE_A, {"haproxy": {"stats_password": "CHANGE-ME-stats"}}),
     ["pgha:haproxy:stats_password: is still the placeholder from pillar.example"]),
    ("type-a-without-any-type-a-secret", _with(TYPE_A, {"pgbouncer": DELETE, "haproxy": DELETE}),
     ["pgha:pgbouncer:auth_user:password", "pgha:haproxy:stats_password"]),
    ("type-a-without-vip", _with(TYPE_A, {"cluster_vip": ""}),
     ["pgha:cluster_vip: is required with with_haproxy_load_balancing"]),
    ("confd-without-url", {"confd": {"enabled": True}},
     ["pgha:confd:url: and confd:source_hash are both required"]),
    ("confd-without-hash", {"confd": {"enabled": True, "url": "http://mirror.example/confd"}},
     ["pgha:confd:url"]),
    ("update-target-unknown", {"operations": {"update_target": "kernel"}},
     ["pgha:operations:update_target: must be one of postgres, patroni, system (got 'kernel')"]),
    ("max-lag-negative", {"operations": {"max_replication_lag_bytes": -1}},
     ["pgha:operations:max_replication_lag_bytes: must be a whole number of bytes >= 0 (got -1)"]),
    ("max-transaction-not-a-number", {"operations": {"max_transaction_sec": "soon"}},
     ["pgha:operations:max_transaction_sec: must be a whole number of seconds >= 0 (got 'soon')"]),
    ("tags-not-a-mapping", {"patroni": {"tags": ["nofailover"]}},
     ["pgha:patroni:tags: must be a mapping"]),
    ("postgresql-exists-not-boolean", {"postgresql_exists": "yes"},
     ["pgha:postgresql_exists: must be true or false (got 'yes')"]),
    ("postgresql-exists-on-a-balancer", {"postgresql_exists": True, "roles": ["etcd"]},
     ["pgha:postgresql_exists: is true on a minion without the postgresql role"]),
    ("pgbackrest-repo-type", {"pgbackrest": {"repo": {"type": "ftp"}}},
     ["pgha:pgbackrest:repo:type: must be one of posix, s3, gcs, azure (got 'ftp')"]),
    ("pgbackrest-schedule-type", {"pgbackrest": {"schedule": [{"type": "weekly"}]}},
     ["pgha:pgbackrest:schedule:0: needs type (full, diff or incr) and on_calendar"]),
    ("pgbackrest-schedule-no-calendar", {"pgbackrest": {"schedule": [{"type": "full"}]}},
     ["pgha:pgbackrest:schedule:0: needs type (full, diff or incr) and on_calendar"]),
    ("replica-method-unknown", {"patroni": {"create_replica_methods": ["rsync"]}},
     ["pgha:patroni:create_replica_methods:0: must be one of basebackup, pgbackrest, wal_g (got 'rsync')"]),
    ("replica-methods-empty", {"patroni": {"create_replica_methods": []}},
     ["pgha:patroni:create_replica_methods: is empty: list how replicas are made"]),
    ("replica-method-pgbackrest-disabled", {"patroni": {"create_replica_methods": ["pgbackrest", "basebackup"]}},
     ["pgha:patroni:create_replica_methods: has pgbackrest but pgbackrest:enabled is false"]),
    ("replica-method-wal-g-disabled", {"patroni": {"create_replica_methods": ["wal_g", "basebackup"]}},
     ["pgha:patroni:create_replica_methods: has wal_g but wal_g:enabled is false"]),
    # WAL-G: a binary from pillar, its options as strings, one archive per cluster
    ("valid-wal-g", WAL_G, []),
    ("valid-wal-g-replicas", _with(WAL_G, {"patroni": {"create_replica_methods": ["wal_g", "basebackup"]}}), []),
    ("valid-wal-g-file-storage-no-schedule",
     _with(WAL_G, {"wal_g": {"json": {"WALG_S3_PREFIX": DELETE, "WALG_FILE_PREFIX": "/var/lib/wal-g"},
                             "backup_on_calendar": "", "retain_full": 0}}), []),
    ("wal-g-without-url", _with(WAL_G, {"wal_g": {"url": DELETE}}),
     ["pgha:wal_g:url: and wal_g:source_hash are both required with wal_g:enabled"]),
    ("wal-g-without-hash", _with(WAL_G, {"wal_g": {"source_hash": ""}}),
     ["pgha:wal_g:url: and wal_g:source_hash are both required"]),
    ("wal-g-url-is-an-archive",
     _with(WAL_G, {"wal_g": {"url": "https://mirror.example/wal-g-pg-ubuntu-22.04-amd64.tar.gz"}}),
     ["pgha:wal_g:url: must be the wal-g binary itself"]),
    ("wal-g-and-pgbackrest", _with(WAL_G, {"pgbackrest": {"enabled": True}}),
     ["pgha:wal_g:enabled: choose one archive: pgbackrest:enabled and wal_g:enabled are both true"]),
    ("wal-g-without-storage", _with(WAL_G, {"wal_g": {"json": {"WALG_S3_PREFIX": DELETE}}}),
     ["pgha:wal_g:json: needs a storage, e.g. WALG_S3_PREFIX"]),
    ("wal-g-json-not-a-mapping", {"wal_g": {"json": ["WALG_S3_PREFIX=s3://backups/main"]}},
     ["pgha:wal_g:json: must be a mapping such as {WALG_S3_PREFIX: 's3://backups/main'}"]),
    ("wal-g-json-number", {"wal_g": {"json": {"WALG_DELTA_MAX_STEPS": 6}}},
     ["pgha:wal_g:json:WALG_DELTA_MAX_STEPS: must be a string, but YAML read it as an integer: quote the value"]),
    ("wal-g-json-sets-pgdata", _with(WAL_G, {"wal_g": {"json": {"PGDATA": "/data", "PGPORT": "5433"}}}),
     ["pgha:wal_g:json: must not set PGDATA, PGPORT: pgha writes them"]),
    ("wal-g-placeholder-credential",
     _with(WAL_G, {"wal_g": {"json": {"AWS_SECRET_ACCESS_KEY": "CHANGE-ME-walg-secret"}}}),
     ["pgha:wal_g:json:AWS_SECRET_ACCESS_KEY: is still the placeholder from pillar.example"]),
    ("wal-g-retain-negative", {"wal_g": {"retain_full": -1}},
     ["pgha:wal_g:retain_full: must be a whole number of backups >= 0: 0 keeps every backup (got -1)"]),
    # bootstrap from a backup, restore targets
    ("valid-clone", {"pgbackrest": {"enabled": True}, "patroni": {"bootstrap_method": "pgbackrest"},
                     "restore": {"stanza": "main", "type": "time", "target": "2026-11-26 04:00:00+00"}}, []),
    ("valid-wal-g-bootstrap", _with(WAL_G, {"patroni": {"bootstrap_method": "wal_g"}}), []),
    ("bootstrap-method-unknown", {"patroni": {"bootstrap_method": "basebackup"}},
     ["pgha:patroni:bootstrap_method: must be one of initdb, pgbackrest, wal_g (got 'basebackup')"]),
    ("bootstrap-pgbackrest-disabled", {"patroni": {"bootstrap_method": "pgbackrest"}},
     ["pgha:patroni:bootstrap_method: is pgbackrest but pgbackrest:enabled is false"]),
    ("bootstrap-wal-g-disabled", {"patroni": {"bootstrap_method": "wal_g"}},
     ["pgha:patroni:bootstrap_method: is wal_g but wal_g:enabled is false"]),
    ("restore-type-unknown", {"restore": {"type": "latest"}},
     ["pgha:restore:type: must be one of default, time, lsn, name, xid, immediate (got 'latest')"]),
    ("restore-time-without-target", {"restore": {"type": "time"}},
     ["pgha:restore:target: is empty: restore type time needs a target"]),
    ("restore-time-without-zone", {"restore": {"type": "time", "target": "2026-11-26 04:00:00"}},
     ["pgha:restore:target: '2026-11-26 04:00:00' is not a time such as '2026-11-26 04:00:00+00'"]),
    ("restore-bad-lsn", {"restore": {"type": "lsn", "target": "3000060"}},
     ["pgha:restore:target: '3000060' is not an LSN such as '0/3000060'"]),
    ("restore-bad-xid", {"restore": {"type": "xid", "target": "abc"}},
     ["pgha:restore:target: 'abc' is not a transaction id"]),
    ("restore-immediate-with-target", {"restore": {"type": "immediate", "target": "0/3000060"}},
     ["pgha:restore:target: is set but restore type immediate takes no target"]),
    ("restore-bad-stanza", {"restore": {"stanza": "../main"}},
     ["pgha:restore:stanza: '../main' is not a pgBackRest name"]),
    ("disable-archive-command-string", {"disable_archive_command": "no"},
     ["pgha:disable_archive_command: must be true or false (got 'no')"]),
    ("tag-not-boolean", {"patroni": {"tags": {"nofailover": "yes"}}},
     ["pgha:patroni:tags:nofailover: must be true or false (got 'yes')"]),
    ("user-placeholder-password", {"postgresql": {"users": [{"name": "app", "password": "CHANGE-ME-app"}]}},
     ["pgha:postgresql:users:0:password: of user 'app' is still the placeholder from pillar.example"]),
    # unknown keys, with the known key they are closest to
    ("unknown-key-typo", {"patroni": {"synchronus_mode": True}},
     ["pgha:patroni:synchronus_mode: unknown key; did you mean patroni:synchronous_mode?"]),
    ("unknown-top-level-key-typo", {"cluster_vips": "10.0.0.100"},
     ["pgha:cluster_vips: unknown key; did you mean cluster_vip?"]),
    ("unknown-nested-key-typo", {"haproxy": {"ports": {"replica": 5001}}},
     ["pgha:haproxy:ports:replica: unknown key; did you mean haproxy:ports:replicas?"]),
    ("unknown-key-nothing-close", {"postgresql": {"frobnicate": 1}},
     ["pgha:postgresql:frobnicate: unknown key (pillar.example lists the known keys)"]),
    ("unknown-autobase-name", {"patroni_cluster_name": "main"}, ["pgha:patroni_cluster_name: unknown key"]),
    ("valid-free-form-mappings", {
        "address": "10.0.0.11", "lookup": {"pkgs": {"etcd": ["etcd"]}},
        "postgresql": {"parameters": {"work_mem": "8MB"}},
        "pgbackrest": {"repo": {"s3-bucket": "b"}, "global": {"compress-type": "zst"}},
        "patroni": {"tags": {"failover_priority": 1}}}, []),
    ("lookup-not-a-mapping", {"lookup": "Debian"}, ["pgha:lookup: must be a mapping"]),
    ("unknown-key-in-distro-paths", {"paths": {"patroni_cofig": "/etc/patroni.yml"}},
     ["pgha:paths:patroni_cofig: unknown key; did you mean paths:patroni_config?"], {"os": "Debian-12"}),
    # addresses: the node's, pg_hba's, the existing etcd's, the VIP's netmask and subnet
    ("bad-address", {"address": "10.0.0.256"}, ["pgha:address: '10.0.0.256' is not an IPv4 address"]),
    ("hostname-address", {"address": "pg1.example"}, ["pgha:address: 'pg1.example' is not an IPv4"]),
    ("hba-bad-ip", {"postgresql": {"pg_hba": [{"type": "host", "database": "all", "user": "all",
                                               "address": "10.0.0.300/24", "method": "md5"}]}},
     ["pgha:postgresql:pg_hba:0:address: '10.0.0.300/24' is not a CIDR address such as 10.0.0.0/24"]),
    ("hba-prefix-too-long", {"postgresql": {"pg_hba": [{"type": "host", "database": "all", "user": "all",
                                                        "address": "10.0.0.0/33", "method": "md5"}]}},
     ["pgha:postgresql:pg_hba:0:address: '10.0.0.0/33' is not a CIDR address"]),
    ("hba-without-prefix", {"postgresql": {"pg_hba": [{"type": "host", "database": "all", "user": "all",
                                                       "address": "10.0.0.5", "method": "md5"}]}},
     ["pgha:postgresql:pg_hba:0:address: '10.0.0.5' needs a prefix length, e.g. 10.0.0.5/32"]),
    ("hba-without-method", {"postgresql": {"pg_hba": [{"type": "host", "database": "all", "user": "all",
                                                       "address": "10.0.0.0/24"}]}},
     ["pgha:postgresql:pg_hba:0: needs method"]),
    ("hba-bad-type", {"postgresql": {"pg_hba": [{"type": "hots", "database": "all", "user": "all",
                                                 "address": "10.0.0.0/24", "method": "md5"}]}},
     ["pgha:postgresql:pg_hba:0:type: must be one of local, host, hostssl"]),
    ("valid-hba-forms", {"postgresql": {"pg_hba": [
        {"type": "local", "database": "all", "user": "app", "method": "peer"},
        {"type": "host", "database": "all", "user": "all", "address": "samenet", "method": "md5"},
        {"type": "hostssl", "database": "all", "user": "all", "address": ".example.com", "method": "md5"},
        {"type": "host", "database": "all", "user": "all", "address": "10.0.0.0 255.255.255.0", "method": "md5"},
        {"type": "host", "database": "all", "user": "all", "address": "fd00::/64", "method": "md5"}]}}, []),
    ("etcd-endpoint-without-scheme", {"dcs_exists": True, "roles": ["postgresql"],
                                      "etcd": {"endpoints": ["10.0.0.21:2379"]}},
     ["pgha:etcd:endpoints:0: '10.0.0.21:2379' is not an etcd client URL such as http://10.0.0.21:2379"]),
    ("etcd-endpoint-without-port", {"dcs_exists": True, "roles": ["postgresql"],
                                    "etcd": {"endpoints": ["http://10.0.0.21:2379", "http://10.0.0.22"]}},
     ["pgha:etcd:endpoints:1: 'http://10.0.0.22' is not an etcd client URL"]),
    ("etcd-endpoint-bad-ip", {"dcs_exists": True, "roles": ["postgresql"],
                              "etcd": {"endpoints": ["https://10.0.0.300:2379"]}},
     ["pgha:etcd:endpoints:0: 'https://10.0.0.300:2379' is not an etcd client URL"]),
    ("etcd-endpoints-not-a-list", {"etcd": {"endpoints": "http://10.0.0.21:2379"}},
     ["pgha:etcd:endpoints: must be a list such as ['http://10.0.0.21:2379'] (got 'http://10.0.0.21:2379')"]),
    ("vip-netmask-out-of-range", {"vip_manager": {"netmask": 33}},
     ["pgha:vip_manager:netmask: must be the VIP's prefix length from 1 to 32 (got 33)"]),
    ("keepalived-router-id-out-of-range", {"keepalived": {"virtual_router_id": 256}},
     ["pgha:keepalived:virtual_router_id: must be a VRRP router id from 1 to 255 (got 256)"]),
    ("vip-outside-subnet", {"cluster_vip": "10.1.0.100"},
     ["pgha:cluster_vip: 10.1.0.100 is outside this node's subnet 10.0.0.0/24 (vip_manager:netmask)"],
     {"address": "10.0.0.11"}),
    ("vip-is-the-node-address", {"cluster_vip": "10.0.0.11"},
     ["pgha:cluster_vip: 10.0.0.11 is this node's own address"], {"address": "10.0.0.11"}),
    ("valid-vip-in-a-wider-netmask", {"cluster_vip": "10.0.1.100", "vip_manager": {"netmask": 16}}, [],
     {"address": "10.0.0.11"}),
    ("valid-vip-elsewhere-on-an-etcd-only-node", {"roles": ["etcd"], "cluster_vip": "10.1.0.100"}, [],
     {"address": "10.0.0.11"}),
    ("type-a-vip-outside-balancer-subnet", _with(TYPE_A, {"roles": ["balancer"], "cluster_vip": "10.1.0.100"}),
     ["pgha:cluster_vip: 10.1.0.100 is outside this node's subnet 10.0.0.0/24"], {"address": "10.0.0.11"}),
    ("valid-type-a-database-node-in-another-subnet", _with(TYPE_A, {"cluster_vip": "10.1.0.100"}), [],
     {"address": "10.0.0.11"}),
    # ports: valid numbers, and no two components of this minion's roles on one port
    ("port-collision-pgbouncer-postgresql", _with(TYPE_A, {"pgbouncer": {"port": 5432}}),
     ["pgha:pgbouncer:port: port 5432 is also postgresql:port"]),
    ("port-collision-colocated-haproxy", _with(TYPE_A, {"roles": ["postgresql", "etcd", "balancer"],
                                                        "haproxy": {"ports": {"master": 5432}}}),
     ["pgha:haproxy:ports:master: port 5432 is also postgresql:port"]),
    ("valid-same-port-on-a-dedicated-balancer", _with(TYPE_A, {"roles": ["balancer"],
                                                               "haproxy": {"ports": {"master": 5432}}}), []),
    ("port-collision-etcd-restapi", {"etcd": {"client_port": 8008}},
     ["pgha:etcd:client_port: port 8008 is also patroni:restapi:port"]),
    ("port-collision-etcd-peer-client", {"etcd": {"peer_port": 2379}},
     ["pgha:etcd:peer_port: port 2379 is also etcd:client_port"]),
    ("valid-etcd-port-unused-with-dcs-exists", {"dcs_exists": True, "roles": ["postgresql"],
                                                "etcd": {"client_port": 8008,
                                                         "endpoints": ["http://10.0.0.21:2379"]}}, []),
    ("port-collision-direct-port-stats", _with(TYPE_A, {"roles": ["balancer"],
                                                        "haproxy": {"direct_ports": {"master": 7000}}}),
     ["pgha:haproxy:direct_ports:master: port 7000 is also haproxy:ports:stats"]),
    ("port-collision-sync-listener", _with(TYPE_A, {"roles": ["balancer"], "patroni": {"synchronous_mode": True},
                                                    "haproxy": {"ports": {"replicas_sync": 5001}}}),
     ["pgha:haproxy:ports:replicas_sync: port 5001 is also haproxy:ports:replicas"]),
    ("valid-sync-port-unused-without-sync-mode",
     _with(TYPE_A, {"roles": ["balancer"], "haproxy": {"ports": {"replicas_sync": 5001}}}), []),
    ("port-out-of-range", {"postgresql": {"port": 70000}},
     ["pgha:postgresql:port: must be a port number 1-65535 (got 70000)"]),
    ("port-not-a-number", {"etcd": {"peer_port": "peer"}},
     ["pgha:etcd:peer_port: must be a port number 1-65535 (got 'peer')"]),
    # the PostgreSQL major must be one the OS's package sources have (parameters/osfinger)
    ("version-not-on-debian-12", {"postgresql": {"version": 16}},
     ["pgha:postgresql:version: 16 is not available on Debian-12 (available: 15); add a repository "
      "(pgdg:enabled, pkg_repo) that has it", "or choose 15"], {"os": "Debian-12"}),
    ("version-not-on-debian-13", {"postgresql": {"version": 15}},
     ["pgha:postgresql:version: 15 is not available on Debian-13 (available: 17)"], {"os": "Debian-13"}),
    ("version-not-in-pgdg", {"postgresql": {"version": 12}},
     ["pgha:postgresql:version: 12 is not available on Rocky Linux-9 (available: 13, 14, 15, 16, 17, 18)",
      "choose one of those"], {"os": "Rocky Linux-9"}),
    ("valid-debian-13-default-version", {}, [], {"os": "Debian-13"}),
    ("valid-version-from-pkg-repo", {"postgresql": {"version": 16},
                                     "pkg_repo": {"url": "http://apt.postgresql.org/pub/repos/apt",
                                                  "dist": "bookworm-pgdg", "components": "main"}}, [],
     {"os": "Debian-12"}),
    ("valid-version-declared-available", {"postgresql": {"version": 16, "available_versions": [15, 16]}}, [],
     {"os": "Debian-12"}),
    ("valid-version-declared-in-lookup", {"lookup": {"postgresql": {"available_versions": [15, 16]}},
                                          "postgresql": {"version": 16}}, [], {"os": "Debian-12"}),
    ("valid-version-on-an-etcd-only-node", {"roles": ["etcd"], "postgresql": {"version": 16}}, [],
     {"os": "Debian-12"}),
    ("available-versions-not-a-list", {"postgresql": {"available_versions": "15"}},
     ["pgha:postgresql:available_versions: must be a list such as [15] (got '15')"]),
    # package sources: PGDG, EPEL, the site's repositories, the proxy (pgha:proxy_env)
    ("valid-pgdg-version-on-debian-12", {"pgdg": {"enabled": True}, "postgresql": {"version": 17}}, [],
     {"os": "Debian-12"}),
    ("version-not-in-pgdg-either", {"pgdg": {"enabled": True}, "postgresql": {"version": 12}},
     ["pgha:postgresql:version: 12 is not available on Debian-12 (available: 13, 14, 15, 16, 17, 18)"],
     {"os": "Debian-12"}),
    ("valid-el-sources", {"pgdg": {"enabled": True}, "epel": {"enabled": True},
                          "pkg_repos": [{"name": "tools", "baseurl": "https://mirror.example/el9",
                                         "gpgkey": "https://mirror.example/key.asc", "gpgcheck": True}],
                          "proxy_env": {"https_proxy": "http://u:p@proxy.example:3128",
                                        "no_proxy": "localhost,mirror.example"}}, [],
     {"os": "AlmaLinux-8"}),
    ("valid-apt-sources", {"pkg_repos": [{"name": "tools", "url": "file:/srv/tools", "trusted": True},
                                         {"name": "x", "url": "https://x.example/apt", "dist": "bookworm",
                                          "components": "main", "signed_by": "/usr/share/keyrings/x.gpg"}]},
     [], {"os": "Debian-13"}),
    ("pgdg-unsupported-os", {"pgdg": {"enabled": True}},
     ["pgha:pgdg:enabled: is not supported on SLES-15 (only the Debian and RedHat families)"],
     {"os": "SLES-15"}),
    ("epel-on-debian", {"epel": {"enabled": True}},
     ["pgha:epel:enabled: is not supported on Debian-12 (only the RedHat families)"], {"os": "Debian-12"}),
    ("pgdg-enabled-not-a-bool", {"pgdg": {"enabled": "yes"}}, ["pgha:pgdg:enabled: must be true or false"]),
    ("pgdg-bad-mirror-url", {"pgdg": {"enabled": True, "url": "apt.example/pgdg"}},
     ["pgha:pgdg:url: 'apt.example/pgdg' is not a http: or https: or file: URL"], {"os": "Debian-12"}),
    ("proxy-not-a-url", {"proxy_env": {"https_proxy": "proxy.example:3128"}},
     ["pgha:proxy_env:https_proxy: 'proxy.example:3128' is not a http: or https: URL such as "
      "http://proxy.example:3128"]),
    ("proxy-bad-port", {"proxy_env": {"http_proxy": "http://proxy.example:99999"}},
     ["pgha:proxy_env:http_proxy: 'http://proxy.example:99999' has a bad port"]),
    ("proxy-unknown-key", {"proxy_env": {"ftp_proxy": "http://proxy.example:3128"}},
     ["pgha:proxy_env:ftp_proxy: unknown key; known: http_proxy, https_proxy, no_proxy"]),
    ("no-proxy-a-list", {"proxy_env": {"no_proxy": ["localhost"]}},
     ["pgha:proxy_env:no_proxy: must be a string, not a list (got ['localhost'])"]),
    ("proxy-env-not-a-mapping", {"proxy_env": "http://proxy.example:3128"}, ["pgha:proxy_env: must be a mapping"]),
    ("repo-entries-not-a-list", {"pkg_repos": {"name": "x"}}, ["pgha:pkg_repos: must be a list"]),
    ("repo-entry-without-name-and-url", {"pkg_repos": [{"dist": "bookworm"}]},
     ["pgha:pkg_repos:0:name: is missing", "pgha:pkg_repos:0:url: is missing"], {"os": "Debian-12"}),
    ("repo-entry-yum-on-debian", {"pkg_repos": [{"name": "x", "baseurl": "https://x.example/el9"}]},
     ["pgha:pkg_repos:0: is a yum repository but this minion's family is Debian: give url, dist, components"],
     {"os": "Debian-12"}),
    ("repo-entry-apt-on-el", {"pkg_repos": [{"name": "x", "url": "https://x.example/apt"}]},
     ["pgha:pkg_repos:0: is an apt repository but this minion's family is RedHat: give baseurl"],
     {"os": "Rocky Linux-9"}),
    ("repo-entry-unknown-key", {"pkg_repos": [{"name": "x", "baseurl": "https://x.example/el9",
                                               "enabled": True}]},
     ["pgha:pkg_repos:0:enabled: unknown key for a yum repository"], {"os": "Rocky Linux-9"}),
    ("repo-entry-duplicate-name", {"pkg_repos": [{"name": "x", "url": "file:/a"}, {"name": "x", "url": "file:/b"}]},
     ["pgha:pkg_repos:1:name: 'x' is listed twice"]),
    ("repo-entry-bad-key", {"pkg_repos": [{"name": "x", "url": "file:/a", "key_text": "ssh-rsa AAAA"}]},
     ["pgha:pkg_repos:0:key_text: is not an armored OpenPGP key"]),
    ("repo-entry-relative-signed-by", {"pkg_repos": [{"name": "x", "url": "file:/a", "signed_by": "x.gpg"}]},
     ["pgha:pkg_repos:0:signed_by: must be an absolute path (got 'x.gpg')"]),
    ("repo-entry-gpgcheck-not-a-bool", {"pkg_repos": [{"name": "x", "baseurl": "file:///a", "gpgcheck": 0}]},
     ["pgha:pkg_repos:0:gpgcheck: must be true or false (got 0)"]),
]


@pytest.mark.parametrize("override,expected,context", [(c[1], c[2], c[3] if len(c) > 3 else None)
                                                       for c in CHECK_CASES],
                         ids=[c[0] for c in CHECK_CASES])
def test_check(defaults, override, expected, context):
    """``context`` is what validate() passes: this node's address, its OS (whose parameter
    files are then merged into the defaults)."""
    if context and "os" in context:
        defaults = _os_defaults(defaults, context["os"])
        context = {**context, "os_family": OS_FAMILY[context["os"]]}
    problems = pgha.check(_with(VALID, override), defaults, context)
    if not expected:
        assert problems == []
        return
    text = "\n".join(problems)
    for fragment in expected:
        assert fragment in text
    # every problem names the pillar key it is about
    assert all(p.startswith("pgha:") for p in problems)


@pytest.mark.parametrize("pillar", [None, "main", ["main"]], ids=["none", "string", "list"])
def test_check_pillar_not_a_mapping(defaults, pillar):
    assert pgha.check(pillar, defaults) == ["pgha: pillar key 'pgha' is missing or not a mapping"]


def test_check_empty_pillar_reports_every_required_key(defaults):
    text = "\n".join(pgha.check({}, defaults))
    for key in ("pgha:cluster_name", "pgha:roles", "pgha:postgresql:superuser:password",
                "pgha:postgresql:replication_user:password", "pgha:patroni:restapi:password"):
        assert key in text


def test_check_reports_all_problems_at_once(defaults):
    problems = pgha.check(_with(VALID, {"cluster_vip": "nope", "roles": ["x"],
                                        "postgresql": {"version": 8}}), defaults)
    assert len(problems) == 3


def test_check_without_defaults(defaults):
    assert pgha.check(_with(defaults, VALID), None) == []
    assert "pgha:postgresql:version" in "\n".join(pgha.check(VALID, None))


def test_check_does_not_modify_its_arguments(defaults):
    pillar = _with(VALID, {"postgresql": {"version": 99}})
    before = (copy.deepcopy(pillar), copy.deepcopy(defaults))
    pgha.check(pillar, defaults)
    assert (pillar, defaults) == before
    # the defaults do not remember the previous pillar
    assert "pgha:postgresql:superuser:password" in "\n".join(
        pgha.check(_with(VALID, {"postgresql": {"superuser": DELETE}}), defaults))


def test_defaults_file_needs_only_roles_and_secrets(defaults):
    """parameters/defaults.yaml itself passes the checks (e.g. its ttl rule): a pillar needs
    only the cluster name, roles and passwords."""
    assert pgha.check({"cluster_name": "main", "roles": ["etcd"],
                       **{k: VALID[k] for k in ("postgresql", "patroni")}}, defaults) == []


# -- validate --------------------------------------------------------------------------------

def _files(text=None):
    """cp.get_file_str: the repository's parameter files, or ``text`` for each of them."""
    return {"cp.get_file_str": MagicMock(side_effect=_parameter_file if text is None
                                         else lambda url: text)}


def test_validate_valid_pillar_and_defaults_are_read_once():
    funcs = {**_files(), **_network()}
    with patch.dict(pgha.__salt__, funcs):
        assert pgha.validate() == []
        assert pgha.validate() == []
    assert [c.args[0] for c in funcs["cp.get_file_str"].call_args_list] == [
        "salt://pgha/parameters/defaults.yaml", "salt://pgha/parameters/os_family/Debian.yaml",
        "salt://pgha/parameters/osfinger/Debian-12.yaml"]
    assert pgha.__context__["pgha.defaults"]["patroni"]["rto_profile"] == "norm"
    assert pgha.__context__["pgha.defaults"]["rto_profiles"]["norm"]["patroni"]["ttl"] == 22


def test_validate_merges_the_os_parameters_as_map_jinja_does():
    """Debian 13's files set PostgreSQL 17, the only major it has: 15 from pillar is refused."""
    with patch.dict(pgha.__salt__, {**_files(), **_network()}), \
            patch.dict(pgha.__grains__, {"osfinger": "Debian-13"}):
        assert pgha.__context__.get("pgha.defaults") is None
        assert pgha._defaults()["postgresql"]["version"] == 17
        assert pgha.validate() == []
        with patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"postgresql": {"version": 15}})}):
            assert pgha.validate() == [
                "pgha:postgresql:version: 15 is not available on Debian-13 (available: 17); add a "
                "repository (pgdg:enabled, pkg_repo) that has it, list it in postgresql:available_versions if this "
                "node's own sources have it, or choose 17"]


def test_validate_unknown_os_has_only_the_defaults():
    with patch.dict(pgha.__salt__, {**_files(), **_network()}), \
            patch.dict(pgha.__grains__, {"os_family": "Suse", "osfinger": "SLES-15"}), \
            patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"postgresql": {"version": 16}})}):
        assert pgha.validate() == []
        assert pgha._defaults()["postgresql"]["available_versions"] == []


def test_validate_checks_the_vip_against_this_nodes_address():
    """The node's address (10.0.0.11 on eth1, from the network) is outside 10.1.0.0/24."""
    with patch.dict(pgha.__salt__, {**_files(), **_network()}), \
            patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"cluster_vip": "10.1.0.100"})}):
        assert pgha.validate() == ["pgha:cluster_vip: 10.1.0.100 is outside this node's subnet "
                                   "10.0.0.0/24 (vip_manager:netmask)"]


def test_validate_vip_subnet_from_the_pillar_address():
    interfaces = MagicMock()
    pillar = _with(VALID, {"address": "10.1.0.11", "cluster_vip": "10.1.0.100"})
    with patch.dict(pgha.__salt__, {**_files(), "network.interfaces": interfaces}), \
            patch.dict(pgha.__pillar__, {"pgha": pillar}):
        assert pgha.validate() == []
    interfaces.assert_not_called()


def test_validate_without_a_vip_does_not_look_at_the_network():
    interfaces = MagicMock()
    with patch.dict(pgha.__salt__, {**_files(), "network.interfaces": interfaces}), \
            patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"cluster_vip": ""})}):
        assert pgha.validate() == []
    interfaces.assert_not_called()


def test_validate_when_the_network_cannot_be_read_skips_the_subnet():
    failing = MagicMock(side_effect=CommandExecutionError("ip: not found"))
    with patch.dict(pgha.__salt__, {**_files(), "network.interfaces": failing}), \
            patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"cluster_vip": "10.1.0.100"})}), \
            patch.object(pgha, "log") as log:
        assert pgha.validate() == []
    assert "cluster_vip's subnet" in log.warning.call_args.args[0]


def test_validate_names_the_bad_key():
    bad = _with(VALID, {"postgresql": {"superuser": {"password": ""}}})
    with patch.dict(pgha.__salt__, {**_files(), **_network()}), \
            patch.dict(pgha.__pillar__, {"pgha": bad}):
        problems = pgha.validate()
    assert len(problems) == 1
    assert "pgha:postgresql:superuser:password" in problems[0]


@pytest.mark.skipif(salt_secret is None,
                    reason="pillar masking (salt.utils.secret) exists only from Salt 3008")
def test_validate_reads_masked_pillar_values():
    """Salt 3008 wraps pillar in MaskedDict; the module must see the real values."""
    masked = salt_secret.hide({"pgha": copy.deepcopy(VALID)})
    with patch.dict(pgha.__salt__, {**_files(), **_network()}), \
            patch.object(pgha, "__pillar__", masked):
        assert pgha.validate() == []


def test_validate_without_pillar():
    with patch.dict(pgha.__salt__, _files()):
        pgha.__pillar__.clear()
        assert pgha.validate() == ["pgha: pillar key 'pgha' is missing or not a mapping"]


def test_validate_without_defaults_file():
    with patch.dict(pgha.__salt__, {**_files(text=""), **_network()}):
        problems = pgha.validate()
    assert pgha.__context__["pgha.defaults"] == {}
    assert any("pgha:postgresql:version" in p for p in problems)


@pytest.mark.parametrize("key,password", [
    ("pgbouncer:auth_user:password", ""), ("pgbouncer:auth_user:password", "CHANGE-ME"),
    ("haproxy:stats_password", ""), ("haproxy:stats_password", "CHANGE-ME-too"),
])
def test_check_type_a_secret_names_exactly_its_key(defaults, key, password):
    """One bad Type A secret is one problem, naming that key; the other secret is fine."""
    section, *path = key.split(":")
    override = {path[-1]: password}
    for part in reversed(path[:-1]):
        override = {part: override}
    problems = pgha.check(_with(VALID, _with(TYPE_A, {section: override})), defaults)
    assert len(problems) == 1
    assert problems[0].startswith(f"pgha:{key}: ")


def test_check_type_a_secrets_from_defaults_are_empty(defaults):
    """defaults.yaml has no Type A passwords: turning Type A on requires both in pillar."""
    problems = pgha.check(_with(VALID, {"with_haproxy_load_balancing": True}), defaults)
    assert sorted(p.split(": ")[0] for p in problems) == [
        "pgha:haproxy:stats_password", "pgha:pgbouncer:auth_user:password"]


def test_check_balancer_role_needs_type_a(defaults):
    problems = pgha.check(_with(VALID, {"roles": ["balancer"]}), defaults)
    assert any(p.startswith("pgha:roles:") and "with_haproxy_load_balancing" in p
               for p in problems)


def test_check_unknown_direct_port_listener(defaults):
    problems = pgha.check(_with(VALID, {"haproxy": {"direct_ports": {"replica": 6001}}}), defaults)
    assert any(p.startswith("pgha:haproxy:direct_ports:") and "replica" in p for p in problems)


def test_check_pillar_user_named_like_the_pgbouncer_auth_role(defaults):
    pillar = _with(VALID, {"with_haproxy_load_balancing": True,
                           "pgbouncer": {"auth_user": {"password": "pgb-secret"}},
                           "haproxy": {"stats_password": "stats-secret"},
                           "postgresql": {"users": [{"name": "pgbouncer", "password": "x"}]}})
    problems = pgha.check(pillar, defaults)
    assert any(p.startswith("pgha:postgresql:users:") and "pgbouncer" in p for p in problems)


# -- pillar.example ------------------------------------------------------------------------------

def _example():
    """pillar.example's pgha (Type B) and the Type A changes its closing comment shows."""
    text = (REPO / "pillar.example").read_text()
    lines = text.splitlines()
    start = lines.index("# pgha:")
    block = []
    for line in lines[start:]:
        if line.strip() == "#":
            break
        block.append(line[2:])
    return yaml.safe_load(text)["pgha"], yaml.safe_load("\n".join(block))["pgha"]


def _real(value):
    """The example with a made-up secret in place of each CHANGE-ME placeholder."""
    if isinstance(value, dict):
        return {key: _real(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_real(item) for item in value]
    if isinstance(value, str) and value.startswith("CHANGE-ME"):
        return "real" + value[len("CHANGE-ME"):]
    return value


@pytest.mark.parametrize("roles", [None, ["balancer"], ["postgresql", "etcd", "balancer"]],
                         ids=["type-b", "type-a-balancer", "type-a-colocated"])
def test_pillar_example_is_valid_with_real_passwords(defaults, roles):
    type_b, type_a_changes = _example()
    pillar = _real(type_b if roles is None else _with(_with(type_b, type_a_changes), {"roles": roles}))
    context = {"address": "10.0.0.11", "os": "Debian-12"}
    assert pgha.check(pillar, defaults) == []
    assert pgha.check(pillar, _os_defaults(defaults, "Debian-12"), context) == []


def test_pillar_example_as_is_is_refused_for_its_placeholders(defaults):
    type_b, type_a_changes = _example()
    keys = ["pgha:patroni:restapi:password", "pgha:postgresql:replication_user:password",
            "pgha:postgresql:superuser:password", "pgha:postgresql:users:0:password"]
    assert sorted(p.split(": ")[0] for p in pgha.check(type_b, defaults)) == keys
    problems = pgha.check(_with(type_b, type_a_changes), defaults)
    assert sorted(p.split(": ")[0] for p in problems) == sorted(
        keys + ["pgha:haproxy:stats_password", "pgha:pgbouncer:auth_user:password"])
    assert all("placeholder from pillar.example" in p for p in problems)


# -- check_cluster (table-driven) -----------------------------------------------------------------

DB = {"roles": ["postgresql", "etcd"]}
PG = {"roles": ["postgresql"]}
LB = {"roles": ["balancer"], "with_haproxy_load_balancing": True}
SYNC = {"patroni": {"synchronous_mode": True}}
STRICT = {"patroni": {"synchronous_mode": True, "synchronous_mode_strict": True}}
STRICT_TWO = _with(STRICT, {"patroni": {"synchronous_node_count": 2}})


def _nodes(**minions):
    return {name: copy.deepcopy(pillar) for name, pillar in minions.items()}


CLUSTER_CASES = [
    # (id, {minion: pgha pillar}, substrings of the problems, substrings of the warnings)
    ("valid-three-etcd", _nodes(pg1=DB, pg2=DB, pg3=DB), [], []),
    ("valid-five-etcd", _nodes(pg1=DB, pg2=DB, pg3=DB, pg4=DB, pg5=DB), [], []),
    ("valid-etcd-on-a-balancer", _nodes(pg1=_with(DB, {"with_haproxy_load_balancing": True}),
                                        pg2=_with(DB, {"with_haproxy_load_balancing": True}),
                                        lb1=_with(LB, {"roles": ["balancer", "etcd"]}),
                                        lb2=LB), [], []),
    ("valid-existing-etcd", _nodes(pg1=_with(PG, {"dcs_exists": True}), pg2=_with(PG, {"dcs_exists": True})),
     [], []),
    ("two-etcd-members", _nodes(pg1=DB, pg2=DB, pg3=PG),
     ["pgha:roles: 2 minions have the etcd role (pg1, pg2): etcd needs a majority"], []),
    ("no-etcd-member", _nodes(pg1=PG, pg2=PG),
     ["pgha:roles: no minion has the etcd role and dcs_exists is false"], []),
    ("one-etcd-member", _nodes(pg1=DB, pg2=PG), [],
     ["pgha:roles: 1 minion has the etcd role (pg1): the cluster stops when it fails"]),
    ("four-etcd-members", _nodes(pg1=DB, pg2=DB, pg3=DB, pg4=DB), [],
     ["pgha:roles: 4 minions have the etcd role (pg1, pg2, pg3, pg4): they survive no more failures than 3"]),
    ("valid-sync", _nodes(pg1=_with(DB, STRICT), pg2=_with(DB, STRICT), pg3=_with(DB, STRICT)), [], []),
    ("strict-sync-one-database-node", _nodes(pg1=_with(DB, STRICT)),
     ["pgha:patroni:synchronous_mode_strict: is true but 1 synchronous replica(s) need 2 database nodes, "
      "the cluster has 1 (pg1): writes would stop"], ["pgha:roles: 1 minion has the etcd role"]),
    ("strict-sync-two-replicas-wanted", _nodes(pg1=_with(DB, STRICT_TWO), pg2=_with(DB, STRICT_TWO),
                                               etcd1=_with(STRICT_TWO, {"roles": ["etcd"]})),
     ["pgha:patroni:synchronous_mode_strict: is true but 2 synchronous replica(s) need 3 database nodes, "
      "the cluster has 2 (pg1, pg2)"], []),
    ("sync-count-differs", _nodes(pg1=_with(DB, STRICT_TWO), pg2=_with(DB, STRICT), pg3=_with(DB, STRICT)),
     ["pgha:patroni:synchronous_node_count: differs between minions (1 on pg2, pg3; 2 on pg1)"], []),
    ("sync-too-few-replicas", _nodes(pg1=_with(DB, SYNC)), [],
     ["pgha:patroni:synchronous_node_count: 1 synchronous replica(s) need 2 database nodes, the cluster "
      "has 1 (pg1): commits wait for fewer synchronous replicas than asked"]),
    ("valid-strict-without-sync-mode", _nodes(
        **{n: _with(DB, {"patroni": {"synchronous_mode_strict": True}}) for n in ("pg1", "pg2", "pg3")}), [], []),
    ("type-a-without-balancers", _nodes(**{n: _with(DB, TYPE_A) for n in ("pg1", "pg2", "pg3")}),
     ["pgha:with_haproxy_load_balancing: is true but no minion of the cluster has the balancer role"], []),
    ("type-a-one-balancer", _nodes(pg1=_with(DB, TYPE_A), pg2=_with(DB, TYPE_A), pg3=_with(DB, TYPE_A),
                                   lb1=_with(LB, TYPE_A)), [],
     ["pgha:roles: 1 minion has the balancer role (lb1): keepalived has no standby for cluster_vip"]),
    ("valid-type-a-colocated", _nodes(**{n: _with(DB, _with(TYPE_A, {"roles": ["postgresql", "etcd", "balancer"]}))
                                         for n in ("pg1", "pg2", "pg3")}), [], []),
    ("setting-differs", _nodes(pg1=_with(DB, {"with_haproxy_load_balancing": True}), pg2=DB, pg3=DB),
     ["pgha:with_haproxy_load_balancing: differs between minions (False on pg2, pg3; True on pg1): set it "
      "once for the cluster"], []),
    ("vip-differs", _nodes(pg1=_with(DB, {"cluster_vip": "10.0.0.100"}), pg2=DB, pg3=DB),
     ["pgha:cluster_vip: differs between minions ('' on pg2, pg3; 10.0.0.100 on pg1)"], []),
    ("valid-version-as-string-and-number", _nodes(pg1=_with(DB, {"postgresql": {"version": "16"}}),
                                                  pg2=_with(DB, {"postgresql": {"version": 16}}),
                                                  pg3=_with(DB, {"postgresql": {"version": 16}})), [], []),
    ("no-pillar", {"pg1": None}, ["pgha:cluster_name: no minion of the cluster has a pgha pillar"], []),
    # Patroni's timings live in the DCS: minions that disagree would patch them back and forth
    ("valid-same-preset", _nodes(**{n: _with(DB, {"patroni": {"rto_profile": "fast"}}) for n in ("pg1", "pg2", "pg3")}),
     [], []),
    ("valid-override-equal-to-the-preset", _nodes(pg1=_with(DB, {"patroni": {"ttl": 22}}), pg2=DB, pg3=DB), [], []),
    ("preset-differs", _nodes(pg1=_with(DB, {"patroni": {"rto_profile": "safe"}}), pg2=DB, pg3=DB),
     ["pgha:patroni:rto_profile: differs between minions (norm on pg2, pg3; safe on pg1)",
      "pgha:patroni:ttl: differs between minions (22 on pg2, pg3; 60 on pg1)"], []),
    ("override-differs", _nodes(pg1=DB, pg2=_with(DB, {"patroni": {"primary_start_timeout": 10}}), pg3=DB),
     ["pgha:patroni:primary_start_timeout: differs between minions (10 on pg2; 30 on pg1, pg3)"], []),
]


@pytest.mark.parametrize("pillars,problems,warnings", [c[1:] for c in CLUSTER_CASES],
                         ids=[c[0] for c in CLUSTER_CASES])
def test_check_cluster(defaults, pillars, problems, warnings):
    found = pgha.check_cluster(pillars, defaults)
    for kind, expected in (("problems", problems), ("warnings", warnings)):
        text = "\n".join(found[kind])
        if not expected:
            assert found[kind] == [], kind
        for fragment in expected:
            assert fragment in text, kind
        assert all(p.startswith("pgha:") for p in found[kind])


def test_check_cluster_reads_this_minions_defaults_without_them():
    with patch.dict(pgha.__salt__, _files()):
        assert pgha.check_cluster(_nodes(pg1=DB, pg2=DB, pg3=DB)) == {"problems": [], "warnings": []}
        assert pgha.__context__["pgha.defaults"]["patroni"]["synchronous_node_count"] == 1


def test_check_cluster_does_not_modify_its_arguments(defaults):
    pillars = _nodes(pg1=_with(DB, STRICT), pg2=DB)
    before = (copy.deepcopy(pillars), copy.deepcopy(defaults))
    pgha.check_cluster(pillars, defaults)
    assert (pillars, defaults) == before


# -- existing_postgresql -------------------------------------------------------------------------

def test_existing_postgresql_running():
    run = MagicMock(return_value={"retcode": 0, "stdout": "150020|/var/lib/postgresql/15/main\n"})
    with patch.dict(pgha.__salt__, {"cmd.run_all": run}):
        assert pgha.existing_postgresql() == {"running": True, "version": "15",
                                              "data_directory": "/var/lib/postgresql/15/main"}
    args, kwargs = run.call_args
    assert args[0][0] == "psql" and kwargs["runas"] == "postgres" and kwargs["python_shell"] is False


@pytest.mark.parametrize("has_version,expected", [
    (True, {"running": False, "version": "15", "data_directory": "/data"}),
    (False, {"running": False, "version": None, "data_directory": None}),
])
def test_existing_postgresql_stopped(has_version, expected):
    funcs = {"cmd.run_all": MagicMock(return_value={"retcode": 2, "stdout": ""}),
             "file.file_exists": MagicMock(return_value=has_version),
             "file.read": MagicMock(return_value="15\n")}
    with patch.dict(pgha.__salt__, funcs):
        assert pgha.existing_postgresql("/data") == expected


# -- issue 21: the installed PgBouncer's version reaches the validation -----------------------

@pytest.mark.parametrize("installed,problems", [
    ("", ["pgha:pgbouncer:max_prepared_statements: needs PgBouncer >= 1.21 (max_prepared_statements), but "
          "this node's package sources have PgBouncer 1.18 (pgbouncer:version) on Debian-12"]),
    ("1.18.0", ["pgha:pgbouncer:max_prepared_statements: needs PgBouncer >= 1.21 (max_prepared_statements), "
                "but the installed PgBouncer is 1.18.0 on Debian-12"]),
    ("1.22.1", []),     # installed from another repository: it wins over the parameters' 1.18
])
def test_validate_asks_the_installed_pgbouncer(installed, problems):
    pillar = _with(VALID, {"pgbouncer": {"enabled": True, "auth_user": {"password": "pgb-secret"},
                                         "max_prepared_statements": 100}})
    version = MagicMock(return_value=installed)
    with patch.dict(pgha.__salt__, {**_files(), **_network(), "pgha_pgbouncer.version": version}), \
            patch.dict(pgha.__pillar__, {"pgha": pillar}):
        found = pgha.validate()
    assert [p.split(": leave it unset")[0] for p in found] == problems
    version.assert_called_once_with()


def test_validate_gates_slots_on_the_installed_patroni():
    """A permanent slot on Debian 12: refused with its Patroni 3.0.2 (parameters/osfinger),
    accepted when the installed Patroni says 3.2 or newer (`patroni --version`, issue 23)."""
    pillar = _with(VALID, {"cluster_vip": "", "patroni": {"slots": [{"slot": "standby_dc2"}]}})
    run = MagicMock(return_value={"retcode": 0, "stdout": "patroni 3.3.2\n"})
    with patch.dict(pgha.__salt__, {**_files(), "cmd.run_all": run}), \
            patch.dict(pgha.__pillar__, {"pgha": pillar}), \
            patch("salt.utils.path.which", return_value="/usr/bin/patroni"):
        assert pgha.validate() == []
    run.assert_called_once_with(["patroni", "--version"], python_shell=False, ignore_retcode=True)
    with patch.dict(pgha.__salt__, _files()), patch.dict(pgha.__pillar__, {"pgha": pillar}), \
            patch("salt.utils.path.which", return_value=None):
        problems = pgha.validate()
    assert len(problems) == 1 and "needs Patroni 3.2.0" in problems[0] and "3.0.2" in problems[0], problems
