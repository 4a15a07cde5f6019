"""
Careless and hostile pillars (issue 17): each is refused by pgha.check before any change, and
the problem names its key. A table of single changes to a valid pillar, then property tests
(hypothesis, fixed seed) over the settings model.
"""
import copy
import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import pgha_model
import pgha_validate
from pgha_unit_helpers import MINIMAL_VALID

TYPE_A = {"with_haproxy_load_balancing": True, "cluster_vip": "10.0.0.100",
          "pgbouncer": {"auth_user": {"password": "pgb-secret"}}, "haproxy": {"stats_password": "stats-secret"}}
# read once: hypothesis refuses function-scoped fixtures, and the tests do not modify it
DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[2] / "pgha/parameters/defaults.yaml").read_text())
PEM_KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF\n-----END PGP PUBLIC KEY BLOCK-----\n"


def _with(base, override):
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _with(result[key], value)
        else:
            result[key] = value
    return result


def pg(**kw):
    return {"postgresql": kw}


def user(**kw):
    return pg(users=[{"name": "app", "password": "app-pw", **kw}])


def db(**kw):
    return pg(databases=[{"name": "appdb", **kw}])


def hba(**kw):
    return pg(pg_hba=[{"type": "host", "database": "all", "user": "all", "address": "10.0.0.0/24",
                       "method": "scram-sha-256", **kw}])


def pool(**kw):
    return {"pgbouncer": {"pools": [{"name": "app", "dbname": "appdb", **kw}]}}


def mon(**kw):
    return {"monitoring": {"enabled": True, **kw}}


def type_a(override):
    return _with(TYPE_A, override)


