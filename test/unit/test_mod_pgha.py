"""Unit tests of the pgha execution module (_modules/pgha.py)."""
import copy
from unittest.mock import MagicMock, patch

import pgha
import pytest
import salt.utils.secret
from salt.exceptions import CommandExecutionError

DELETE = object()

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
            "__context__": {},
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
    masked_get = MagicMock(return_value=salt.utils.secret.REDACT_PLACEHOLDER)
    with patch.dict(pgha.__pillar__, {"pgha": _with(VALID, {"address": "172.16.0.9"})}), \
            patch.dict(pgha.__salt__, {"pillar.get": masked_get, **_network()}):
        assert pgha.address() == "172.16.0.9"
        assert pgha.address() != salt.utils.secret.REDACT_PLACEHOLDER
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
     ["pgha:roles: unknown role(s) haproxy, postgres", "known: balancer, etcd, pgbackrest, postgresql"]),
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
    ("zero-ttl", {"patroni": {"ttl": 0}}, ["pgha:patroni:ttl: must be a positive number"]),
    ("negative-loop-wait", {"patroni": {"loop_wait": -1}}, ["pgha:patroni:loop_wait"]),
    ("retry-timeout-not-a-number", {"patroni": {"retry_timeout": "ten"}},
     ["pgha:patroni:retry_timeout"]),
    ("ttl-rule", {"patroni": {"ttl": 20, "loop_wait": 10, "retry_timeout": 10}},
     ["pgha:patroni:ttl: must be at least loop_wait + 2 * retry_timeout (10 + 2 * 10), got 20"]),
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
    ("valid-type-a-numeric-password", _with(TYPE_A, {"haproxy": {"stats_password": 12345}}), []),
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
     ["pgha:operations:max_replication_lag_bytes: must be a whole number >= 0 (got -1)"]),
    ("max-transaction-not-a-number", {"operations": {"max_transaction_sec": "soon"}},
     ["pgha:operations:max_transaction_sec: must be a whole number >= 0"]),
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
     ["pgha:patroni:create_replica_methods: must be a list of basebackup, pgbackrest, wal_g"]),
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
     ["pgha:wal_g:json: must be a mapping of WAL-G option names to strings"]),
    ("wal-g-json-number", {"wal_g": {"json": {"WALG_DELTA_MAX_STEPS": 6}}},
     ["pgha:wal_g:json: must be a mapping of WAL-G option names to strings (quote numbers"]),
    ("wal-g-json-sets-pgdata", _with(WAL_G, {"wal_g": {"json": {"PGDATA": "/data", "PGPORT": "5433"}}}),
     ["pgha:wal_g:json: must not set PGDATA, PGPORT: pgha writes them"]),
    ("wal-g-placeholder-credential",
     _with(WAL_G, {"wal_g": {"json": {"AWS_SECRET_ACCESS_KEY": "CHANGE-ME-walg-secret"}}}),
     ["pgha:wal_g:json:AWS_SECRET_ACCESS_KEY: is still the placeholder from pillar.example"]),
    ("wal-g-retain-negative", {"wal_g": {"retain_full": -1}},
     ["pgha:wal_g:retain_full: must be a whole number >= 0"]),
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
]


@pytest.mark.parametrize("override,expected", [c[1:] for c in CHECK_CASES],
                         ids=[c[0] for c in CHECK_CASES])
def test_check(defaults, override, expected):
    problems = pgha.check(_with(VALID, override), defaults)
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

def test_validate_valid_pillar_and_defaults_are_read_once(defaults_text):
    get_file_str = MagicMock(return_value=defaults_text)
    with patch.dict(pgha.__salt__, {"cp.get_file_str": get_file_str}):
        assert pgha.validate() == []
        assert pgha.validate() == []
    get_file_str.assert_called_once_with("salt://pgha/parameters/defaults.yaml")
    assert pgha.__context__["pgha.defaults"]["patroni"]["ttl"] == 30


def test_validate_names_the_bad_key(defaults_text):
    bad = _with(VALID, {"postgresql": {"superuser": {"password": ""}}})
    with patch.dict(pgha.__salt__, {"cp.get_file_str": MagicMock(return_value=defaults_text)}), \
            patch.dict(pgha.__pillar__, {"pgha": bad}):
        problems = pgha.validate()
    assert len(problems) == 1
    assert "pgha:postgresql:superuser:password" in problems[0]


def test_validate_reads_masked_pillar_values(defaults_text):
    """Salt 3008 wraps pillar in MaskedDict; the module must see the real values."""
    masked = salt.utils.secret.hide({"pgha": copy.deepcopy(VALID)})
    with patch.dict(pgha.__salt__, {"cp.get_file_str": MagicMock(return_value=defaults_text)}), \
            patch.object(pgha, "__pillar__", masked):
        assert pgha.validate() == []


def test_validate_without_pillar(defaults_text):
    with patch.dict(pgha.__salt__, {"cp.get_file_str": MagicMock(return_value=defaults_text)}):
        pgha.__pillar__.clear()
        assert pgha.validate() == ["pgha: pillar key 'pgha' is missing or not a mapping"]


def test_validate_without_defaults_file():
    with patch.dict(pgha.__salt__, {"cp.get_file_str": MagicMock(return_value="")}):
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
