"""
Render every SLS file of the formula, offline, with ``salt-call --local``: a pillar matrix
(Type B with a VIP, Patroni from pip, an existing etcd; Type A with HAProxy, PgBouncer and
keepalived, on a database node and on a balancer) on Debian 12, Debian 13 and RHEL 9 grains;
the package sources (PGDG, EPEL, pkg_repos, proxy_env) also on Rocky and Alma 8 and 9.
One ``state.show_sls`` subprocess per (grains, pillar) renders all SLS at once; a few more
render ``pgha`` alone (what highstate applies for the roles) and the Patroni config file. The
HAProxy, keepalived and PgBouncer files are rendered in-process by Salt's Jinja renderer from
the context their file.managed state was compiled with (no subprocess per file).

Nothing is applied: show_sls only renders and compiles. For Type B the mine is a local datastore
file (this node, pg1, published 10.0.0.11); for Type A a test double of the ``mine`` module
answers from a table of minions (three database nodes, two balancers, and minions of another
cluster and of clusters named like it but for case, which must never show up).
``pgha_patroni.is_leader`` asks a fake Patroni REST API on 127.0.0.1 for the pillars that
manage users, and a missing config file (not the leader) for the others.

This module holds that matrix (grains, pillars, the mines of the fake mine module, which
combination renders what) and the helpers the tests read the rendered output with;
conftest.py runs the salt-calls (the ``rendered`` fixture).
"""
import copy
import importlib.util
import sys
import uuid
from pathlib import Path

import salt.utils.templates
import yaml

from pghalab.ca import make_ca

REPO = Path(__file__).resolve().parents[2]

SALT_CALL = Path(sys.executable).with_name("salt-call")
NODE_ADDRESS = "10.0.0.11"
VIP = "10.0.0.100"
EXISTING_ETCD = ["http://10.0.0.21:2379", "http://10.0.0.22:2379"]
LB_ADDRESS = "10.0.0.31"
# A role and database name that is SQL, shell and YAML syntax at once (typeb_vip has both).
NASTY_NAME = "My \"App\" $(id); 'x' \\ #1: *ü"