# (id, pillar change, the key the problem must name)
CASES = [
    # YAML typed scalars where a string is meant: 0123 -> 123, yes -> True, 12:30 -> 750, ...
    ("su-password-int", pg(superuser={"password": 123}), "postgresql:superuser:password"),
    ("su-password-bool", pg(superuser={"password": True}), "postgresql:superuser:password"),
    ("su-password-float", pg(superuser={"password": 1.5}), "postgresql:superuser:password"),
    ("su-password-date", pg(superuser={"password": datetime.date(2026, 1, 2)}), "postgresql:superuser:password"),
    ("repl-password-sexagesimal", pg(replication_user={"password": 750}), "postgresql:replication_user:password"),
    ("rest-password-hex", {"patroni": {"restapi": {"password": 31}}}, "patroni:restapi:password"),
    ("rest-password-off", {"patroni": {"restapi": {"password": False}}}, "patroni:restapi:password"),
    ("stats-password-int", type_a({"haproxy": {"stats_password": 123}}), "haproxy:stats_password"),
    ("pgbouncer-password-yes", type_a({"pgbouncer": {"auth_user": {"password": True}}}),
     "pgbouncer:auth_user:password"),
    ("user-password-int", user(password=123), "postgresql:users:0:password"),
    ("user-name-int", user(name=123), "postgresql:users:0:name"),
    ("database-name-bool", pg(databases=[{"name": True}]), "postgresql:databases:0:name"),
    ("cluster-name-int", {"cluster_name": 123}, "cluster_name"),
    ("cluster-name-bool", {"cluster_name": True}, "cluster_name"),
    ("su-name-int", pg(superuser={"name": 0}), "postgresql:superuser:name"),
    ("su-name-empty", pg(superuser={"name": ""}), "postgresql:superuser:name"),
    ("repl-name-empty", pg(replication_user={"name": ""}), "postgresql:replication_user:name"),
    # booleans must be YAML's booleans, ints YAML's ints
    ("sync-mode-string-false", {"patroni": {"synchronous_mode": "false"}}, "patroni:synchronous_mode"),
    ("type-a-string-no", {"with_haproxy_load_balancing": "no"}, "with_haproxy_load_balancing"),
    ("dcs-exists-string", {"dcs_exists": "yes"}, "dcs_exists"),
    ("use-pg-rewind-int", {"patroni": {"use_pg_rewind": 1}}, "patroni:use_pg_rewind"),
    ("data-checksums-string", pg(data_checksums="true"), "postgresql:data_checksums"),
    ("tls-enabled-string", {"tls": {"enabled": "true"}}, "tls:enabled"),
    ("nosync-tag-string", {"patroni": {"tags": {"nosync": "no"}}}, "patroni:tags:nosync"),
    ("postgresql-exists-string", {"postgresql_exists": "no"}, "postgresql_exists"),
    ("maxconn-lots", {"haproxy": {"maxconn": "lots"}}, "haproxy:maxconn"),
    ("maxconn-zero", {"haproxy": {"maxconn": 0}}, "haproxy:maxconn"),
    ("maxconn-digits-string", {"haproxy": {"maxconn": "10000"}}, "haproxy:maxconn"),
    ("max-client-conn-words", {"pgbouncer": {"max_client_conn": "many"}}, "pgbouncer:max_client_conn"),
    ("pool-size-negative", {"pgbouncer": {"default_pool_size": -1}}, "pgbouncer:default_pool_size"),
    ("heartbeat-words", {"etcd": {"heartbeat_interval": "fast"}}, "etcd:heartbeat_interval"),
    ("advert-int-zero", {"keepalived": {"advert_int": 0}}, "keepalived:advert_int"),
    ("max-lag-negative", {"patroni": {"maximum_lag_on_failover": -1}}, "patroni:maximum_lag_on_failover"),
    ("haproxy-lag-words", {"haproxy": {"max_replication_lag": "big"}}, "haproxy:max_replication_lag"),
    ("port-string", pg(port="5432"), "postgresql:port"),
    ("direct-port-string", type_a({"roles": ["balancer"], "haproxy": {"direct_ports": {"master": "6000"}}}),
     "haproxy:direct_ports:master"),
    ("pgdg-version-string", {"pgdg": {"versions": [15, "sixteen"]}}, "pgdg:versions:1"),
    ("vip-manager-major-string", {"vip_manager": {"major_version": "2"}}, "vip_manager:major_version"),
    ("router-id-string", {"keepalived": {"virtual_router_id": "123"}}, "keepalived:virtual_router_id"),
    ("pgbouncer-enabled-yes", {"pgbouncer": {"enabled": "yes"}}, "pgbouncer:enabled"),
    ("vip-manager-enabled-string", {"vip_manager": {"enabled": "true"}}, "vip_manager:enabled"),
    ("enable-v2-on", {"etcd": {"enable_v2": "on"}}, "etcd:enable_v2"),
    ("pool-mode-unknown", {"pgbouncer": {"pool_mode": "txn"}}, "pgbouncer:pool_mode"),
    ("pool-mode-bool", {"pgbouncer": {"pool_mode": True}}, "pgbouncer:pool_mode"),
    # no control character (a newline above all) into a line-based file
    ("su-password-newline", pg(superuser={"password": "a\nb"}), "postgresql:superuser:password"),
    ("repl-password-cr", pg(replication_user={"password": "a\rb"}), "postgresql:replication_user:password"),
    ("rest-password-nul", {"patroni": {"restapi": {"password": "a\x00b"}}}, "patroni:restapi:password"),
    ("user-password-newline", user(password="x\ny"), "postgresql:users:0:password"),
    ("stats-password-newline", type_a({"haproxy": {"stats_password": "x\ny"}}), "haproxy:stats_password"),
    ("pgbouncer-password-line-separator", type_a({"pgbouncer": {"auth_user": {"password": "x\u2028y"}}}),
     "pgbouncer:auth_user:password"),
    ("vip-newline", {"cluster_vip": "10.0.0.100\n"}, "cluster_vip"),
    ("vip-interface-newline", {"vip_interface": "eth0\n--x"}, "vip_interface"),
    ("parameter-value-newline", pg(parameters={"work_mem": "8MB\nfsync = off"}), "postgresql:parameters:work_mem"),
    ("parameter-key-newline", pg(parameters={"work_mem\nfsync": "off"}), "postgresql:parameters:work_mem\nfsync"),
    ("hba-method-newline", hba(method="md5\nhost all all 0.0.0.0/0 trust"), "postgresql:pg_hba:0:method"),
    ("parameter-name-with-equals", pg(parameters={"work_mem = 1MB\nfsync": "off"}),
     "postgresql:parameters:work_mem = 1MB\nfsync"),
    ("parameter-name-with-space", pg(parameters={"work mem": "8MB"}), "postgresql:parameters:work mem"),
    ("pgbackrest-option-bracket", {"pgbackrest": {"global": {"[stanza]": "x"}}}, "pgbackrest:global:[stanza]"),
    ("pgbackrest-repo-option-equals", {"pgbackrest": {"repo": {"path=/": "x"}}}, "pgbackrest:repo:path=/"),
    ("pgbackrest-global-newline", {"pgbackrest": {"global": {"compress-type": "zst\nrepo1-path=/"}}},
     "pgbackrest:global:compress-type"),
    ("wal-g-option-newline", {"wal_g": {"json": {"WALG_S3_PREFIX": "s3://b\nx"}}}, "wal_g:json:WALG_S3_PREFIX"),
    ("etc-hosts-name-newline", {"system": {"etc_hosts": {"extra": [{"ip": "10.0.0.5", "names": ["a\nb"]}]}}},
     "system:etc_hosts:extra:0:names:0"),
    ("san-newline", {"tls": {"extra_sans": ["DNS:a\nb"]}}, "tls:extra_sans:0"),
    ("restore-target-newline", {"restore": {"type": "lsn", "target": "0/3000060\nx"}}, "restore:target"),
    ("paused-archive-command-newline", {"paused_archive_command": "true\nx"}, "paused_archive_command"),
    ("restore-command-newline", pg(restore_command="cp\nx"), "postgresql:restore_command"),
    ("wal-g-calendar-newline", {"wal_g": {"backup_on_calendar": "daily\nx"}}, "wal_g:backup_on_calendar"),
    ("stats-user-newline", type_a({"haproxy": {"stats_user": "ad\nmin"}}), "haproxy:stats_user"),
    ("key-text-bell", {"pkg_repos": [{"name": "x", "url": "file:/a", "key_text": PEM_KEY + "\x07"}]},
     "pkg_repos:0:key_text"),
    ("lookup-path-newline", {"lookup": {"paths": {"haproxy_config": "/etc/haproxy/h.cfg\n"}}},
     "lookup:paths:haproxy_config"),
    # interface names: Linux's IFNAMSIZ grammar, nothing for a command line to split
    ("vip-interface-shell", {"vip_interface": "eth0; rm -rf /"}, "vip_interface"),
    ("vip-interface-too-long", {"vip_interface": "a" * 16}, "vip_interface"),
    ("vip-interface-slash", {"vip_interface": "eth0/1"}, "vip_interface"),
    ("keepalived-interface-option", {"keepalived": {"interface": "--config=/tmp/x"}}, "keepalived:interface"),
    ("keepalived-interface-space", {"keepalived": {"interface": "eth 0"}}, "keepalived:interface"),
    # PostgreSQL identifiers: at most 63 bytes in UTF-8
    ("user-name-64-bytes", user(name="a" * 64), "postgresql:users:0:name"),
    ("user-name-64-utf8-bytes", user(name="ä" * 32), "postgresql:users:0:name"),
    ("database-name-64-bytes", db(name="d" * 64), "postgresql:databases:0:name"),
    ("database-owner-64-bytes", db(owner="o" * 64), "postgresql:databases:0:owner"),
    ("extension-name-64-bytes", pg(extensions=[{"name": "e" * 64, "db": "appdb"}]), "postgresql:extensions:0:name"),
    ("extension-schema-64-bytes", pg(extensions=[{"name": "x", "db": "appdb", "schema": "s" * 64}]),
     "postgresql:extensions:0:schema"),
    ("su-name-64-bytes", pg(superuser={"name": "x" * 64}), "postgresql:superuser:name"),
    ("auth-user-64-bytes", type_a({"pgbouncer": {"auth_user": {"name": "p" * 64}}}), "pgbouncer:auth_user:name"),
    ("user-login-string", user(login="yes"), "postgresql:users:0:login"),
    ("user-superuser-string", user(superuser="true"), "postgresql:users:0:superuser"),
    ("user-unknown-key", user(flags="SUPERUSER"), "postgresql:users:0:flags"),
    ("database-locale-space", db(lc_collate="C UTF-8"), "postgresql:databases:0:lc_collate"),
    ("database-unknown-key", db(template="template0"), "postgresql:databases:0:template"),
    # PgBouncer's [databases] line
    ("pool-name-space", pool(name="a b"), "pgbouncer:pools:0:name"),
    ("pool-dbname-semicolon", pool(dbname="db;x"), "pgbouncer:pools:0:dbname"),
    ("pool-parameters-newline", pool(pool_parameters="pool_size=20\nx"), "pgbouncer:pools:0:pool_parameters"),
    ("pool-parameters-no-equals", pool(pool_parameters="pool_size 20"), "pgbouncer:pools:0:pool_parameters"),
    ("pool-unknown-key", pool(size=20), "pgbouncer:pools:0:size"),
    ("pool-parameters-size-words", pool(pool_parameters="pool_size=many"), "pgbouncer:pools:0:pool_parameters"),
    ("pool-parameters-bad-mode", pool(pool_parameters="pool_mode=txn"), "pgbouncer:pools:0:pool_parameters"),
    ("pool-parameters-unknown", pool(pool_parameters="connect_query=DROP"), "pgbouncer:pools:0:pool_parameters"),
    # roles pgha manages itself, and names listed twice
    ("user-is-the-superuser", user(name="postgres"), "postgresql:users:0:name"),
    ("user-is-the-superuser-in-capitals", user(name="POSTGRES"), "postgresql:users:0:name"),
    ("user-is-the-replication-user", user(name="replicator"), "postgresql:users:0:name"),
    ("user-is-the-replication-user-mixed-case", user(name="Replicator"), "postgresql:users:0:name"),
    ("user-is-the-auth-user", type_a(user(name="pgbouncer")), "postgresql:users:0:name"),
    ("user-is-a-renamed-superuser", _with(user(name="admin"), pg(superuser={"name": "admin"})),
     "postgresql:users:0:name"),
    ("user-twice", pg(users=[{"name": "app", "password": "a"}, {"name": "app", "password": "b"}]),
     "postgresql:users:1:name"),
    ("database-twice", pg(databases=[{"name": "appdb"}, {"name": "appdb"}]), "postgresql:databases:1:name"),
    # pg_hba: PostgreSQL's documented grammar
    ("hba-method-unknown", hba(method="md6"), "postgresql:pg_hba:0:method"),
    ("hba-database-file", hba(database="@dbs"), "postgresql:pg_hba:0:database"),
    ("hba-user-file", hba(user="@users"), "postgresql:pg_hba:0:user"),
    ("hba-database-space", hba(database="my db"), "postgresql:pg_hba:0:database"),
    ("hba-user-semicolon", hba(user="app;x"), "postgresql:pg_hba:0:user"),
    ("hba-database-two-words", hba(database="all all"), "postgresql:pg_hba:0:database"),
    ("hba-options-bare-word", hba(options="clientcert"), "postgresql:pg_hba:0:options"),
    ("hba-local-with-address", pg(pg_hba=[{"type": "local", "database": "all", "user": "all",
                                           "address": "10.0.0.0/24", "method": "peer"}]),
     "postgresql:pg_hba:0:address"),
    ("hba-without-user", pg(pg_hba=[{"type": "host", "database": "all", "address": "10.0.0.0/24",
                                     "method": "md5"}]), "postgresql:pg_hba:0"),
    ("hba-user-int", hba(user=123), "postgresql:pg_hba:0:user"),
    ("hba-address-with-a-method", hba(address="10.0.0.0/24 trust"), "postgresql:pg_hba:0:address"),
    ("hba-unknown-key", hba(comment="x"), "postgresql:pg_hba:0:comment"),
    # paths: absolute, normalized; pgha's removal deletes data_dir, wal_dir, etcd's data_dir
    ("data-dir-var-lib", pg(data_dir="/var/lib"), "postgresql:data_dir"),
    ("data-dir-root", pg(data_dir="/"), "postgresql:data_dir"),
    ("data-dir-etc", pg(data_dir="/etc"), "postgresql:data_dir"),
    ("data-dir-relative", pg(data_dir="relative/dir"), "postgresql:data_dir"),
    ("data-dir-dot-dot", pg(data_dir="/var/lib/postgresql/../../etc"), "postgresql:data_dir"),
    ("data-dir-double-slash", pg(data_dir="/srv//pg"), "postgresql:data_dir"),
    ("data-dir-home", pg(data_dir="/home"), "postgresql:data_dir"),
    ("data-dir-postgres-home", pg(data_dir="/var/lib/postgresql"), "postgresql:data_dir"),
    ("wal-dir-usr", pg(wal_dir="/usr"), "postgresql:wal_dir"),
    ("wal-dir-var", pg(wal_dir="/var/"), "postgresql:wal_dir"),
    ("etcd-data-dir-var-lib", {"etcd": {"data_dir": "/var/lib"}}, "etcd:data_dir"),
    ("venv-relative", {"patroni": {"venv": "opt/patroni"}}, "patroni:venv"),
    ("wal-g-bin-relative", {"wal_g": {"bin": "wal-g"}}, "wal_g:bin"),
    ("confd-bin-dot-dot", {"confd": {"bin": "/usr/local/bin/../confd"}}, "confd:bin"),
    ("distro-path-relative", {"paths": {"patroni_config": "etc/patroni.yml"}}, "paths:patroni_config"),
    # names and words of config files and unit lines
    ("cluster-name-space", {"cluster_name": "Main Cluster"}, "cluster_name"),
    ("cluster-name-glob", {"cluster_name": "ma*"}, "cluster_name"),
    ("cluster-name-dash", {"cluster_name": "-main"}, "cluster_name"),
    ("stanza-path", {"pgbackrest": {"stanza": "../x"}}, "pgbackrest:stanza"),
    ("cluster-token-space", {"etcd": {"cluster_token": "tok en"}}, "etcd:cluster_token"),
    ("rest-username-colon", {"patroni": {"restapi": {"username": "pat:roni"}}}, "patroni:restapi:username"),
    ("stats-user-space", type_a({"haproxy": {"stats_user": "ad min"}}), "haproxy:stats_user"),
    ("pip-version-shell", {"patroni": {"pip_version": "latest; rm"}}, "patroni:pip_version"),
    ("bootstrap-node-space", {"patroni": {"bootstrap_node": "pg 1"}}, "patroni:bootstrap_node"),
    ("repo-host-user-upper", {"pgbackrest": {"repo_host_user": "Root!"}}, "pgbackrest:repo_host_user"),
    ("service-name-shell", {"services": {"patroni": "patroni;reboot"}}, "services:patroni"),
    ("package-name-shell", {"pkgs": {"haproxy": ["haproxy; rm"]}}, "pkgs:haproxy:0"),
    ("os-user-space", {"users": {"postgres": "Post Gres"}}, "users:postgres"),
    ("haproxy-timeout-words", {"haproxy": {"timeout_client": "30 minutes"}}, "haproxy:timeout_client"),
    ("encoding-space", pg(encoding="UTF 8"), "postgresql:encoding"),
    ("apt-components-shell", {"pkg_repo": {"components": "main; x"}}, "pkg_repo:components"),
    ("wal-g-hash-space", {"wal_g": {"source_hash": "sha256 = x"}}, "wal_g:source_hash"),
    # non-ASCII where Patroni 3.0.2 or HTTP basic auth cannot carry it
    ("su-password-non-ascii", pg(superuser={"password": "pässwörd"}), "postgresql:superuser:password"),
    ("repl-password-non-ascii", pg(replication_user={"password": "pässwörd #1; --"}),
     "postgresql:replication_user:password"),
    ("rest-password-non-ascii", {"patroni": {"restapi": {"password": "ü-secret"}}}, "patroni:restapi:password"),
    # the keys the model types itself (once Any(), checked by hand in a rule)
    ("roles-unknown", {"roles": ["postgresql", "db"]}, "roles:1"),
    ("roles-item-int", {"roles": ["postgresql", 1]}, "roles:1"),
    ("vip-host-name", {"cluster_vip": "vip.example"}, "cluster_vip"),
    ("address-host-name", {"address": "pg1"}, "address"),
    ("pkg-repo-entry-a-line", {"pkg_repos": ["deb http://x.example bookworm main"]}, "pkg_repos:0"),
    ("pkg-repo-trusted-string", {"pkg_repos": [{"name": "x", "url": "file:/a", "trusted": "yes"}]},
     "pkg_repos:0:trusted"),
    ("pkg-repo-name-space", {"pkg_repos": [{"name": "my repo", "url": "file:/a"}]}, "pkg_repos:0:name"),
    ("etcd-endpoint-int", {"dcs_exists": True, "roles": ["postgresql"], "etcd": {"endpoints": [2379]}},
     "etcd:endpoints:0"),
    ("available-version-word", pg(available_versions=["fifteen"]), "postgresql:available_versions:0"),
    ("ttl-with-unit", {"patroni": {"ttl": "30s"}}, "patroni:ttl"),
    ("primary-start-timeout-float", {"patroni": {"primary_start_timeout": 1.5}}, "patroni:primary_start_timeout"),
    ("replica-method-unknown", {"patroni": {"create_replica_methods": ["rsync"]}},
     "patroni:create_replica_methods:0"),
    ("replica-methods-a-string", {"patroni": {"create_replica_methods": "basebackup"}},
     "patroni:create_replica_methods"),
    ("haproxy-check-inter-zero", {"haproxy": {"check": {"inter": "0s"}}}, "haproxy:check:inter"),
    ("haproxy-check-rise-word", {"haproxy": {"check": {"rise": "two"}}}, "haproxy:check:rise"),
    ("router-id-zero", {"keepalived": {"virtual_router_id": 0}}, "keepalived:virtual_router_id"),
    ("vip-netmask-dotted", {"vip_manager": {"netmask": "255.255.255.0"}}, "vip_manager:netmask"),
    ("vip-manager-interval-zero", {"vip_manager": {"interval": 0}}, "vip_manager:interval"),
    ("restart-timeout-with-unit", {"operations": {"restart_timeout": "5m"}}, "operations:restart_timeout"),
    ("max-lag-bytes-float", {"operations": {"max_replication_lag_bytes": 1.5}},
     "operations:max_replication_lag_bytes"),
    ("restore-set-space", {"restore": {"set": "20261126 full"}}, "restore:set"),
    ("restore-stanza-int", {"restore": {"stanza": 5}}, "restore:stanza"),
    ("wal-g-option-bool", {"wal_g": {"json": {"WALG_COMPRESSION_METHOD": True}}},
     "wal_g:json:WALG_COMPRESSION_METHOD"),
    ("wal-g-option-name-space", {"wal_g": {"json": {"WALG S3": "x"}}}, "wal_g:json:WALG S3"),
    ("wal-g-retain-string", {"wal_g": {"retain_full": "4"}}, "wal_g:retain_full"),
    ("schedule-type-weekly", {"pgbackrest": {"schedule": [{"type": "weekly", "on_calendar": "Sun"}]}},
     "pgbackrest:schedule:0:type"),
    ("schedule-unknown-key", {"pgbackrest": {"schedule": [{"type": "full", "on_calendar": "Sun", "repo": 2}]}},
     "pgbackrest:schedule:0:repo"),
    ("schedule-entry-a-string", {"pgbackrest": {"schedule": ["full Sun"]}}, "pgbackrest:schedule:0"),
    ("hba-type-unknown", hba(type="hots"), "postgresql:pg_hba:0:type"),
    ("hba-options-int", hba(options=1), "postgresql:pg_hba:0:options"),
    ("hba-address-no-prefix", hba(address="10.0.0.5"), "postgresql:pg_hba:0:address"),
    ("firewall-not-a-mapping", {"firewall": True}, "firewall"),
    ("firewall-enabled-string", {"firewall": {"enabled": "yes"}}, "firewall:enabled"),
    ("firewall-ssh-port-word", {"firewall": {"ssh_port": "ssh"}}, "firewall:ssh_port"),
    ("firewall-source-a-name", {"firewall": {"client_sources": ["appservers"]}}, "firewall:client_sources:0"),
    ("firewall-extra-rule-int", {"firewall": {"extra_rules": [22]}}, "firewall:extra_rules:0"),
    ("firewall-extra-port-range", {"firewall": {"extra_ports": ["9100-9200"]}}, "firewall:extra_ports:0"),
    ("sysctl-enabled-string", {"system": {"sysctl": {"enabled": "yes"}}}, "system:sysctl:enabled"),
    ("sysctl-name-without-dot", {"system": {"sysctl": {"settings": {"swappiness": 1}}}},
     "system:sysctl:settings:swappiness"),
    ("huge-pages-with-unit", {"system": {"huge_pages": "1G"}}, "system:huge_pages"),
    ("thp-always", {"system": {"transparent_huge_pages": "always"}}, "system:transparent_huge_pages"),
    ("limits-section-a-list", {"system": {"limits": ["nofile"]}}, "system:limits"),
    ("limits-user-upper", {"system": {"limits": {"user": "Postgres"}}}, "system:limits:user"),
    ("hard-nofile-low", {"system": {"limits": {"hard_nofile": 100}}}, "system:limits:hard_nofile"),
    ("locale-space", {"system": {"locales": ["en US"]}}, "system:locales:0"),
    ("time-daemon-ntp", {"system": {"time_sync": {"daemon": "ntp"}}}, "system:time_sync:daemon"),
    ("time-server-int", {"system": {"time_sync": {"servers": [5]}}}, "system:time_sync:servers:0"),
    ("etc-hosts-bad-ip", {"system": {"etc_hosts": {"extra": [{"ip": "10.0.0.300", "names": ["x"]}]}}},
     "system:etc_hosts:extra:0:ip"),
    ("tls-require-ssl-string", {"tls": {"require_ssl": "on"}}, "tls:require_ssl"),
    ("tls-days-valid-zero", {"tls": {"days_valid": 0}}, "tls:days_valid"),
    ("tls-san-without-kind", {"tls": {"extra_sans": ["db.example.com"]}}, "tls:extra_sans:0"),
    ("proxy-port-int", {"proxy_env": {"http_proxy": 3128}}, "proxy_env:http_proxy"),
    ("rto-profile-int", {"patroni": {"rto_profile": 1}}, "patroni:rto_profile"),
    # Patroni's watchdog
    ("watchdog-mode-unknown", {"patroni": {"watchdog": {"mode": "on"}}}, "patroni:watchdog:mode"),
    ("watchdog-device-not-in-dev", {"patroni": {"watchdog": {"device": "/tmp/watchdog"}}}, "patroni:watchdog:device"),
    ("watchdog-device-quote", {"patroni": {"watchdog": {"device": '/dev/watch"dog'}}}, "patroni:watchdog:device"),
    ("watchdog-margin-negative", {"patroni": {"watchdog": {"safety_margin": -1}}}, "patroni:watchdog:safety_margin"),
    ("watchdog-required-margin-too-long", {"patroni": {"watchdog": {"mode": "required", "safety_margin": 30}}},
     "patroni:watchdog:safety_margin"),
    # issue 21: PgBouncer in Type B and its settings
    ("pgbouncer-type-b-no-password", {"pgbouncer": {"enabled": True}}, "pgbouncer:auth_user:password"),
    ("pgbouncer-processes-zero", {"pgbouncer": {"processes": 0}}, "pgbouncer:processes"),
    ("pgbouncer-processes-words", {"pgbouncer": {"processes": "two"}}, "pgbouncer:processes"),
    ("pgbouncer-max-db-connections-negative", {"pgbouncer": {"max_db_connections": -1}},
     "pgbouncer:max_db_connections"),
    ("pgbouncer-max-prepared-words", {"pgbouncer": {"max_prepared_statements": "lots"}},
     "pgbouncer:max_prepared_statements"),
    ("pgbouncer-query-wait-timeout-string", {"pgbouncer": {"query_wait_timeout": "120s"}},
     "pgbouncer:query_wait_timeout"),
    ("pgbouncer-auth-user-enabled-yes", {"pgbouncer": {"auth_user": {"enabled": "no"}}}, "pgbouncer:auth_user:enabled"),
    ("pgbouncer-auth-dbname-space", {"pgbouncer": {"auth_dbname": "app db"}}, "pgbouncer:auth_dbname"),
    ("pgbouncer-version-float", {"pgbouncer": {"version": 1.18}}, "pgbouncer:version"),
    ("pgbouncer-version-words", {"pgbouncer": {"version": "latest"}}, "pgbouncer:version"),
    ("pgbouncer-switchover-pause-yes", {"pgbouncer": {"switchover_pause": "yes"}}, "pgbouncer:switchover_pause"),
    ("pgbouncer-switchover-pause-on", type_a({"pgbouncer": {"switchover_pause": True}}), "pgbouncer:switchover_pause"),
    ("pgbouncer-pause-timeout-zero", {"pgbouncer": {"pause_timeout": 0}}, "pgbouncer:pause_timeout"),
    ("pgbouncer-auth-dbname-userlist", type_a({"pgbouncer": {"auth_dbname": "postgres",
                                                             "auth_user": {"enabled": False}}}),
     "pgbouncer:auth_dbname"),
    ("pgbouncer-pause-many-processes", type_a({"pgbouncer": {"switchover_pause": True, "processes": 2}}),
     "pgbouncer:switchover_pause"),
    ("pgbouncer-prepared-on-1-18", type_a({"pgbouncer": {"max_prepared_statements": 100, "version": "1.18"}}),
     "pgbouncer:max_prepared_statements"),
    # Patroni's and etcd's own settings, version pins (issue 23)
    ("slot-name-upper", {"patroni": {"slots": [{"slot": "Bad-Name"}]}}, "patroni:slots:0:slot"),
    ("slot-name-missing", {"patroni": {"slots": [{"type": "physical"}]}}, "patroni:slots:0:slot"),
    ("slot-type-unknown", {"patroni": {"slots": [{"slot": "s1", "type": "temporary"}]}}, "patroni:slots:0:type"),
    ("slot-unknown-field", {"patroni": {"slots": [{"slot": "s1", "db": "x"}]}}, "patroni:slots:0:db"),
    ("slot-twice", {"patroni": {"slots": [{"slot": "s1"}, {"slot": "s1"}]}}, "patroni:slots:1:slot"),
    ("logical-slot-without-database", {"patroni": {"slots": [{"slot": "s1", "type": "logical", "plugin": "pgoutput"}],
                                                   "logical_slots_restart_replicas": True}}, "patroni:slots:0:database"),
    ("logical-slot-restart-not-allowed", {"patroni": {"slots": [{"slot": "s1", "type": "logical", "plugin": "pgoutput",
                                                                 "database": "app"}]}}, "patroni:slots:0:type"),
    ("physical-slot-on-patroni-3.0.2", {"patroni": {"packaged_version": "3.0.2", "slots": [{"slot": "s1"}]}},
     "patroni:slots:0:type"),
    ("physical-slot-with-plugin", {"patroni": {"slots": [{"slot": "s1", "plugin": "pgoutput"}]}},
     "patroni:slots:0:plugin"),
    ("callback-action-unknown", {"patroni": {"callbacks": [{"action": "on_failover", "contents": "x"}]}},
     "patroni:callbacks:0:action"),
    ("callback-source-and-contents", {"patroni": {"callbacks": [{"action": "on_start", "contents": "x",
                                                                 "source": "salt://a.sh"}]}}, "patroni:callbacks:0"),
    ("callback-no-script", {"patroni": {"callbacks": [{"action": "on_start"}]}}, "patroni:callbacks:0"),
    ("callback-source-http", {"patroni": {"callbacks": [{"action": "on_start", "source": "http://x/a.sh"}]}},
     "patroni:callbacks:0:source"),
    ("callback-twice", {"patroni": {"callbacks": [{"action": "on_start", "contents": "a"},
                                                  {"action": "on_start", "contents": "b"}]}},
     "patroni:callbacks:1:action"),
    ("remove-data-on-rewind-string", {"patroni": {"remove_data_directory_on_rewind_failure": "true"}},
     "patroni:remove_data_directory_on_rewind_failure"),
    ("remove-data-on-diverged-int", {"patroni": {"remove_data_directory_on_diverged_timelines": 1}},
     "patroni:remove_data_directory_on_diverged_timelines"),
    ("log-destination-syslog", {"patroni": {"log": {"destination": "syslog"}}}, "patroni:log:destination"),
    ("log-level-verbose", {"patroni": {"log": {"level": "verbose"}}}, "patroni:log:level"),
    ("log-dir-relative", {"patroni": {"log": {"dir": "var/log/patroni"}}}, "patroni:log:dir"),
    ("log-file-size-tiny", {"patroni": {"log": {"file_size": 10}}}, "patroni:log:file_size"),
    ("log-logger-level", {"patroni": {"log": {"loggers": {"urllib3": "loud"}}}}, "patroni:log:loggers:urllib3"),
    ("namespace-relative", {"patroni": {"etcd": {"namespace": "service"}}}, "patroni:etcd:namespace"),
    ("namespace-dotdot", {"patroni": {"etcd": {"namespace": "/service/../other/"}}}, "patroni:etcd:namespace"),
    ("namespace-space", {"patroni": {"etcd": {"namespace": "/my service/"}}}, "patroni:etcd:namespace"),
    ("etcd-user-without-password", {"patroni": {"etcd": {"username": "patroni"}}}, "patroni:etcd:password"),
    ("etcd-password-without-user", {"patroni": {"etcd": {"password": "x"}}}, "patroni:etcd:username"),
    ("etcd-user-root", {"patroni": {"etcd": {"username": "root", "password": "x", "root_password": "r"}}},
     "patroni:etcd:username"),
    ("etcd-auth-without-root-password", {"patroni": {"etcd": {"username": "patroni", "password": "x"}}},
     "patroni:etcd:root_password"),
    ("etcd-password-int", {"patroni": {"etcd": {"username": "patroni", "password": 1234, "root_password": "r"}}},
     "patroni:etcd:password"),
    ("pending-restart-string", {"patroni": {"pending_restart": "yes"}}, "patroni:pending_restart"),
    ("version-minor-word", pg(version_minor="eighteen"), "postgresql:version_minor"),
    ("version-minor-int", pg(version_minor=18), "postgresql:version_minor"),
    ("patroni-version-shell", {"patroni": {"version": "3.0.2; rm -rf /"}}, "patroni:version"),
    ("etcd-version-float", {"etcd": {"version": 3.4}}, "etcd:version"),
]


