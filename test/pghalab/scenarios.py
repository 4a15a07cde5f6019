"""Lab scenarios: which nodes boot, with which roles, and the pillar the lab master serves.

The pillar here is site data only (addresses, secrets, the offline package sources); every
default comes from the formula's parameters/defaults.yaml.
"""
import os
import secrets

from . import nasty

SUBNET = "10.213.0"
# A Patroni callback that leaves a line per call (action, role, cluster) where a test reads it.
CALLBACK_LOG = "/var/lib/postgresql/pgha-callback.log"
CALLBACK = f'#!/bin/sh\necho "$1 $2 $3" >> {CALLBACK_LOG}\n'

SCENARIOS = {
    # Type B: 3 database nodes that also run etcd, VIP through vip-manager.
    # PgBouncer on every node too (issue 21): clients on the VIP's 6432 reach the leader's.
    "typeb": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql", "etcd"],
                  "pg3": ["postgresql", "etcd"]},
        # PgBouncer on Type B (issue 21) and an on_role_change callback (issue 23: test_day2's
        # switchover sees it fire)
        "pillar": {"pgha": {
            "pgbouncer": dict(
                {"enabled": True, "auth_user": {"password": "pgb-" + secrets.token_urlsafe(12)},
                 "max_db_connections": 50, "query_wait_timeout": 60},
                # a setting only a newer PgBouncer has: Debian 13's 1.24 (Debian 12's 1.18 refuses it)
                **({"max_prepared_statements": 100} if os.environ.get("PGHA_LAB_SUITE") == "trixie" else {})),
            "patroni": {"callbacks": [{"action": "on_role_change", "contents": CALLBACK}]}}},
    },
    # Resilience tests (test_resilience.py): typeb with the `fast` failover preset (the
    # tightest Patroni timings: the strictest test of its fencing, and the shortest faults).
    "typeb-fast": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3")},
        "pillar": {"pgha": {"patroni": {"rto_profile": "fast"}}},
    },
    # Type A: HAProxy + keepalived on two balancers, PgBouncer on the database nodes, and
    # synchronous mode so that ports 5002/5003 exist. Every password is a nasty one, and one
    # user and one database have names that need quoting (pghalab.nasty, issue 17).
    "typea": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "lb1": 21, "lb2": 22},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql", "etcd"],
                  "pg3": ["postgresql", "etcd"], "lb1": ["balancer"], "lb2": ["balancer"]},
        "pillar": {"pgha": {
            "with_haproxy_load_balancing": True,
            "postgresql": {
                "superuser": {"password": nasty.password("*su")},
                "replication_user": {"password": nasty.password("!repl")},
                "users": [{"name": "app", "password": nasty.password("app", utf8=True)},
                          {"name": nasty.USER, "password": nasty.password("quoted", utf8=True)}],
                "databases": [{"name": "appdb", "owner": "app"},
                              {"name": nasty.DATABASE, "owner": nasty.USER}],
                # read back from pg_hba_file_rules (test_typea.py): the lab's line, names in
                # pg_hba's quotes, a list, a +role, an address with a netmask, and a method with
                # options (LDAP simple bind, which PostgreSQL 15 takes without reaching a server;
                # no client is in 192.0.2.0/24, TEST-NET-1)
                "pg_hba": [
                    {"type": "host", "database": "all", "user": "all", "address": f"{SUBNET}.0/24",
                     "method": "scram-sha-256"},
                    {"type": "host", "database": '"Db of Mixed",appdb', "user": '"Mixed Case $u",+app',
                     "address": f"{SUBNET}.0 255.255.255.0", "method": "scram-sha-256"},
                    {"type": "host", "database": "all", "user": "all", "address": "192.0.2.0/24",
                     "method": "ldap",
                     "options": 'ldapserver=ldap.example.net ldapprefix="cn=" ldapsuffix=", dc=example, dc=net"'},
                ],
            },
            "patroni": {"synchronous_mode": True, "restapi": {"password": nasty.password("&rest")}},
            "pgbouncer": {"auth_user": {"password": nasty.password("pgb", utf8=True)},
                          "pools": [{"name": "appdb", "pool_parameters": "pool_size=10"}]},
            # This machine caps open files at 20000: HAProxy needs ~2 per connection.
            "haproxy": {"maxconn": 4000, "stats_password": nasty.password("stats", utf8=True),
                        "direct_ports": {"master": 6000, "replicas": 6001}},
        }},
    },
    # Type A with HAProxy and keepalived on the database nodes themselves (no balancer nodes).
    "typea-colocated": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {n: ["postgresql", "etcd", "balancer"] for n in ("pg1", "pg2", "pg3")},
        "pillar": {"pgha": {
            "with_haproxy_load_balancing": True,
            "pgbouncer": {"auth_user": {"password": "pgb-" + secrets.token_urlsafe(12)}},
            "haproxy": {"maxconn": 4000, "stats_password": "stats-" + secrets.token_urlsafe(12)},
        }},
    },
    # Grow and shrink (Type B): pg1-pg3 are deployed; pg4 and pg5 boot as spare minions that
    # tests assign to the cluster (etcd goes from 3 to 5 members).
    "grow": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "pg4": 14, "pg5": 15},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3", "pg4", "pg5")},
        "spares": ["pg4", "pg5"],
        "pillar": {},
    },
    # Grow Type A: pg1, pg2 and lb1 deployed; pg3 (database) and lb2 (balancer) are spares.
    "grow-typea": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "lb1": 21, "lb2": 22},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql", "etcd"],
                  "pg3": ["postgresql"], "lb1": ["balancer", "etcd"], "lb2": ["balancer"]},
        "spares": ["pg3", "lb2"],
        "pillar": {"pgha": {
            "with_haproxy_load_balancing": True,
            "pgbouncer": {"auth_user": {"password": "pgb-" + secrets.token_urlsafe(12)}},
            "haproxy": {"maxconn": 4000, "stats_password": "stats-" + secrets.token_urlsafe(12)},
        }},
    },
    # Adopt a standalone PostgreSQL: pg1 runs one (the test installs it) before pgha.deploy.
    "adopt": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3")},
        "node_pillar": {"pg1": {"postgresql_exists": True}},
        "pillar": {},
    },
    # Backups: pgBackRest with a posix repository on storage every node shares (a host
    # directory bound into each node, as NFS would be); replicas restore from it first.
    # pg4 is a spare that becomes a second cluster, "clone", bootstrapped from lab's backup.
    "backup": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "pg4": 14},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3", "pg4")},
        "spares": ["pg4"],
        "node_pillar": {"pg4": {"cluster_name": "clone", "cluster_vip": f"{SUBNET}.101",
                                "patroni": {"bootstrap_method": "pgbackrest"},
                                "restore": {"stanza": "lab"}}},
        "shared": {"pgbackrest": "/var/lib/pgbackrest"},
        "pillar": {"pgha": {"pgbackrest": {"enabled": True},
                            "patroni": {"create_replica_methods": ["pgbackrest", "basebackup"]}}},
    },
    # WAL-G on file storage every node shares (a host directory bound into each node, as NFS
    # would be); replicas restore from its backups first. WAL-G is not packaged and cannot be
    # downloaded offline: PGHA_WAL_G_URL (a URL the nodes reach, e.g. file:///srv/pgha-repo/wal-g
    # after copying the binary into the package repository) and PGHA_WAL_G_SHA256 supply it.
    "wal-g": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3")},
        "shared": {"wal-g": "/var/lib/wal-g"},
        "pillar": {"pgha": {
            "wal_g": {"enabled": True, "url": os.environ.get("PGHA_WAL_G_URL", ""),
                      "source_hash": ("sha256=" + os.environ["PGHA_WAL_G_SHA256"]
                                      if os.environ.get("PGHA_WAL_G_SHA256") else ""),
                      "json": {"WALG_FILE_PREFIX": "/var/lib/wal-g"}},
            "patroni": {"create_replica_methods": ["wal_g", "basebackup"]}}},
    },
    # Backups on a dedicated pgBackRest repository host (repo1, role pgbackrest): the database
    # nodes reach it over SSH (keys exchanged by Salt through the mine), it backs up the
    # primary of the moment.
    # pg4 is a spare database node that pgha.add_node adds later.
    "backup-repo-host": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "pg4": 14, "repo1": 31},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql", "etcd"],
                  "pg3": ["postgresql", "etcd"], "pg4": ["postgresql"], "repo1": ["pgbackrest"]},
        "spares": ["pg4"],
        "pillar": {"pgha": {"pgbackrest": {"enabled": True},
                            "patroni": {"create_replica_methods": ["pgbackrest", "basebackup"]}}},
    },
    # The firewall (pgha:firewall) on a Type B cluster, clients admitted from the lab host only.
    # pg4 is a spare: first a node outside the cluster, then added by pgha.add_node.
    "firewall": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "pg4": 14},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3", "pg4")},
        "spares": ["pg4"],
        "pillar": {"pgha": {"firewall": {"enabled": True, "client_sources": [f"{SUBNET}.1/32"]}}},
    },
    # Monitoring (issue 24): Type B with PgBouncer, pgha:monitoring on, a monitor node with
    # Prometheus and Alertmanager, the firewall on (client ports from the lab host). Short
    # alert windows so that a test sees an alert fire and resolve within minutes.
    "monitor": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "mon1": 31},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql", "etcd"], "pg3": ["postgresql", "etcd"],
                  "mon1": ["monitor"]},
        "pillar": {"pgha": {
            "firewall": {"enabled": True, "client_sources": [f"{SUBNET}.1/32"]},
            "pgbouncer": {"enabled": True, "auth_user": {"password": "pgb-" + secrets.token_urlsafe(12)}},
            "monitoring": {"enabled": True, "user": {"password": "mon-" + secrets.token_urlsafe(12)},
                           "scrape_interval": "5s", "evaluation_interval": "5s", "textfile_interval": 10,
                           "alerts": {"member_down_for": "20s", "no_leader_for": "20s",
                                      "leader_change_window": "2m", "paused_for": "1h"}}}},
    },
    # TLS (pgha:tls) on a Type B cluster: a cluster CA made each time the lab comes up
    # (lab_pillar), etcd asking its clients for certificates of it.
    "tls": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3")},
        "pillar": {"pgha": {"tls": {"enabled": True, "etcd_client_cert_auth": True}}},
    },
    # Patroni from PyPI (pinned, in a virtualenv, from the offline wheelhouse); etcd on one
    # node only, so the other database node is a pure etcd client.
    "pip": {
        "nodes": {"pg1": 11, "pg2": 12},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql"]},
        "pillar": {"pgha": {"patroni": {"install_method": "pip"}}},
    },
    # Patroni's own settings (issue 23), on a Patroni that keeps permanent slots on replicas
    # (>= 3.2: the older of the wheelhouse's two, so pgha.update has a pip upgrade to make):
    # a physical slot, an on_role_change callback, Patroni's log in files, etcd authentication
    # on the v2 API vip-manager 1.x reads (the lab's VIP makes it Type B).
    "patroni-features": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3")},
        "pillar": {"pgha": {
            "patroni": {
                "install_method": "pip", "pip_version": "4.0.7",
                "slots": [{"slot": "standby_dc2", "type": "physical"}],
                "callbacks": [{"action": "on_role_change", "contents": CALLBACK}],
                "log": {"destination": "logfile", "level": "INFO"},
                "etcd": {"username": "patroni", "password": "etcd-" + secrets.token_urlsafe(12),
                         "root_password": "root-" + secrets.token_urlsafe(12)},
            },
        }},
    },
    # A real PostgreSQL minor update (issue 23): deployed pinned to 15.18 (bookworm's main
    # archive), then pgha.update to 15.20 (bookworm-security); both are in the lab repository.
    "minor-update": {
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3")},
        "pillar": {"pgha": {"postgresql": {"version_minor": "18"}}},
    },
    # Standby clusters and two clusters on one master (issue 20): the main cluster "lab"
    # (Type B, pg1-pg3, VIP .100) and its standby cluster "dr" (dr1 with etcd, dr2; VIP .101),
    # whose leader replicates from lab's VIP through the slot lab keeps for it; dr2 cascades
    # from dr's leader. Debian 13 by default: Debian 12's Patroni 3.0.2 keeps the permanent
    # slot on lab's primary only (docs/standby-clusters.md), so lab keeps WAL for a while too.
    "standby": {
        "suite": "trixie",
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "dr1": 31, "dr2": 32},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql", "etcd"], "pg3": ["postgresql", "etcd"],
                  "dr1": ["postgresql", "etcd"], "dr2": ["postgresql"]},
        "node_pillar": {name: {"cluster_name": "dr", "cluster_vip": f"{SUBNET}.101", "standby_clusters": [],
                               "standby_cluster": {"host": f"{SUBNET}.100", "port": 5432,
                                                   "primary_slot_name": "dr", "cluster": "lab"}}
                        for name in ("dr1", "dr2")},
        "pillar": {"pgha": {
            "standby_clusters": [{"name": "dr", "addresses": [f"{SUBNET}.31", f"{SUBNET}.32"], "slot": "dr"}],
            "postgresql": {"parameters": {"wal_keep_size": "256MB"}}}},
    },
    # A standby cluster restored from its main cluster's pgBackRest repository host
    # (h10-drrepo, test_standby_repo.py): lab (pg1-pg3, VIP .100) backs up to repo1; its entry
    # for dr opts in (pgbackrest: true), so repo1 trusts dr's nodes; dr's leader is restored
    # from lab's latest backup (create_replica_methods [pgbackrest, basebackup]), then streams
    # from lab's VIP. Debian 13 like `standby`; a scenario of its own so that `standby` stays
    # as it is.
    "standby-repo": {
        "suite": "trixie",
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "repo1": 21, "dr1": 31, "dr2": 32},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql", "etcd"], "pg3": ["postgresql", "etcd"],
                  "repo1": ["pgbackrest"], "dr1": ["postgresql", "etcd"], "dr2": ["postgresql"]},
        "node_pillar": {name: {"cluster_name": "dr", "cluster_vip": f"{SUBNET}.101", "standby_clusters": [],
                               "standby_cluster": {"host": f"{SUBNET}.100", "port": 5432,
                                                   "primary_slot_name": "dr", "cluster": "lab",
                                                   "create_replica_methods": ["pgbackrest", "basebackup"],
                                                   "pgbackrest": {"enabled": True}}}
                        for name in ("dr1", "dr2")},
        "pillar": {"pgha": {
            "pgbackrest": {"enabled": True},
            "standby_clusters": [{"name": "dr", "addresses": [f"{SUBNET}.31", f"{SUBNET}.32"], "slot": "dr",
                                  "pgbackrest": True}],
            "postgresql": {"parameters": {"wal_keep_size": "256MB"}}}},
    },
    # Major upgrade 17 -> 18 (issue 19), Debian 13 only: PostgreSQL 18 built from forky's
    # source (pghalab.backport) in a second offline repository the pillar names like a site's
    # mirror of PGDG. Type B with PgBouncer (its pools paused for the window), data in several
    # databases, pg_stat_statements. Not in `make test`: make test-lab SCENARIO=upgrade.
    "upgrade": {
        "suite": "trixie",
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13},
        "roles": {n: ["postgresql", "etcd"] for n in ("pg1", "pg2", "pg3")},
        "backports": ["postgresql-18"],
        "pillar": {"pgha": {
            "pkg_repos": [{"name": "pgha-lab-backports", "url": "file:/srv/pgha-backports", "trusted": True}],
            "pgbouncer": {"enabled": True, "auth_user": {"password": "pgb-" + secrets.token_urlsafe(12)}},
            "postgresql": {"databases": [{"name": "appdb", "owner": "app"}, {"name": "shopdb", "owner": "app"}],
                           "extensions": [{"name": "pg_stat_statements", "db": "appdb"},
                                          {"name": "pg_stat_statements", "db": "shopdb"}]},
        }},
    },
    # The same on Type A (HAProxy + keepalived): clients see errors for the window.
    "upgrade-typea": {
        "suite": "trixie",
        "nodes": {"pg1": 11, "pg2": 12, "pg3": 13, "lb1": 21},
        "roles": {"pg1": ["postgresql", "etcd"], "pg2": ["postgresql", "etcd"], "pg3": ["postgresql", "etcd"],
                  "lb1": ["balancer"]},
        "backports": ["postgresql-18"],
        "pillar": {"pgha": {
            "with_haproxy_load_balancing": True,
            "pkg_repos": [{"name": "pgha-lab-backports", "url": "file:/srv/pgha-backports", "trusted": True}],
            "pgbouncer": {"auth_user": {"password": "pgb-" + secrets.token_urlsafe(12)}},
            # the lab's 20000 open files (typea's reason); Debian 13's HAProxy 3.0 refuses to start
            # without the descriptors maxconn needs (strict-limits is its default), 2.6 only warned
            "haproxy": {"maxconn": 4000, "stats_password": "stats-" + secrets.token_urlsafe(12)},
            "postgresql": {"databases": [{"name": "appdb", "owner": "app"}, {"name": "shopdb", "owner": "app"}]},
            # backups on: the upgrade's stanza-upgrade and full backup of 18 with Debian 13's
            # pgBackRest 2.55 (PostgreSQL 18 support marked pre-release there)
            "pgbackrest": {"enabled": True},
        }},
        "shared": {"pgbackrest": "/var/lib/pgbackrest"},
    },
}