def _sls_names():
    names = []
    for path in sorted((REPO / "pgha").rglob("*.sls")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "init":
            parts.pop()
        names.append(".".join(parts))
    return names


SLS = _sls_names()
# SLS files that hold states of their own (the others only include); each must show up.
LEAF_SLS = {
    "pgha.repo", "pgha.etcd.install", "pgha.etcd.config", "pgha.etcd.service",
    "pgha.postgresql.install", "pgha.postgresql.users", "pgha.patroni.install",
    "pgha.patroni.config", "pgha.patroni.service", "pgha.vip_manager.install",
    "pgha.vip_manager.config", "pgha.vip_manager.service", "pgha.etcd.gate",
    "pgha.patroni.gate", "pgha.gate.prepared", "pgha.gate.vip",
    "pgha.haproxy.install", "pgha.haproxy.config", "pgha.haproxy.service",
    "pgha.haproxy.limits",
    "pgha.keepalived.install", "pgha.keepalived.config", "pgha.keepalived.service",
    "pgha.pgbouncer.install", "pgha.pgbouncer.config", "pgha.pgbouncer.service", "pgha.pgbouncer.gate",
    "pgha.patroni.watchdog",
    "pgha.haproxy.gate", "pgha.gate.tags", "pgha.ops.restart", "pgha.ops.switchover",
    "pgha.ops.update", "pgha.ops.leave", "pgha.etcd.member_removed", "pgha.postgresql.adopt",
    "pgha.pgbackrest.install", "pgha.pgbackrest.config", "pgha.pgbackrest.schedule",
    "pgha.wal_g.install", "pgha.wal_g.config", "pgha.wal_g.schedule",
    "pgha.firewall.install", "pgha.firewall.config", "pgha.firewall.service", "pgha.firewall.clean",
    "pgha.system.install", "pgha.system.sysctl", "pgha.system.hugepages", "pgha.system.thp",
    "pgha.system.limits", "pgha.system.locale", "pgha.system.hosts", "pgha.system.time",
}

# `virtual` is set: salt-call would detect the test host's own (a CI container, say).
GRAINS = {
    "debian12": {"os_family": "Debian", "os": "Debian", "osfinger": "Debian-12",
                 "osmajorrelease": 12, "oscodename": "bookworm", "virtual": "kvm"},
    "debian13": {"os_family": "Debian", "os": "Debian", "osfinger": "Debian-13",
                 "osmajorrelease": 13, "oscodename": "trixie", "virtual": "kvm"},
    "rhel9": {"os_family": "RedHat", "os": "RedHat",
              "osfinger": "Red Hat Enterprise Linux-9", "osmajorrelease": 9, "virtual": "kvm"},
}
# Containers (the lab's systemd-nspawn nodes, Docker): only host preparation renders on them.
CONTAINER_GRAINS = {
    "debian12_nspawn": {**GRAINS["debian12"], "virtual": "systemd-nspawn"},
    "debian12_docker": {**GRAINS["debian12"], "virtual": "container", "virtual_subtype": "Docker"},
}
# Rocky and Alma 8 and 9, as Salt's core grains name them (osfinger: osfullname-major for
# Rocky, os-major for AlmaLinux); rendered with the package-source pillars only.
EL_GRAINS = {
    "rocky8": {"os_family": "RedHat", "os": "Rocky", "osfinger": "Rocky Linux-8", "osmajorrelease": 8},
    "rocky9": {"os_family": "RedHat", "os": "Rocky", "osfinger": "Rocky Linux-9", "osmajorrelease": 9},
    "alma8": {"os_family": "RedHat", "os": "AlmaLinux", "osfinger": "AlmaLinux-8", "osmajorrelease": 8},
    "alma9": {"os_family": "RedHat", "os": "AlmaLinux", "osfinger": "AlmaLinux-9", "osmajorrelease": 9},
}
ALL_GRAINS = {**GRAINS, **EL_GRAINS}

_SECRETS = {
    "postgresql": {"superuser": {"password": "su-secret"},
                   "replication_user": {"password": "repl-secret"}},
    "patroni": {"restapi": {"password": "rest-secret"}},
}


def _pillar(**pgha):
    merged = copy.deepcopy(_SECRETS)
    for key, value in pgha.items():
        if isinstance(value, dict) and key in merged:
            merged[key].update(value)
        else:
            merged[key] = value
    return {"pgha": {"cluster_name": "main", "address": NODE_ADDRESS, **merged}}


PILLARS = {
    # Type B defaults with a VIP; this node leads, so users/databases/extensions render.
    "typeb_vip": _pillar(
        roles=["postgresql", "etcd"], cluster_vip=VIP,
        pkg_repo={"url": "http://mirror.example/pgha", "trusted": True},
        postgresql={
            "users": [{"name": "app", "password": "app-secret", "createdb": True},
                      {"name": NASTY_NAME, "password": "nasty-secret"},
                      # issue 22: a removed role (its objects to app), a member of groups
                      {"name": "old app", "state": "absent", "reassign_owned_to": "app"},
                      {"name": "reader", "password": "reader-secret", "role": "pg_monitor, app",
                       "conn_limit": 5}],
            "databases": [{"name": "appdb", "owner": "app"}, {"name": NASTY_NAME, "owner": NASTY_NAME},
                          {"name": "old db", "state": "absent", "drop": True},
                          {"name": "limited", "conn_limit": "20"}],
            "extensions": [{"name": "pg_trgm", "db": "appdb"}, {"name": "postgis", "db": "appdb"},
                           {"name": "pg_cron", "db": "postgres"}],
            "schemas": [{"schema": "app schema", "db": "appdb", "owner": "app"}],
            "privs": [{"role": "reader", "privs": "SELECT", "type": "table", "db": "appdb",
                       "objs": "ALL_IN_SCHEMA", "schema": "app schema", "exact": True},
                      {"role": "reader", "privs": "USAGE", "type": "schema", "db": "appdb",
                       "objs": "app schema"},
                      {"role": "reader", "privs": "SELECT", "type": "default_privs", "db": "appdb",
                       "objs": "TABLES", "schema": "app schema", "target_roles": "app"}],
            "pg_ident": [{"mapname": "ops", "system_username": "/^(.*)$", "pg_username": "\\1"},
                         {"mapname": "ops", "system_username": "alice smith", "pg_username": NASTY_NAME}],
            "pg_hba": [{"type": "host", "database": "appdb", "user": "app",
                        "address": "10.0.0.0/24", "method": "scram-sha-256"},
                       {"type": "local", "database": "appdb", "user": "all", "method": "peer",
                        "options": "map=ops"}],
        }),
    # Patroni from PyPI in a virtualenv, no VIP (so the etcd v3 API).
    "pip": _pillar(
        roles=["postgresql", "etcd"],
        patroni={"install_method": "pip"},
        pip={"index_url": "http://mirror.example/simple", "no_index": False}),
    # An existing etcd (no etcd role) and vip-manager 2 on a named interface.
    "dcs_exists": _pillar(
        roles=["postgresql"], cluster_vip=VIP, vip_interface="eth1", dcs_exists=True,
        etcd={"endpoints": EXISTING_ETCD}, vip_manager={"major_version": 2}),
}
# Failover presets (patroni:rto_profile): typeb_vip has the default (norm); fast, safe, and fast
# with pillar keys that override some of its values.
PILLARS.update({
    "rto_fast": _pillar(roles=["postgresql", "etcd"], cluster_vip=VIP, patroni={"rto_profile": "fast"}),
    "rto_safe": _pillar(roles=["postgresql", "etcd"], cluster_vip=VIP, patroni={"rto_profile": "safe"}),
    "rto_override": _pillar(roles=["postgresql", "etcd"], cluster_vip=VIP,
                            patroni={"rto_profile": "fast", "ttl": 25, "retry_timeout": 5},
                            haproxy={"check": {"inter": "1500ms", "fall": 3}}, vip_manager={"interval": 250}),
})
# pillar: ((Patroni's ttl, loop_wait, retry_timeout, primary_start_timeout), HAProxy's check
# timings on each default-server line, vip-manager's --interval)
RTO = {
    "typeb_vip": ((22, 10, 6, 30), "inter 2s fastinter 1s downinter 2s rise 2 fall 2", 1000),
    "rto_fast": ((20, 14, 3, 15), "inter 1s fastinter 500ms downinter 1s rise 2 fall 2", 500),
    "rto_safe": ((60, 10, 25, 60), "inter 3s fastinter 1s downinter 3s rise 3 fall 3", 1000),
    "rto_override": ((25, 14, 5, 15), "inter 1500ms fastinter 500ms downinter 1s rise 2 fall 3", 250),
}
# Type A: HAProxy + PgBouncer + keepalived, synchronous replication, a direct port to the primary.
_TYPE_A = {
    "cluster_vip": VIP,
    "with_haproxy_load_balancing": True,
    "patroni": {"synchronous_mode": True},
    "pgbouncer": {"auth_user": {"password": "pgb-secret"},
                  "pools": [{"name": "app", "dbname": "appdb",
                             "pool_parameters": "pool_size=10 pool_mode=transaction"}]},
    "haproxy": {"stats_password": "stats-secret", "direct_ports": {"master": 6000}},
}
PILLARS.update({
    # a database (and etcd) node of a Type A cluster, the leader
    "typea": _pillar(
        roles=["postgresql", "etcd"],
        postgresql={"users": [{"name": "app", "password": "app-secret"}],
                    "databases": [{"name": "appdb", "owner": "app"}]},
        **_TYPE_A),
    # a balancer of the same cluster (HAProxy + keepalived only)
    "typea_lb": _pillar(roles=["balancer"], address=LB_ADDRESS, **_TYPE_A),
})
# pgBackRest on, replicas restored from its repository first.
PILLARS["backup"] = _pillar(
    roles=["postgresql", "etcd"], cluster_vip=VIP,
    postgresql={"users": [{"name": "app", "password": "app-secret"}]},
    pgbackrest={"enabled": True, "repo": {"type": "s3", "path": "/pgha", "s3-bucket": "b",
                                          "s3-key-secret": "s3-secret"}},
    patroni={"create_replica_methods": ["pgbackrest", "basebackup"]})
# WAL-G on, storage on S3 (credentials in wal_g:json), replicas restored from its backups first.
WAL_G_SECRETS = ("walg-key-id", "walg-s3-secret")
PILLARS["wal_g"] = _pillar(
    roles=["postgresql", "etcd"], cluster_vip=VIP,
    wal_g={"enabled": True, "url": "https://mirror.example/wal-g-pg-ubuntu-22.04-amd64",
           "source_hash": "sha256=" + "ab" * 32,
           "json": {"WALG_S3_PREFIX": "s3://pgha-backups/main", "AWS_REGION": "eu-west-1",
                    "AWS_ACCESS_KEY_ID": WAL_G_SECRETS[0],
                    "AWS_SECRET_ACCESS_KEY": WAL_G_SECRETS[1],
                    "WALG_DELTA_MAX_STEPS": "6"}},
    patroni={"create_replica_methods": ["wal_g", "basebackup"]})
# WAL-G on storage every node shares (WALG_FILE_PREFIX), no timer, every backup kept.
PILLARS["wal_g_file"] = _pillar(
    roles=["postgresql"], cluster_vip=VIP, dcs_exists=True, etcd={"endpoints": EXISTING_ETCD},
    wal_g={"enabled": True, "url": "file:///srv/pgha-repo/wal-g", "source_hash": "sha256=" + "cd" * 32,
           "json": {"WALG_FILE_PREFIX": "/var/lib/wal-g"}, "backup_on_calendar": "", "retain_full": 0})
# A clone: a new cluster bootstrapped from another cluster's pgBackRest stanza at a time.
PILLARS["clone"] = _pillar(
    roles=["postgresql", "etcd"], cluster_name="copy",
    pgbackrest={"enabled": True}, patroni={"bootstrap_method": "pgbackrest"},
    restore={"stanza": "main", "type": "time", "target": "2026-11-26 04:00:00+00"})
# A new cluster from WAL-G's latest backup, archiving on from the start.
PILLARS["wal_g_clone"] = _pillar(
    roles=["postgresql", "etcd"], wal_g=PILLARS["wal_g"]["pgha"]["wal_g"],
    patroni={"bootstrap_method": "wal_g"}, disable_archive_command=False)
# A pgBackRest repository host (repo1, role pgbackrest) and a database node of its cluster.
REPO_ADDRESS = "10.0.0.41"
PILLARS["repo_host"] = _pillar(roles=["pgbackrest"], address=REPO_ADDRESS, pgbackrest={"enabled": True})
PILLARS["backup_ssh"] = _pillar(roles=["postgresql", "etcd"], pgbackrest={"enabled": True},
                                patroni={"create_replica_methods": ["pgbackrest", "basebackup"]})
# The firewall (pgha:firewall): a Type B database + etcd node that admits clients from two
# networks and has extra ports and rules, a Type A database node and a Type A balancer open to
# any client, and a node whose own address is not in the mine.
PILLARS["firewall"] = _pillar(
    roles=["postgresql", "etcd"], cluster_vip=VIP,
    firewall={"enabled": True, "client_sources": ["10.1.0.0/16", "fd00:1::/64"], "extra_ports": [9100],
              "extra_rules": ["ip saddr 10.8.0.0/16 tcp dport 9187 accept"]})
PILLARS["firewall_typea"] = _pillar(roles=["postgresql", "etcd"], firewall={"enabled": True}, **_TYPE_A)
PILLARS["firewall_lb"] = _pillar(roles=["balancer"], address=LB_ADDRESS, firewall={"enabled": True}, **_TYPE_A)
PILLARS["firewall_not_in_mine"] = _pillar(roles=["postgresql", "etcd"], firewall={"enabled": True})
# Package sources (pgha:pgdg, pgha:epel, pgha:pkg_repos, pgha:proxy_env), one pillar per
# family: a Type B database + etcd node with the firewall on. PostgreSQL 16 from PGDG.
PROXY = "http://pgha:proxy-secret@proxy.example:3128"
KEY_TEXT = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBGha\n-----END PGP PUBLIC KEY BLOCK-----\n"
_SOURCES = {"roles": ["postgresql", "etcd"], "cluster_vip": VIP, "firewall": {"enabled": True},
            "pgdg": {"enabled": True},
            "proxy_env": {"http_proxy": PROXY, "https_proxy": PROXY,
                          "no_proxy": "localhost,mirror.example,.internal.example"}}
PILLARS["sources_deb"] = _pillar(
    **_SOURCES,
    patroni={"install_method": "pip"}, pip={"index_url": "https://pypi.internal.example/simple"},
    pkg_repos=[{"name": "tools", "url": "https://mirror.example/tools", "dist": "bookworm",
                "components": "main", "key_text": KEY_TEXT},
               {"name": "local", "url": "file:/srv/local", "trusted": True}])
PILLARS["sources_el"] = _pillar(
    **_SOURCES, epel={"enabled": True},
    pkg_repos=[{"name": "tools", "baseurl": "https://mirror.example/tools/el$releasever",
                "gpgkey": "https://mirror.example/tools/key.asc"},
               {"name": "local", "baseurl": "file:///srv/local", "gpgcheck": False}])
EL_SOURCE_GRAINS = ("rhel9",) + tuple(EL_GRAINS)
# Host preparation (pgha:system) set otherwise on every point, then switched off part by part,
# and ntpsec instead of chrony (Debian only: the validator refuses it on RedHat).
SYSTEM = {
    "sysctl": {"settings": {"vm.swappiness": 10, "net.core.rmem_max": None,
                            "vm.overcommit_memory": 2, "vm.overcommit_ratio": 90}},
    "huge_pages": 1200,
    "transparent_huge_pages": "madvise",
    "limits": {"user": "pgadmin", "soft_nofile": 100000, "hard_nofile": 300000},
    "locales": ["de_DE.UTF-8", "en_US.UTF-8"],
    "default_locale": "en_US.UTF-8",
    "etc_hosts": {"extra": [{"ip": "10.0.0.50", "names": ["backup.example.com", "backup"]},
                            {"ip": "10.0.0.99", "names": ["pg3"]}]},
    "time_sync": {"servers": ["ntp1.example.com", "10.0.0.5"]},
}
PILLARS["system"] = _pillar(roles=["postgresql", "etcd"], cluster_vip=VIP, system=SYSTEM,
                            postgresql={"locale": "en_GB.UTF-8"})
PILLARS["system_off"] = _pillar(roles=["postgresql", "etcd"], system={
    "sysctl": {"enabled": False}, "transparent_huge_pages": "", "limits": {"enabled": False},
    "locales": [], "etc_hosts": {"enabled": False}, "time_sync": {"enabled": False}})
PILLARS["system_ntpsec"] = _pillar(roles=["postgresql", "etcd"], system={
    "time_sync": {"daemon": "ntpsec", "servers": ["ntp1.example.com"]}})
LEADER_PILLARS = {"typeb_vip", "typea", "backup"}
TYPE_A_PILLARS = {"typea", "typea_lb", "firewall_typea", "firewall_lb"}
MINION_IDS = {"typea_lb": "lb1", "repo_host": "repo1", "firewall_lb": "lb1"}          # the others: pg1
# TLS (pgha:tls) with a CA made for this run: a Type B database + etcd node with a name of its
# own for clients and a pg_hba line that stays without TLS; a Type A database node whose etcd
# asks clients for certificates, TLS not required of PostgreSQL clients; a Type A balancer.
TLS_CA = make_ca("pgha render CA")
_TLS = {"enabled": True, "ca_cert": TLS_CA[0], "ca_key": TLS_CA[1]}
PILLARS["tls"] = _pillar(
    roles=["postgresql", "etcd"], cluster_vip=VIP, tls=dict(_TLS, extra_sans=["DNS:db.example.com"]),
    postgresql={"pg_hba": [{"type": "host", "database": "appdb", "user": "app",
                            "address": "10.0.0.0/24", "method": "scram-sha-256"},
                           {"type": "hostnossl", "database": "appdb", "user": "monitor",
                            "address": "10.0.5.0/24", "method": "scram-sha-256"}]})
PILLARS["tls_typea"] = _pillar(roles=["postgresql", "etcd"],
                               tls=dict(_TLS, etcd_client_cert_auth=True, require_ssl=False), **_TYPE_A)
PILLARS["tls_lb"] = _pillar(roles=["balancer"], address=LB_ADDRESS, tls=_TLS, **_TYPE_A)
TLS_PILLARS = ("tls", "tls_typea", "tls_lb")
TYPE_A_PILLARS |= {"tls_typea", "tls_lb"}
MINION_IDS["tls_lb"] = "lb1"

# Issue 21: PgBouncer in Type B. On Debian 13 (PgBouncer 1.24) with every setting a newer
# PgBouncer has and two processes; on Debian 12 in userlist mode, paused around switchovers.
PILLARS["typeb_pgbouncer"] = _pillar(
    roles=["postgresql", "etcd"], cluster_vip=VIP,
    pgbouncer={"enabled": True, "auth_user": {"password": "pgb-secret"}, "processes": 2,
               "max_db_connections": 50, "max_prepared_statements": 100, "query_wait_timeout": 30,
               "auth_dbname": "postgres", "pool_mode": "transaction"})
PILLARS["typeb_pgbouncer_userlist"] = _pillar(
    roles=["postgresql", "etcd"], cluster_vip=VIP,
    postgresql={"users": [{"name": "app", "password": "app-secret"}, {"name": "nologin", "password": "nl-secret", "login": False},
                          {"name": "reader", "password": "reader-secret"}],
                "databases": [{"name": "appdb", "owner": "app"}]},
    pgbouncer={"enabled": True, "auth_user": {"enabled": False, "password": "pgb-secret"}, "pause_timeout": 7})
LEADER_PILLARS |= {"typeb_pgbouncer_userlist"}

# The addresses of the minions of clusters named like main but for case (Main, MAIN).
TWIN_PREFIX = "10.7.0."
# The mine of a Type A cluster: {minion: (pgha_address, cluster_name, roles)}.
TYPE_A_MINE = {
    "pg1": (NODE_ADDRESS, "main", ["postgresql", "etcd"]),
    "pg2": ("10.0.0.12", "main", ["postgresql", "etcd"]),
    "pg3": ("10.0.0.13", "main", ["postgresql", "etcd"]),
    "lb1": (LB_ADDRESS, "main", ["balancer"]),
    "lb2": ("10.0.0.32", "main", ["balancer"]),
    "lb9": ("10.9.0.31", "other", ["balancer"]),         # another cluster's balancer
    "pg9": ("10.9.0.11", "other", ["postgresql"]),       # another cluster's database node
    # clusters whose names differ from main's only in case: Salt's I@ targeting would mix them
    "pg8": (f"{TWIN_PREFIX}11", "Main", ["postgresql", "etcd"]),
    "lb8": (f"{TWIN_PREFIX}31", "MAIN", ["balancer"]),
}
TYPE_A_PG = {"pg1": NODE_ADDRESS, "pg2": "10.0.0.12", "pg3": "10.0.0.13"}
TYPE_A_LB = {"lb1": LB_ADDRESS, "lb2": "10.0.0.32"}
# The mine of a cluster with a repository host, with the SSH identities each side published.
REPO_MINE = {
    "pg1": (NODE_ADDRESS, "main", ["postgresql", "etcd"]),
    "pg2": ("10.0.0.12", "main", ["postgresql", "etcd"]),
    "repo1": (REPO_ADDRESS, "main", ["pgbackrest"]),
    "repo8": (f"{TWIN_PREFIX}41", "Main", ["pgbackrest"]),     # a case twin's repository host
    "pg8": (f"{TWIN_PREFIX}11", "Main", ["postgresql", "etcd"]),
}
REPO_PILLARS = {"repo_host", "backup_ssh"}
# A Type B cluster of three database + etcd nodes, and one of another cluster.
TYPE_B_MINE = {
    "pg1": (NODE_ADDRESS, "main", ["postgresql", "etcd"]),
    "pg2": ("10.0.0.12", "main", ["postgresql", "etcd"]),
    "pg3": ("10.0.0.13", "main", ["postgresql", "etcd"]),
    "pg9": ("10.9.0.11", "other", ["postgresql", "etcd"]),
    "pg8": (f"{TWIN_PREFIX}11", "Main", ["postgresql", "etcd"]),   # a case twin of main
}
FAKE_MINES = {**{p: TYPE_A_MINE for p in TYPE_A_PILLARS}, **{p: REPO_MINE for p in REPO_PILLARS},
              "firewall": TYPE_B_MINE, "system": TYPE_B_MINE,
              "firewall_not_in_mine": {m: v for m, v in TYPE_B_MINE.items() if m != "pg1"},
              "tls": TYPE_B_MINE, "sources_deb": TYPE_B_MINE, "sources_el": TYPE_B_MINE,
              "typeb_pgbouncer": TYPE_B_MINE, "typeb_pgbouncer_userlist": TYPE_B_MINE}


# Type A renders on one distribution per family (the run time stays reasonable): the
# database node's show_sls renders the balancer's SLS (haproxy, keepalived) too.
# Patroni's and etcd's own settings, version pins, pip updates (issue 23).
CALLBACK_SCRIPT = "#!/bin/sh\nlogger -t pgha-callback \"$1 $2 $3\"\n"
PILLARS.update({
    "patroni_features": _pillar(
        roles=["postgresql", "etcd"], cluster_vip=VIP,
        patroni={"slots": [{"slot": "standby_dc2", "type": "physical"},
                           {"slot": "cdc", "type": "logical", "database": "appdb", "plugin": "pgoutput"}],
                 "logical_slots_restart_replicas": True,
                 "callbacks": [{"action": "on_role_change", "contents": CALLBACK_SCRIPT},
                               {"action": "on_start", "source": "salt://site/on_start.sh"}],
                 "remove_data_directory_on_rewind_failure": True,
                 "log": {"destination": "logfile", "level": "warning", "loggers": {"urllib3": "debug"}},
                 "etcd": {"namespace": "/pgha/", "username": "patroni", "password": "etcd-secret",
                          "root_password": "etcd-root-secret"}}),
    "pins": _pillar(roles=["postgresql", "etcd"], cluster_vip=VIP,
                    postgresql={"version_minor": "18"}, patroni={"version": "3.0.2"},
                    etcd={"version": "3.4.23"}),
    "pip_update": _pillar(roles=["postgresql", "etcd"], patroni={"install_method": "pip", "pip_version": "4.1.5"},
                          operations={"update_target": "patroni"}),
})
ONLY_ON = {"typea": ("debian12", "rhel9"), "typea_lb": ("debian12",), "backup": ("debian12",),
           "wal_g": ("debian12", "rhel9"), "wal_g_file": ("debian12",), "clone": ("debian12",),
           "wal_g_clone": ("debian12",), "repo_host": ("debian12", "rhel9"), "backup_ssh": ("debian12",),
           "firewall": ("debian12", "rhel9"), "firewall_typea": ("debian12",), "firewall_lb": ("debian12",),
           "firewall_not_in_mine": ("debian12",), "system": ("debian12", "rhel9"),
           "system_off": ("debian12",), "system_ntpsec": ("debian12", "debian13"),
           "sources_deb": ("debian12", "debian13"), "sources_el": EL_SOURCE_GRAINS,
           "rto_fast": ("debian12",), "rto_safe": ("debian12",), "rto_override": ("debian12",),
           "typeb_pgbouncer": ("debian13",), "typeb_pgbouncer_userlist": ("debian12",)}
# what pgha.validate says of a pillar of the matrix on an OS it does not suit
ONLY_ON.update({"patroni_features": ("debian13",), "pins": ("debian12",), "pip_update": ("debian12",)})
# A pin older than the installed package (h10-rev): what the node's packages are is not the
# render host's to say, so a test double of pgha_packages answers for "pins" (minion option
# pgha_test_downgrades): its refusal, which the repo guard must turn into a failing first state.
PIN_DOWNGRADE = ("pgha:postgresql:version_minor: 15.18 is older than the installed 15.19-0+deb12u1 of "
                 "postgresql-15 on pg1; pgha does not downgrade: remove the pin or set it to the installed "
                 "version or newer")
FAKE_DOWNGRADES = {"pins": [PIN_DOWNGRADE]}
# Standby clusters (issue 20): a standby cluster's node (its leader replicates from the main
# cluster's VIP), and a main cluster's node that keeps a slot, pg_hba lines and firewall rules
# for its standby's addresses.
STANDBY_MAIN_VIP = "10.0.5.100"
STANDBY_ADDRESSES = ["10.0.6.11", "10.0.6.12", "10.0.7.0/28"]
PILLARS.update({
    "standby": _pillar(roles=["postgresql", "etcd"], cluster_name="dr", cluster_vip=VIP,
                       standby_cluster={"host": STANDBY_MAIN_VIP, "port": 5432, "primary_slot_name": "dr",
                                        "cluster": "main", "recovery_min_apply_delay": "5min"}),
    "standby_main": _pillar(roles=["postgresql", "etcd"], cluster_vip=VIP,
                            firewall={"enabled": True, "client_sources": ["10.1.0.0/16"]},
                            standby_clusters=[{"name": "dr", "addresses": STANDBY_ADDRESSES, "slot": "dr"}]),
})
ONLY_ON.update({"standby": ("debian13",), "standby_main": ("debian13",)})
FAKE_MINES["standby_main"] = TYPE_B_MINE
# A standby cluster restoring from its main cluster's pgBackRest repository host (h10-drrepo):
# a node of the standby cluster dr, and the main cluster's repository host repo1, which trusts
# dr's database nodes. One mine for both: each cluster's minions published their own SSH keys.
STANDBY_REPO_MINE = {
    "pg1": (NODE_ADDRESS, "dr", ["postgresql", "etcd"]),
    "pg2": ("10.0.6.12", "dr", ["postgresql", "etcd"]),
    "mp1": ("10.0.5.11", "main", ["postgresql", "etcd"]),
    "repo1": (REPO_ADDRESS, "main", ["pgbackrest"]),
    "repo8": (f"{TWIN_PREFIX}41", "Main", ["pgbackrest"]),     # a case twin's repository host
}
PILLARS.update({
    "standby_repo": _pillar(roles=["postgresql", "etcd"], cluster_name="dr", cluster_vip=VIP,
                            pgbackrest={"enabled": True},
                            standby_cluster={"host": STANDBY_MAIN_VIP, "primary_slot_name": "dr", "cluster": "main",
                                             "create_replica_methods": ["pgbackrest", "basebackup"],
                                             "pgbackrest": {"enabled": True}}),
    "standby_repo_main": _pillar(roles=["pgbackrest"], address=REPO_ADDRESS, pgbackrest={"enabled": True},
                                 standby_clusters=[{"name": "dr", "addresses": ["10.0.6.11", "10.0.6.12"],
                                                    "slot": "dr", "pgbackrest": True}]),
})
ONLY_ON.update({"standby_repo": ("debian13",), "standby_repo_main": ("debian13",)})
FAKE_MINES.update({"standby_repo": STANDBY_REPO_MINE, "standby_repo_main": STANDBY_REPO_MINE})
REPO_PILLARS |= {"standby_repo", "standby_repo_main"}
MINION_IDS["standby_repo_main"] = "repo1"

# Issue 24: monitoring. A database node of main with its exporters (PgBouncer too, firewall on);
# a monitor of main that also scrapes cluster other (a shared monitor). The mine's entries carry
# the metrics endpoints each node publishes (a 4th item: more of its pgha_member entry).
_MON = {"enabled": True, "user": {"password": "mon-secret"}}
_DB_POINTS = {"node": {"port": 9100, "scheme": "http", "path": "/metrics"},
              "postgres": {"port": 9187, "scheme": "http", "path": "/metrics"},
              "patroni": {"port": 8008, "scheme": "http", "path": "/metrics"},
              "etcd": {"port": 2381, "scheme": "http", "path": "/metrics"}}
MONITOR_MINE = {
    "pg1": (NODE_ADDRESS, "main", ["postgresql", "etcd"], {"metrics": _DB_POINTS}),
    "pg2": ("10.0.0.12", "main", ["postgresql", "etcd"], {"metrics": _DB_POINTS}),
    "pg9": ("10.9.0.11", "other", ["postgresql", "etcd"], {"metrics": _DB_POINTS}),
    "pg8": (f"{TWIN_PREFIX}11", "Main", ["postgresql", "etcd"], {"metrics": _DB_POINTS}),
    "mon1": ("10.0.0.90", "main", ["monitor"], {"metrics": {}, "monitors": ["other"]}),
    "mon7": ("10.0.7.90", "ops", ["monitor"], {"metrics": {}, "monitors": ["main"]}),
    "mon8": ("10.0.8.90", "ops", ["monitor"], {"metrics": {}, "monitors": ["other"]}),
}
PILLARS["monitoring"] = _pillar(roles=["postgresql", "etcd"], cluster_vip=VIP,
                                firewall={"enabled": True, "client_sources": ["10.1.0.0/16"]},
                                pgbouncer={"enabled": True, "auth_user": {"password": "pgb-secret"}},
                                monitoring=_MON)
PILLARS["monitor"] = _pillar(roles=["monitor"], firewall={"enabled": True}, monitoring=dict(_MON, clusters=["other"]))
MINION_IDS["monitor"] = "mon1"
FAKE_MINES.update({"monitoring": MONITOR_MINE, "monitor": MONITOR_MINE})
LEADER_PILLARS |= {"monitoring"}
ONLY_ON.update({"monitoring": ("debian12", "debian13"), "monitor": ("debian12",)})   # h9-mon: 13 runs the Go exporter
INVALID_ON = {("rhel9", "system_ntpsec"): [
    "pgha:system:time_sync:daemon: ntpsec is not packaged for Red Hat Enterprise Linux-9 "
    "(pkgs:ntpsec is empty): use chrony"]}
COMBOS = [(g, p) for g in ALL_GRAINS for p in PILLARS
          if g in ONLY_ON.get(p, GRAINS) and p not in TLS_PILLARS]
# TLS renders on its own list: the matrix's tests assert what TLS changes (Patroni's watch, ...)
TLS_COMBOS = [("debian12", "tls"), ("rhel9", "tls"), ("debian12", "tls_typea"), ("debian12", "tls_lb")]
TLS_TEMPLATE_COMBOS = [("debian12", "tls"), ("rhel9", "tls"), ("debian12", "tls_typea")]
COMBO_IDS = [f"{g}-{p}" for g, p in COMBOS]
# pgha.system alone: defaults on each OS and role, the pillars above, containers.
SYSTEM_COMBOS = [("debian12", "typeb_vip"), ("debian13", "typeb_vip"), ("rhel9", "typeb_vip"),
                 ("debian12", "typea_lb"), ("debian12", "system"), ("rhel9", "system"),
                 ("debian12", "system_off"), ("debian13", "system_ntpsec"),
                 ("debian12_nspawn", "system"), ("debian12_docker", "typeb_vip")]
# `pgha` alone (the highstate of the node's roles), and the rendered Patroni config file.
HIGHSTATE_COMBOS = [("debian12", p) for p in PILLARS if "debian12" in ONLY_ON.get(p, GRAINS)]
TEMPLATE_COMBOS = [("debian12", "typeb_vip"), ("rhel9", "typeb_vip"), ("debian12", "dcs_exists"),
                   ("debian12", "rto_fast"), ("debian12", "rto_override"),
                   ("debian12", "typea"), ("debian12", "backup"), ("debian12", "wal_g"),
                   ("debian12", "clone"), ("debian12", "wal_g_clone")]
TEMPLATE_COMBOS.append(("debian13", "patroni_features"))          # issue 23
TEMPLATE_COMBOS += [("debian13", "standby"), ("debian13", "standby_main")]   # issue 20
TEMPLATE_COMBOS.append(("debian13", "standby_repo"))                             # h10-drrepo
# WAL-G's configuration file, and the wal_g bootstrap method (through a probe template).
WAL_G_JSON_COMBOS = [("debian12", "wal_g"), ("rhel9", "wal_g")]
BOOTSTRAP_PROBE = ("{%- from 'pgha/patroni/files/bootstrap_wal_g.jinja' import bootstrap_wal_g with context %}"
                   "{{ bootstrap_wal_g | json }}")
# pgbackrest.conf with the context pgha/pgbackrest/config.sls gives it.
PGBACKREST_CONF_PROBE = "{% include 'pgha/pgbackrest/files/pgbackrest.conf.jinja' %}"


def _states(rendered, kind, grains_id, pillar_id):
    result = rendered[(kind, grains_id, pillar_id)]
    data = result["data"]
    assert isinstance(data, dict) and data, (
        f"render failed (rc={result['rc']}):\n"
        + ("\n".join(data) if isinstance(data, list) else result["stdout"]) + "\n" + result["stderr"])
    assert result["rc"] == 0, result["stderr"]
    return data


def _fun(body):
    """(module, function, {arg: value}) of one state in show_sls output."""
    for key, value in body.items():
        if key.startswith("__"):
            continue
        args = {}
        function = None
        for item in value:
            if isinstance(item, str):
                function = item
            else:
                args.update(item)
        args.pop("order", None)     # added by the compiler, not by the SLS
        return key, function, args
    raise AssertionError(f"no state function in {body}")


def _state(states, state_id):
    assert state_id in states, f"{state_id} not rendered; got {sorted(states)}"
    return _fun(states[state_id])


PG = {  # grains -> (packages, data_dir, bin_dir, patroni config, distro service, etcd env)
    "debian12": (["postgresql-15", "postgresql-client-15"], "/var/lib/postgresql/15/main",
                 "/usr/lib/postgresql/15/bin", "/etc/patroni/config.yml", "postgresql",
                 "/etc/default/etcd"),
    "debian13": (["postgresql-17", "postgresql-client-17"], "/var/lib/postgresql/17/main",
                 "/usr/lib/postgresql/17/bin", "/etc/patroni/config.yml", "postgresql",
                 "/etc/default/etcd"),
    # EL: PGDG's packages, PostgreSQL 16 (parameters/osfinger)
    **{grains_id: (["postgresql16-server", "postgresql16-contrib"], "/var/lib/pgsql/16/data",
                   "/usr/pgsql-16/bin", "/etc/patroni/patroni.yml", "postgresql-16",
                   "/etc/etcd/etcd.conf") for grains_id in EL_SOURCE_GRAINS},
}


def _patroni_config(rendered, grains_id, pillar_id):
    result = rendered[("template", grains_id, pillar_id)]
    assert result["rc"] == 0 and isinstance(result["data"], str), (
        f"{result['stdout']}\n{result['stderr']}")
    assert result["data"].startswith("# Managed by Salt (pgha).")
    return yaml.safe_load(result["data"])


def _format_functions():
    """_utils/pgha_formats.py's escapers as templates call them: salt['pgha_formats.<name>']."""
    spec = importlib.util.spec_from_file_location("pgha_formats_for_render", REPO / "_utils" / "pgha_formats.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {f"pgha_formats.{name}": getattr(module, name) for name in dir(module)
            if callable(getattr(module, name)) and not name.startswith("_")}


FORMATS = _format_functions()

# File templates that read the map themselves (their state hands them tplroot and a flag, no
# secret): {state id: (source, context)}. They render by salt-call on their combination's
# minion (the ``rendered`` fixture's "file" jobs) for the combinations listed in FILE_RENDERS.
MAP_TEMPLATES = {
    "pgha-haproxy-config-file-managed": ("pgha/haproxy/files/haproxy.cfg.jinja",
                                         {"tplroot": "pgha", "confd": False}),
    "pgha-confd-template-file-managed": ("pgha/haproxy/files/haproxy.cfg.jinja",
                                         {"tplroot": "pgha", "confd": True}),
    "pgha-pgbouncer-userlist-file-managed": ("pgha/pgbouncer/files/userlist.txt.jinja", {"tplroot": "pgha"}),
    "pgha-pgbackrest-config-file-managed": ("pgha/pgbackrest/files/pgbackrest.conf.jinja", {"tplroot": "pgha"}),
    "pgha-patroni-pip-conf-managed": ("pgha/patroni/files/pip.conf.jinja", {"tplroot": "pgha"}),
    "pgha-repo-proxy-managed": ("pgha/repo/files/apt_proxy.conf.jinja", {"tplroot": "pgha"}),
    "pgha-repo-dnf-proxy": ("pgha/repo/files/dnf_proxy.jinja", {"tplroot": "pgha"}),
    "pgha-monitoring-postgres-exporter-env-managed": ("pgha/monitoring/files/postgres-exporter.env.jinja",
                                                      {"tplroot": "pgha"}),
    "pgha-monitoring-pgbouncer-exporter-pgpass-managed": ("pgha/monitoring/files/pgpass.jinja",
                                                          {"tplroot": "pgha", "port": 6432, "database": "pgbouncer"}),
}
FILE_RENDERS = (
    [("pgha-haproxy-config-file-managed", "debian12", p)
     for p in ("typeb_vip", "rto_fast", "rto_safe", "rto_override", "typea_lb", "tls_lb")]
    + [("pgha-haproxy-config-file-managed", "rhel9", "pip"), ("pgha-haproxy-config-file-managed", "debian12", "typea")]
    + [("pgha-confd-template-file-managed", "debian12", p)
       for p in ("typeb_vip", "rto_fast", "rto_safe", "rto_override", "typea_lb", "tls_lb")]
    + [("pgha-pgbouncer-userlist-file-managed", "debian12", "typea"),
       ("pgha-pgbackrest-config-file-managed", "debian12", "backup"),
       ("pgha-patroni-pip-conf-managed", "debian12", "pip"), ("pgha-patroni-pip-conf-managed", "debian12", "sources_deb"),
       ("pgha-repo-proxy-managed", "debian12", "sources_deb"), ("pgha-repo-dnf-proxy", "rhel9", "sources_el"),
       ("pgha-repo-dnf-proxy", "rhel9", "pip"),
       # the sentinels do reach the files (test_render_secrets)
       ("pgha-pgbouncer-userlist-file-managed", "debian12", "sentinel_typea"),
       # issue 24: the exporters' files that hold the password
       ("pgha-monitoring-postgres-exporter-env-managed", "debian12", "monitoring"),
       ("pgha-monitoring-pgbouncer-exporter-pgpass-managed", "debian12", "monitoring"),
       ("pgha-monitoring-pgbouncer-exporter-pgpass-managed", "debian13", "monitoring"),
       ("pgha-pgbouncer-userlist-file-managed", "debian12", "monitoring"),
       ("pgha-haproxy-config-file-managed", "debian12", "sentinel_typea_lb"),
       ("pgha-pgbackrest-config-file-managed", "debian12", "sentinel_backup")])
# the "file" jobs' results, filled in by the ``rendered`` fixture
RENDERED_FILES = {}


def _render_file(states, state_id, grains_id, pillar_id):
    """What file.managed would write: the state's source rendered by Salt's Jinja renderer
    with the context the state was compiled with (and this minion's grains, and pgha_formats'
    escapers as ``salt``). A template that reads the map (MAP_TEMPLATES) was rendered by
    salt-call on the combination's minion: its text is looked up."""
    _, _, args = _state(states, state_id)
    assert args["template"] == "jinja"
    source = args["source"]
    assert source.startswith("salt://pgha/")
    if state_id in MAP_TEMPLATES:
        assert (source[len("salt://"):], args["context"]) == MAP_TEMPLATES[state_id]
        result = RENDERED_FILES[("file", state_id, grains_id, pillar_id)]
        assert result["rc"] == 0 and isinstance(result["data"], str), f"{result['stdout']}\n{result['stderr']}"
        return result["data"]
    path = REPO / source[len("salt://"):]
    context = {"opts": {}, "saltenv": None, "salt": FORMATS,
               "grains": {**ALL_GRAINS[grains_id], "id": MINION_IDS.get(pillar_id, "pg1")},
               **args["context"]}
    return salt.utils.templates.render_jinja_tmpl(path.read_text(), context, tmplpath=str(path))


def _haproxy_listeners(text):
    """{listener: [its lines]} of an haproxy.cfg (sections start at column 0)."""
    listeners = {}
    current = None
    for line in text.splitlines():
        if line.startswith("listen "):
            current = listeners.setdefault(line.split()[1], [])
        elif line and not line[0].isspace():
            current = None
        elif current is not None and line.strip():
            current.append(line.strip())
    return listeners


# -- secrets: every secret pillar key holds a sentinel; no state argument may show it ---------

SENTINEL = "S3ntinel-pw-" + uuid.uuid4().hex[:16]
# the secret keys of pgha's pillar: (path, the part of the key a secret key's name holds)
_SECRET_PATHS = ["postgresql:superuser:password", "postgresql:replication_user:password",
                 "patroni:restapi:password", "pgbouncer:auth_user:password", "haproxy:stats_password"]
_SECRET_WORDS = ("secret", "pass", "key")      # pgbackrest:repo and wal_g:json keys holding one


def _secret_keys(pgha):
    """[(dict, key)] of every secret in a pgha pillar: the fixed paths, users' passwords,
    repository keys (pgbackrest:repo, wal_g:json), the password in a proxy or index URL."""
    found = []
    for path in _SECRET_PATHS:
        node, *parents = pgha, *path.split(":")[:-1]
        for key in parents:
            node = node.setdefault(key, {})
        found.append((node, path.split(":")[-1]))
    found += [(user, "password") for user in pgha.get("postgresql", {}).get("users", [])]
    for section in (pgha.get("pgbackrest", {}).get("repo", {}), pgha.get("wal_g", {}).get("json", {})):
        found += [(section, key) for key in section if any(w in key.lower() for w in _SECRET_WORDS)
                  and not key.lower().endswith(("-type", "_region"))]
    return found


def secrets_of(pillar):
    """The secret values a pillar of the matrix holds (its own 'sentinels')."""
    pgha = copy.deepcopy(pillar["pgha"])
    values = {str(node[key]) for node, key in _secret_keys(pgha) if node.get(key)}
    for url in list(pgha.get("proxy_env", {}).values()) + [pgha.get("pip", {}).get("index_url") or ""]:
        if "@" in str(url):
            values.add(str(url).split("://", 1)[-1].split("@", 1)[0].split(":", 1)[-1])
    if pgha.get("tls", {}).get("ca_key"):
        values.add(pgha["tls"]["ca_key"].splitlines()[1])      # a line of the CA key's body
    return values


def with_sentinels(pillar):
    """The pillar with SENTINEL in every secret key (proxy and index URLs: as the password)."""
    pillar = copy.deepcopy(pillar)
    pgha = pillar["pgha"]
    for node, key in _secret_keys(pgha):
        node[key] = f"{SENTINEL}-{key}"
    for name, url in pgha.get("proxy_env", {}).items():
        if "@" in str(url):
            pgha["proxy_env"][name] = f"http://pgha:{SENTINEL}@proxy.example:3128"
    if pgha.get("pip", {}).get("index_url"):
        pgha["pip"]["index_url"] = f"https://pip:{SENTINEL}@pypi.internal.example/simple"
    return pillar


# Every SLS rendered (show_sls of all of them) with sentinels, for the pillars that between
# them turn on every secret: database node and balancer of Type A (users, PgBouncer, HAProxy),
# pgBackRest on s3, WAL-G on s3, package sources with a proxy and a pip index (Debian, EL),
# TLS (the CA key).
SENTINEL_BASES = {"typea": "debian12", "typea_lb": "debian12", "backup": "debian12", "wal_g": "debian12",
                  "sources_deb": "debian12", "sources_el": "rhel9", "tls": "debian12"}
SENTINEL_PILLARS = {f"sentinel_{p}": with_sentinels(PILLARS[p]) for p in SENTINEL_BASES}
SENTINEL_COMBOS = [(g, f"sentinel_{p}") for p, g in SENTINEL_BASES.items()]
for _base in SENTINEL_BASES:
    for _table in (MINION_IDS, FAKE_MINES):
        if _base in _table:
            _table[f"sentinel_{_base}"] = _table[_base]
    for _group in (LEADER_PILLARS, REPO_PILLARS, TYPE_A_PILLARS):
        if _base in _group:
            _group.add(f"sentinel_{_base}")
# Patroni's watchdog (pgha:patroni:watchdog): the three modes with a device every host has
# (/dev/null stands for /dev/watchdog: a character device), a device that is missing (softdog
# would be loaded), and a container (the lab's nspawn nodes). Rendered alone: show_sls of
# pgha.patroni.watchdog and Patroni's config file.
WATCHDOG_DEVICE = "/dev/null"
WATCHDOG_MISSING = "/dev/pgha-render-no-such-watchdog"
WATCHDOG_PILLARS = {
    f"watchdog_{name}": _pillar(roles=["postgresql", "etcd"], cluster_vip=VIP, patroni={"watchdog": watchdog})
    for name, watchdog in {
        "automatic": {"device": WATCHDOG_DEVICE},
        "required": {"mode": "required", "device": WATCHDOG_DEVICE, "safety_margin": 3},
        "off": {"mode": "off", "device": WATCHDOG_DEVICE},
        "missing": {"device": WATCHDOG_MISSING},
    }.items()}
WATCHDOG_COMBOS = [("debian12", p) for p in WATCHDOG_PILLARS] + [("debian12_nspawn", "watchdog_automatic")]
ALL_PILLARS = {**PILLARS, **SENTINEL_PILLARS, **WATCHDOG_PILLARS}