# application roles and objects (issue 22)
def priv(**kw):
    return pg(privs=[{"role": "app", "privs": "SELECT", "type": "table", "db": "appdb", "objs": "t", **kw}])


CASES += [
    ("user-role-int", user(role=5), "postgresql:users:0:role"),
    ("user-role-itself", user(role="pg_monitor, app"), "postgresql:users:0:role"),
    ("user-conn-limit-word", user(conn_limit="ten"), "postgresql:users:0:conn_limit"),
    ("user-conn-limit-below", user(conn_limit=-2), "postgresql:users:0:conn_limit"),
    ("user-state-word", user(state="gone"), "postgresql:users:0:state"),
    ("user-reassign-without-absent", user(reassign_owned_to="other"), "postgresql:users:0:reassign_owned_to"),
    ("user-reassign-to-itself", pg(users=[{"name": "old", "state": "absent", "reassign_owned_to": "old"}]),
     "postgresql:users:0:reassign_owned_to"),
    ("user-member-of-a-removed-role", pg(users=[{"name": "old", "state": "absent"},
                                                {"name": "app", "password": "pw", "role": "old"}]),
     "postgresql:users:1:role"),
    ("database-owner-removed", pg(users=[{"name": "old", "state": "absent"}], databases=[{"name": "d", "owner": "old"}]),
     "postgresql:databases:0:owner"),
    ("database-absent-without-drop", db(state="absent"), "postgresql:databases:0:drop"),
    ("database-drop-without-absent", db(drop=True), "postgresql:databases:0:drop"),
    ("database-drop-string", db(state="absent", drop="yes"), "postgresql:databases:0:drop"),
    ("database-drop-postgres", pg(databases=[{"name": "postgres", "state": "absent", "drop": True}]),
     "postgresql:databases:0:state"),
    ("database-drop-template1", pg(databases=[{"name": "template1", "state": "absent", "drop": True}]),
     "postgresql:databases:0:state"),
    ("database-drop-pooled", type_a(_with(db(state="absent", drop=True), pool())), "postgresql:databases:0:state"),
    ("database-conn-limit-float", db(conn_limit=1.5), "postgresql:databases:0:conn_limit"),
    ("schema-without-db", pg(schemas=[{"schema": "s"}]), "postgresql:schemas:0:db"),
    ("schema-64-bytes", pg(schemas=[{"schema": "s" * 64, "db": "appdb"}]), "postgresql:schemas:0:schema"),
    ("schema-unknown-key", pg(schemas=[{"schema": "s", "db": "appdb", "state": "absent"}]), "postgresql:schemas:0:state"),
    ("schema-twice", pg(schemas=[{"schema": "s", "db": "d"}, {"schema": "s", "db": "d"}]), "postgresql:schemas:1:schema"),
    ("schema-in-dropped-db", _with(db(state="absent", drop=True), pg(schemas=[{"schema": "s", "db": "appdb"}])),
     "postgresql:schemas:0:db"),
    ("privs-type-unknown", priv(type="tablespace"), "postgresql:privs:0:type"),
    ("privs-privilege-sql", priv(privs="SELECT; DROP TABLE t"), "postgresql:privs:0:privs"),
    ("privs-privilege-wrong-type", priv(privs="EXECUTE"), "postgresql:privs:0:privs"),
    ("privs-without-role", priv(role=""), "postgresql:privs:0:role"),
    ("privs-without-db", pg(privs=[{"role": "app", "privs": "SELECT", "type": "table", "objs": "t"}]),
     "postgresql:privs:0:db"),
    ("privs-without-objs", priv(objs=None), "postgresql:privs:0:objs"),
    ("privs-all-in-schema-with-others", priv(objs="ALL_IN_SCHEMA,t"), "postgresql:privs:0:objs"),
    ("privs-default-kind", priv(type="default_privs", objs="VIEWS"), "postgresql:privs:0:objs"),
    ("privs-target-roles-not-default", priv(target_roles="app"), "postgresql:privs:0:target_roles"),
    ("privs-exact-absent", priv(exact=True, state="absent"), "postgresql:privs:0:exact"),
    ("privs-exact-string", priv(exact="true"), "postgresql:privs:0:exact"),
    ("privs-role-removed", _with(priv(), pg(users=[{"name": "app", "state": "absent"}])), "postgresql:privs:0:role"),
    ("privs-unknown-key", priv(comment="x"), "postgresql:privs:0:comment"),
    ("extension-timescaledb", pg(extensions=[{"name": "timescaledb", "db": "appdb"}]), "postgresql:extensions:0:name"),
    ("extension-unknown", pg(extensions=[{"name": "made_up_ext", "db": "appdb"}]), "postgresql:extensions:0:name"),
    ("extension-pgvector-project-name", pg(extensions=[{"name": "pgvector", "db": "appdb"}]),
     "postgresql:extensions:0:name"),
    ("extension-no-pgdg-rpm-name", pg(extension_packages_from="pgdg_rpm", extensions=[{"name": "pgtap", "db": "appdb"}]),
     "postgresql:extensions:0:name"),
    ("extension-source-unknown", pg(extension_packages_from="ubuntu"), "postgresql:extension_packages_from"),
    ("extension-package-shell", pg(extensions=[{"name": "x", "db": "appdb", "package": "x; rm -rf /"}]),
     "postgresql:extensions:0:package"),
    ("extension-preload-string", pg(extensions=[{"name": "pg_trgm", "db": "appdb", "preload": "yes"}]),
     "postgresql:extensions:0:preload"),
    ("ident-map-space", pg(pg_ident=[{"mapname": "my map", "system_username": "a", "pg_username": "b"}]),
     "postgresql:pg_ident:0:mapname"),
    ("ident-regex-space", pg(pg_ident=[{"mapname": "m", "system_username": "/^a b$", "pg_username": "b"}]),
     "postgresql:pg_ident:0:system_username"),
    ("ident-regex-broken", pg(pg_ident=[{"mapname": "m", "system_username": "/^(a$", "pg_username": "b"}]),
     "postgresql:pg_ident:0:system_username"),
    ("ident-backref-without-group", pg(pg_ident=[{"mapname": "m", "system_username": "alice", "pg_username": "\\1"}]),
     "postgresql:pg_ident:0:pg_username"),
    ("ident-pg-user-newline", pg(pg_ident=[{"mapname": "m", "system_username": "a", "pg_username": "b\nc"}]),
     "postgresql:pg_ident:0:pg_username"),
    ("ident-missing-field", pg(pg_ident=[{"mapname": "m", "system_username": "a"}]), "postgresql:pg_ident:0:pg_username"),
    ("hba-map-without-ident", hba(method="cert", options="map=nomap"), "postgresql:pg_hba:0:options"),
    # issue 24: monitoring
    ("monitoring-no-password", mon(), "monitoring:user:password"),
    ("monitoring-password-int", mon(user={"password": 123}), "monitoring:user:password"),
    ("monitoring-enabled-string", {"monitoring": {"enabled": "yes"}}, "monitoring:enabled"),
    ("monitoring-user-is-superuser", mon(user={"name": "postgres", "password": "m-pw"}), "monitoring:user:name"),
    ("monitoring-port-collides", mon(user={"password": "m-pw"}, ports={"postgres_exporter": 5432}),
     "monitoring:ports:postgres_exporter"),
    ("monitoring-port-zero", mon(user={"password": "m-pw"}, ports={"node_exporter": 0}), "monitoring:ports:node_exporter"),
    ("monitoring-retention-days-int", mon(user={"password": "m-pw"}, retention=15), "monitoring:retention"),
    ("monitoring-retention-bad", mon(user={"password": "m-pw"}, retention="15 days"), "monitoring:retention"),
    ("monitoring-threshold-string", mon(user={"password": "m-pw"}, alerts={"backup_age_hours": "36h"}),
     "monitoring:alerts:backup_age_hours"),
    ("monitoring-for-bad", mon(user={"password": "m-pw"}, alerts={"paused_for": "1 hour"}), "monitoring:alerts:paused_for"),
    ("monitoring-webhook-not-url", mon(user={"password": "m-pw"}, alertmanager={"webhook_url": "chat"}),
     "monitoring:alertmanager:webhook_url"),
    ("monitoring-cluster-glob", mon(user={"password": "m-pw"}, clusters=["main*"]), "monitoring:clusters:0"),
    ("monitor-role-without-monitoring", {"roles": ["monitor"]}, "roles"),
    # h9-mon: PgBouncer's exporter per release (Debian 12's refusal: test_monitoring.py)
    ("monitoring-pgbouncer-exporter-string", mon(user={"password": "m-pw"}, pgbouncer_exporter="yes"),
     "monitoring:pgbouncer_exporter"),
]