def lab_pillar(scenario):
    """The cluster pillar for a scenario, with fresh passwords (and, with pgha:tls, a fresh
    cluster CA) each time the lab comes up."""
    pillar = {
        "mine_functions": {"pgha_address": {"mine_function": "pgha.address"},
                           "pgha_member": {"mine_function": "pgha_settings.member"}},
        "pgha": {
            "cluster_name": "lab",
            "cluster_vip": f"{SUBNET}.100",
            "pkg_repo": {"url": "file:/srv/pgha-repo", "trusted": True},
            "pip": {"find_links": "/srv/pgha-repo/wheels", "no_index": True},
            "postgresql": {
                "superuser": {"password": "su-" + secrets.token_urlsafe(12)},
                "replication_user": {"password": "repl-" + secrets.token_urlsafe(12)},
                "pg_hba": [{"type": "host", "database": "all", "user": "all",
                            "address": f"{SUBNET}.0/24", "method": "scram-sha-256"}],
                "users": [{"name": "app", "password": "app-" + secrets.token_urlsafe(12)}],
                "databases": [{"name": "appdb", "owner": "app"}],
                "extensions": [{"name": "pg_stat_statements", "db": "appdb"}],
            },
            "patroni": {"restapi": {"password": "rest-" + secrets.token_urlsafe(12)}},
        },
    }
    _merge(pillar, SCENARIOS[scenario]["pillar"])
    tls = pillar["pgha"].get("tls", {})
    if tls.get("enabled") and not tls.get("ca_cert"):
        from .ca import make_ca  # pylint: disable=import-outside-toplevel ; cryptography, for TLS only
        ca_cert, ca_key = make_ca("pgha lab CA")
        pillar["pgha"]["tls"] = dict(tls, ca_cert=ca_cert, ca_key=ca_key)
    return pillar


def _merge(dst, src):
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _merge(dst[key], value)
        else:
            dst[key] = value