# standby clusters (issue 20)
def standby(**kw):
    return {"standby_cluster": {"host": "10.0.0.200", "cluster": "dc1", **kw}}


def main_of(*entries, **settings):
    return {"standby_clusters": list(entries), **settings}


CASES += [
    ("standby-of-its-own-vip", _with(standby(host="10.0.0.100"), {"cluster_vip": "10.0.0.100"}),
     "standby_cluster:host"),
    ("standby-of-its-own-cluster", standby(cluster="main"), "standby_cluster:host"),
    ("standby-without-host", {"standby_cluster": {"primary_slot_name": "dr", "cluster": "dc1"}},
     "standby_cluster:host"),
    ("standby-host-with-space", standby(host="10.0.0.200 10.0.0.201"), "standby_cluster:host"),
    ("standby-slot-not-an-identifier", standby(primary_slot_name="DR-slot"), "standby_cluster:primary_slot_name"),
    ("standby-slot-too-long", standby(primary_slot_name="s" * 64), "standby_cluster:primary_slot_name"),
    ("standby-port-word", standby(port="five"), "standby_cluster:port"),
    ("standby-method-unknown", standby(create_replica_methods=["rsync"]), "standby_cluster:create_replica_methods:0"),
    ("standby-pgbackrest-without-pgbackrest", standby(create_replica_methods=["pgbackrest"]),
     "standby_cluster:create_replica_methods:0"),
    ("standby-apply-delay-word", standby(recovery_min_apply_delay="soon"), "standby_cluster:recovery_min_apply_delay"),
    ("standby-cluster-name-glob", standby(cluster="dc*"), "standby_cluster:cluster"),
    ("standby-type-a", type_a(standby()), "standby_cluster"),
    ("standby-with-standbys", _with(standby(), main_of({"name": "dr2", "addresses": ["10.0.2.1"]})),
     "standby_clusters"),
    ("main-type-a-behind-pgbouncer", type_a(main_of({"name": "dr", "addresses": ["10.0.1.11"], "slot": "dr"})),
     "standby_clusters"),
    ("main-lists-itself", main_of({"name": "main", "addresses": ["10.0.1.11"]}), "standby_clusters:0:name"),
    ("main-standby-without-addresses", main_of({"name": "dr", "slot": "dr"}), "standby_clusters:0:addresses"),
    ("main-standby-address-word", main_of({"name": "dr", "addresses": ["dr-site"]}), "standby_clusters:0:addresses:0"),
    ("main-standby-slot-upper", main_of({"name": "dr", "addresses": ["10.0.1.11"], "slot": "DR"}),
     "standby_clusters:0:slot"),
    ("main-standby-slot-twice", main_of({"name": "dr", "addresses": ["10.0.1.11"], "slot": "dr"},
                                        {"name": "dr2", "addresses": ["10.0.2.11"], "slot": "dr"}),
     "standby_clusters:1:slot"),
    ("main-standby-slot-in-patroni-slots", _with(main_of({"name": "dr", "addresses": ["10.0.1.11"], "slot": "s1"}),
                                                 {"patroni": {"slots": [{"slot": "s1"}]}}), "standby_clusters:0:slot"),
    ("main-standby-twice", main_of({"name": "dr", "addresses": ["10.0.1.11"]}, {"name": "dr", "addresses": ["10.0.1.12"]}),
     "standby_clusters:1:name"),
    ("main-standby-unknown-field", main_of({"name": "dr", "addresses": ["10.0.1.11"], "port": 5432}),
     "standby_clusters:0:port"),
]


def test_enough_distinct_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 160


# issue 19: major upgrade
CASES += [
    ("upgrade-remove-old-data-string", {"upgrade": {"remove_old_data": "yes"}}, "upgrade:remove_old_data"),
    ("upgrade-remove-old-packages-int", {"upgrade": {"remove_old_packages": 1}}, "upgrade:remove_old_packages"),
    ("upgrade-update-extensions-string", {"upgrade": {"update_extensions": "true"}}, "upgrade:update_extensions"),
    ("upgrade-stanza-upgrade-string", {"upgrade": {"stanza_upgrade": "no"}}, "upgrade:stanza_upgrade"),
    ("upgrade-pgbouncer-pause-string", {"upgrade": {"pgbouncer_pause": "off"}}, "upgrade:pgbouncer_pause"),
    ("upgrade-vacuumdb-jobs-zero", {"upgrade": {"vacuumdb_parallel_jobs": 0}}, "upgrade:vacuumdb_parallel_jobs"),
    ("upgrade-timeout-with-unit", {"upgrade": {"start_stop_timeout": "30m"}}, "upgrade:start_stop_timeout"),
]


# a standby cluster restoring from its main cluster's pgBackRest repository host (h10-drrepo)
CASES += [
    ("standby-repo-without-pgbackrest", standby(pgbackrest={"enabled": True}), "standby_cluster:pgbackrest:enabled"),
    ("standby-repo-without-main-name", _with({"standby_cluster": {"host": "10.0.0.200", "pgbackrest": {"enabled": True}}},
                                             {"pgbackrest": {"enabled": True}}), "standby_cluster:cluster"),
    ("standby-repo-enabled-word", standby(pgbackrest={"enabled": "yes"}), "standby_cluster:pgbackrest:enabled"),
    ("standby-repo-stanza-space", standby(pgbackrest={"enabled": True, "stanza": "my stanza"}),
     "standby_cluster:pgbackrest:stanza"),
    ("standby-repo-user-upper", standby(pgbackrest={"enabled": True, "repo_host_user": "PgBackRest"}),
     "standby_cluster:pgbackrest:repo_host_user"),
    ("standby-repo-unknown-field", standby(pgbackrest={"enabled": True, "repo_host": "10.0.0.41"}),
     "standby_cluster:pgbackrest:repo_host"),
    ("standby-repo-without-host", {"standby_cluster": {"pgbackrest": {"enabled": True}}}, "standby_cluster:host"),
    ("main-repo-without-pgbackrest", main_of({"name": "dr", "addresses": ["10.0.1.11"], "pgbackrest": True}),
     "standby_clusters:0:pgbackrest"),
    ("main-repo-word", main_of({"name": "dr", "addresses": ["10.0.1.11"], "pgbackrest": "yes"}),
     "standby_clusters:0:pgbackrest"),
]


@pytest.mark.parametrize("change,key", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_pillar_is_refused_naming_its_key(change, key):
    problems = pgha_validate.check(_with(MINIMAL_VALID, change), DEFAULTS, {"os_family": "Debian"})
    assert any(p.startswith(f"pgha:{key}: ") for p in problems), problems
    assert all(p.startswith("pgha:") for p in problems)


def test_secrets_never_shown(defaults):
    """A refused password's value is not in the message (the output goes to the job cache)."""
    for change in (pg(superuser={"password": "sëcret\n"}), pg(superuser={"password": 987654})):
        text = "\n".join(pgha_validate.check(_with(MINIMAL_VALID, change), defaults))
        assert "sëcret" not in text and "987654" not in text


def test_yaml_typed_message_says_how_to_quote(defaults):
    [problem] = pgha_validate.check(_with(MINIMAL_VALID, pg(superuser={"password": 123})), defaults)
    assert "YAML read it as an integer" in problem and "'0123'" in problem


def test_reserved_role_message_points_to_its_key(defaults):
    [problem] = pgha_validate.check(_with(MINIMAL_VALID, user(name="Postgres")), defaults)
    assert "pgha:postgresql:superuser:name" in problem and "case" in problem


# -- properties ----------------------------------------------------------------------------------

# A UTF-8 string without control characters: what any password or name may be.
PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40)
NASTY = st.one_of(
    st.integers(), st.booleans(), st.floats(allow_nan=False), st.dates(),
    st.text(min_size=1, max_size=20).map(lambda t: t + "\n"),
    st.sampled_from(["\x00", "a\rb", "x\u2028y", "\x1b[0m"]),
)
# (a Str that also takes a whole number, such as an HAProxy time in ms, accepts integers)
STRING_KEYS = sorted(key for key, kind in pgha_model.KEYS.items()
                     if isinstance(kind, pgha_model.Str) and not kind.pem and not kind.numbers)


def _set(pillar, key, value):
    *parents, last = key.split(":")
    node = pillar
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return pillar


@settings(derandomize=True, max_examples=100, deadline=None)
@given(key=st.sampled_from(STRING_KEYS), value=NASTY)
def test_any_refused_string_key_names_its_key(key, value):
    """A string key given a YAML-typed scalar or a control character: refused, naming the key."""
    problems = pgha_validate.check(_set(copy.deepcopy(MINIMAL_VALID), key, value), DEFAULTS)
    assert problems and all(p.startswith("pgha:") for p in problems)
    assert any(p.startswith(f"pgha:{key}") for p in problems), problems


@settings(derandomize=True, max_examples=60, deadline=None)
@given(name=PRINTABLE.filter(lambda n: len(n.encode()) <= 63 and n.lower() not in ("postgres", "replicator")),
       password=PRINTABLE, ascii_password=PRINTABLE.filter(str.isascii))
def test_the_model_accepts_any_printable_name_and_password(name, password, ascii_password):
    """The defaults plus a minimal pillar are valid, with any printable UTF-8 user name (at most
    63 bytes), application password and database name, and any printable ASCII password for
    the roles Patroni bootstraps."""
    pillar = _with(MINIMAL_VALID, {"postgresql": {
        "superuser": {"password": ascii_password}, "replication_user": {"password": ascii_password},
        "users": [{"name": name, "password": password}], "databases": [{"name": name, "owner": name}]},
        "patroni": {"restapi": {"password": ascii_password}}})
    if ascii_password.strip() == "" or ascii_password.startswith("CHANGE-ME") or password.startswith("CHANGE-ME"):
        return
    assert pgha_validate.check(pillar, DEFAULTS) == []


def test_defaults_and_minimal_pillar_are_valid(defaults):
    assert pgha_validate.check(copy.deepcopy(MINIMAL_VALID), defaults) == []

