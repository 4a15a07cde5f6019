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
cluster that must never show up). ``pgha_patroni.is_leader`` asks a fake Patroni REST API on
127.0.0.1 for the pillars that manage users, and a missing config file (not the leader) for the
others.
"""
import copy
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import salt.payload
import salt.utils.dictupdate
import salt.state
import salt.utils.args
import salt.utils.templates
import yaml

from pghalab.ca import make_ca

REPO = Path(__file__).resolve().parents[2]

SALT_CALL = Path(sys.executable).with_name("salt-call")
NODE_ADDRESS = "10.0.0.11"
VIP = "10.0.0.100"
EXISTING_ETCD = ["http://10.0.0.21:2379", "http://10.0.0.22:2379"]
LB_ADDRESS = "10.0.0.31"


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
    "pgha.vip_manager.config", "pgha.vip_manager.service", "pgha.gate.etcd",
    "pgha.gate.patroni", "pgha.gate.prepared", "pgha.gate.vip",
    "pgha.haproxy.install", "pgha.haproxy.config", "pgha.haproxy.service",
    "pgha.keepalived.install", "pgha.keepalived.config", "pgha.keepalived.service",
    "pgha.pgbouncer.install", "pgha.pgbouncer.config", "pgha.pgbouncer.service",
    "pgha.gate.balancer", "pgha.gate.tags", "pgha.ops.restart", "pgha.ops.switchover",
    "pgha.ops.update", "pgha.ops.leave", "pgha.ops.etcd_member_removed", "pgha.postgresql.adopt",
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
            "users": [{"name": "app", "password": "app-secret", "createdb": True}],
            "databases": [{"name": "appdb", "owner": "app"}],
            "extensions": [{"name": "pg_trgm", "db": "appdb"}],
            "pg_hba": [{"type": "host", "database": "appdb", "user": "app",
                        "address": "10.0.0.0/24", "method": "scram-sha-256"}],
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
                            patroni={"rto_profile": "fast", "ttl": 25, "retry_timeout": 10},
                            haproxy={"check": {"inter": "1500ms", "fall": 3}}, vip_manager={"interval": 250}),
})
# pillar: ((Patroni's ttl, loop_wait, retry_timeout, primary_start_timeout), HAProxy's check
# timings on each default-server line, vip-manager's --interval)
RTO = {
    "typeb_vip": ((30, 10, 10, 30), "inter 2s fastinter 1s downinter 2s rise 2 fall 2", 1000),
    "rto_fast": ((20, 2, 8, 15), "inter 1s fastinter 500ms downinter 1s rise 2 fall 2", 500),
    "rto_safe": ((60, 10, 25, 60), "inter 3s fastinter 1s downinter 3s rise 3 fall 3", 1000),
    "rto_override": ((25, 2, 10, 15), "inter 1500ms fastinter 500ms downinter 1s rise 2 fall 3", 250),
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

# The mine of a Type A cluster: {minion: (pgha_address, cluster_name, roles)}.
TYPE_A_MINE = {
    "pg1": (NODE_ADDRESS, "main", ["postgresql", "etcd"]),
    "pg2": ("10.0.0.12", "main", ["postgresql", "etcd"]),
    "pg3": ("10.0.0.13", "main", ["postgresql", "etcd"]),
    "lb1": (LB_ADDRESS, "main", ["balancer"]),
    "lb2": ("10.0.0.32", "main", ["balancer"]),
    "lb9": ("10.9.0.31", "other", ["balancer"]),         # another cluster's balancer
    "pg9": ("10.9.0.11", "other", ["postgresql"]),       # another cluster's database node
}
TYPE_A_PG = {"pg1": NODE_ADDRESS, "pg2": "10.0.0.12", "pg3": "10.0.0.13"}
# The mine of a cluster with a repository host, with the SSH identities each side published.
REPO_MINE = {
    "pg1": (NODE_ADDRESS, "main", ["postgresql", "etcd"]),
    "pg2": ("10.0.0.12", "main", ["postgresql", "etcd"]),
    "repo1": (REPO_ADDRESS, "main", ["pgbackrest"]),
}
REPO_PILLARS = {"repo_host", "backup_ssh"}
# A Type B cluster of three database + etcd nodes, and one of another cluster.
TYPE_B_MINE = {
    "pg1": (NODE_ADDRESS, "main", ["postgresql", "etcd"]),
    "pg2": ("10.0.0.12", "main", ["postgresql", "etcd"]),
    "pg3": ("10.0.0.13", "main", ["postgresql", "etcd"]),
    "pg9": ("10.9.0.11", "other", ["postgresql", "etcd"]),
}
FAKE_MINES = {**{p: TYPE_A_MINE for p in TYPE_A_PILLARS}, **{p: REPO_MINE for p in REPO_PILLARS},
              "firewall": TYPE_B_MINE, "system": TYPE_B_MINE,
              "firewall_not_in_mine": {m: v for m, v in TYPE_B_MINE.items() if m != "pg1"},
              "tls": TYPE_B_MINE, "sources_deb": TYPE_B_MINE, "sources_el": TYPE_B_MINE}


def _ssh_identity(minion):
    user = "pgbackrest" if minion == "repo1" else "postgres"
    return {"user": user, "key": f"ssh-ed25519 AAAAkey{minion} {user}@{minion}",
            "host_key": f"ssh-ed25519 AAAAhost{minion}"}
TYPE_A_LB = {"lb1": LB_ADDRESS, "lb2": "10.0.0.32"}

# A test double of Salt's mine module: mine.get over TYPE_A_MINE (minion option
# pgha_test_mine), matching compound targets of I@ terms like the pillar matcher does.
_FAKE_MINE = '''
import salt.utils.data

__virtualname__ = "mine"


def __virtual__():
    return __virtualname__


def get(tgt, fun, tgt_type="glob", exclude_minion=False):
    if tgt_type != "compound":
        raise ValueError("fake mine: unsupported tgt_type %r" % (tgt_type,))
    terms = tgt.split(" and ")
    if any(not term.startswith("I@") for term in terms):
        raise ValueError("fake mine: unsupported target %r" % (tgt,))
    ret = {}
    for minion, data in __opts__["pgha_test_mine"].items():
        pillar = {"pgha": data["pgha"]}
        if fun in data and all(salt.utils.data.subdict_match(pillar, term[2:], delimiter=":")
                               for term in terms):
            ret[minion] = data[fun]
    return ret
'''

# Type A renders on one distribution per family (the run time stays reasonable): the
# database node's show_sls renders the balancer's SLS (haproxy, keepalived) too.
ONLY_ON = {"typea": ("debian12", "rhel9"), "typea_lb": ("debian12",), "backup": ("debian12",),
           "wal_g": ("debian12", "rhel9"), "wal_g_file": ("debian12",), "clone": ("debian12",),
           "wal_g_clone": ("debian12",), "repo_host": ("debian12", "rhel9"), "backup_ssh": ("debian12",),
           "firewall": ("debian12", "rhel9"), "firewall_typea": ("debian12",), "firewall_lb": ("debian12",),
           "firewall_not_in_mine": ("debian12",), "system": ("debian12", "rhel9"),
           "system_off": ("debian12",), "system_ntpsec": ("debian12", "debian13"),
           "sources_deb": ("debian12", "debian13"), "sources_el": EL_SOURCE_GRAINS,
           "rto_fast": ("debian12",), "rto_safe": ("debian12",), "rto_override": ("debian12",)}
# what pgha.validate says of a pillar of the matrix on an OS it does not suit
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
# WAL-G's configuration file, and the wal_g bootstrap method (through a probe template).
WAL_G_JSON_COMBOS = [("debian12", "wal_g"), ("rhel9", "wal_g")]
BOOTSTRAP_PROBE = ("{%- from 'pgha/patroni/files/bootstrap_wal_g.jinja' import bootstrap_wal_g with context %}"
                   "{{ bootstrap_wal_g | json }}")
# pgbackrest.conf with the context pgha/pgbackrest/config.sls gives it.
PGBACKREST_CONF_PROBE = (
    "{%- from 'pgha/map.jinja' import pgha with context %}"
    "{%- with pgbr=pgha.pgbackrest, restore_stanza=pgha.restore.stanza, data_dir=pgha.postgresql.data_dir,"
    " port=pgha.postgresql.port, socket=pgha.paths.run_dir, on_repo_host=false, pg_hosts={},"
    " pg_user='postgres' %}"
    "{% include 'pgha/pgbackrest/files/pgbackrest.conf.jinja' %}{% endwith %}")

REQUISITES = {"require", "watch", "onchanges", "onfail", "prereq", "listen", "use",
              "require_in", "watch_in", "onchanges_in", "onfail_in", "prereq_in", "listen_in",
              "require_any", "watch_any", "onchanges_any", "onfail_any"}


# -- fixtures: a fake Patroni leader, one minion config per combination, the salt-calls -------

class _LeaderHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = json.dumps({"state": "running", "role": "primary", "timeline": 1}).encode()
        self.send_response(200 if self.path == "/patroni" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def patroni_leader():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LeaderHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _minion_config(base, grains_id, pillar_id, leader_port):
    minion_id = MINION_IDS.get(pillar_id, "pg1")
    root = base / f"{grains_id}-{pillar_id}"
    pillar_dir = root / "pillar"
    cachedir = root / "cache"
    pillar_dir.mkdir(parents=True)
    cachedir.mkdir()
    (pillar_dir / "top.sls").write_text("base:\n  '*':\n    - pgha\n")
    (pillar_dir / "pgha.sls").write_text(yaml.safe_dump(PILLARS[pillar_id]))
    patroni_config = root / "patroni.yml"
    if pillar_id in LEADER_PILLARS:
        patroni_config.write_text(yaml.safe_dump(
            {"restapi": {"connect_address": f"127.0.0.1:{leader_port}"}}))
    # the local mine (mine.get with file_client: local): this node published its address
    with open(cachedir / "datastore", "wb") as f:
        salt.payload.dump({"mine_cache": {"pgha_address": NODE_ADDRESS}}, f)
    module_dirs = [str(REPO / "_modules")]
    extra = {}
    if pillar_id in FAKE_MINES:     # a whole cluster in the mine: the fake mine module
        module_dirs.insert(0, str(base / "fake_mine"))
        extra["pgha_test_mine"] = {
            minion: {"pgha_address": address, "pgha": {"cluster_name": cluster, "roles": roles},
                     **({"pgha_ssh": _ssh_identity(minion)} if pillar_id in REPO_PILLARS else {})}
            for minion, (address, cluster, roles) in FAKE_MINES[pillar_id].items()}
    config = {
        "id": minion_id,
        "file_client": "local",
        "root_dir": str(root),
        "cachedir": str(cachedir),
        "log_file": str(root / "minion.log"),
        "log_level_logfile": "warning",
        "file_roots": {"base": [str(base / "file_roots")]},
        "pillar_roots": {"base": [str(pillar_dir)]},
        "module_dirs": module_dirs,
        "states_dirs": [str(REPO / "_states")],
        "grains": {**ALL_GRAINS, **CONTAINER_GRAINS}[grains_id] | {"id": minion_id},
        "enable_fqdns_grains": False,
        "pgha_patroni.config": str(patroni_config),
        **extra,
    }
    (root / "minion").write_text(yaml.safe_dump(config))
    return root


def _salt_call(confdir, *args):
    proc = subprocess.run(
        [str(SALT_CALL), "--local", "-c", str(confdir), "--out=json", "--log-level=error", *args],
        capture_output=True, text=True, timeout=180, check=False)
    try:
        data = json.loads(proc.stdout)["local"]
    except (ValueError, KeyError):
        data = None
    return {"rc": proc.returncode, "data": data, "stderr": proc.stderr[-4000:],
            "stdout": proc.stdout[-4000:]}


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, patroni_leader):
    """Every salt-call this module needs, run in parallel once per session."""
    assert SALT_CALL.exists(), f"no salt-call next to {sys.executable}"
    base = tmp_path_factory.mktemp("render")
    # file_roots holds only the formula: listing it (include resolution) stays fast.
    (base / "file_roots").mkdir()
    (base / "file_roots" / "pgha").symlink_to(REPO / "pgha")
    (base / "fake_mine").mkdir()
    (base / "fake_mine" / "mine.py").write_text(_FAKE_MINE)
    (base / "file_roots" / "probe").mkdir()
    (base / "file_roots" / "probe" / "bootstrap_wal_g.jinja").write_text(BOOTSTRAP_PROBE)
    (base / "file_roots" / "probe" / "pgbackrest_conf.jinja").write_text(PGBACKREST_CONF_PROBE)
    confdirs = {combo: _minion_config(base, *combo, patroni_leader)
                for combo in dict.fromkeys(COMBOS + TLS_COMBOS + SYSTEM_COMBOS)}
    jobs = {("show_sls",) + combo: (confdirs[combo], "state.show_sls", ",".join(SLS))
            for combo in COMBOS + TLS_COMBOS}
    jobs.update({("highstate",) + combo: (confdirs[combo], "state.show_sls", "pgha")
                 for combo in HIGHSTATE_COMBOS})
    jobs.update({("system",) + combo: (confdirs[combo], "state.show_sls", "pgha.system")
                 for combo in SYSTEM_COMBOS})
    jobs.update({("template",) + combo: (confdirs[combo], "slsutil.renderer",
                                         "salt://pgha/patroni/files/config.yml.jinja",
                                         "default_renderer=jinja", "tplroot=pgha")
                 for combo in TEMPLATE_COMBOS + TLS_TEMPLATE_COMBOS})
    jobs.update({("walg_json",) + combo: (confdirs[combo], "slsutil.renderer",
                                          "salt://pgha/wal_g/files/walg.json.jinja",
                                          "default_renderer=jinja", "tplroot=pgha")
                 for combo in WAL_G_JSON_COMBOS})
    jobs[("bootstrap_wal_g", "debian12", "wal_g")] = (
        confdirs[("debian12", "wal_g")], "slsutil.renderer", "salt://probe/bootstrap_wal_g.jinja",
        "default_renderer=jinja", "tplroot=pgha")
    jobs[("pgbackrest_conf", "debian12", "clone")] = (
        confdirs[("debian12", "clone")], "slsutil.renderer", "salt://probe/pgbackrest_conf.jinja",
        "default_renderer=jinja", "tplroot=pgha")
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) + 1)) as pool:
        futures = {key: pool.submit(_salt_call, *args) for key, args in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


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


# -- every SLS renders, and hangs together ------------------------------------------------------

@pytest.mark.parametrize("grains_id,pillar_id", [(g, p) for g in ALL_GRAINS for p in PILLARS
                                                 if g in ONLY_ON.get(p, GRAINS)])
def test_matrix_pillars_are_valid(grains_id, pillar_id):
    """The pillars rendered here are ones pgha.validate accepts (no test of nonsense), with the
    distribution's parameter files merged as on a minion of it, at the node's address."""
    spec = importlib.util.spec_from_file_location("pgha_module_for_render", REPO / "_modules" / "pgha.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    parameters = REPO / "pgha" / "parameters"
    defaults = yaml.safe_load((parameters / "defaults.yaml").read_text())
    assert module.check(PILLARS[pillar_id]["pgha"], defaults) == []
    grains = ALL_GRAINS[grains_id]
    for layer in (f"os_family/{grains['os_family']}.yaml", f"osfinger/{grains['osfinger']}.yaml"):
        if (parameters / layer).is_file():
            defaults = salt.utils.dictupdate.merge(defaults, yaml.safe_load((parameters / layer).read_text()),
                                                   merge_lists=False)
    context = {"address": PILLARS[pillar_id]["pgha"]["address"], "os": grains["osfinger"],
               "os_family": grains["os_family"]}
    assert module.check(PILLARS[pillar_id]["pgha"], defaults, context) == INVALID_ON.get((grains_id, pillar_id), [])


def test_sls_list_is_complete():
    assert "pgha" in SLS and "pgha.gate.etcd" in SLS and "pgha.postgresql.users" in SLS
    assert LEAF_SLS <= set(SLS)


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_every_sls_renders(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    rendered_sls = {body["__sls__"] for body in states.values()}
    assert rendered_sls <= set(SLS)
    assert LEAF_SLS <= rendered_sls, f"SLS without states: {LEAF_SLS - rendered_sls}"
    for state_id, body in states.items():
        module, function, _ = _fun(body)
        assert function, f"{state_id}: {module} has no function"
        assert state_id.startswith("pgha-") or module == "pgha_patroni", state_id


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_requisites_point_at_rendered_states(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    targets = set()
    for state_id, body in states.items():
        module, _, args = _fun(body)
        targets.add((module, state_id))
        if "name" in args:
            targets.add((module, args["name"]))
    for state_id, body in states.items():
        _, _, args = _fun(body)
        for key in REQUISITES & set(args):
            for requisite in args[key]:
                ((module, target),) = requisite.items()
                if module == "sls":
                    assert target in SLS, f"{state_id}: {key} sls {target} does not exist"
                else:
                    assert (module, target) in targets, f"{state_id}: {key} {module}: {target}"


# -- concrete facts, per distribution and pillar ---------------------------------------------

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


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_postgresql_and_patroni_per_distribution(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    pkgs, data_dir, _, patroni_config, distro_service, _ = PG[grains_id]

    assert _state(states, "pgha-postgresql-pkgs-installed") == (
        "pkg", "installed", {"pkgs": pkgs, "require": [{"sls": "pgha.repo"}]})
    assert _state(states, "pgha-postgresql-distro-service-dead")[2]["name"] == distro_service
    if ALL_GRAINS[grains_id]["os_family"] == "Debian":
        module, _, args = _state(states, "pgha-postgresql-createcluster-conf-managed")
        assert args["name"] == "/etc/postgresql-common/createcluster.conf"
        assert "create_main_cluster = false" in args["contents"]
        assert args["require_in"] == [{"pkg": "pgha-postgresql-pkgs-installed"}]
    else:
        assert "pgha-postgresql-createcluster-conf-managed" not in states

    # the file with every password: owner-only and never diffed
    module, function, args = _state(states, "pgha-patroni-config-file-managed")
    assert (module, function) == ("file", "managed")
    assert args["name"] == patroni_config
    assert args["mode"] == "0600"
    assert args["show_changes"] is False
    assert (args["user"], args["group"]) == ("postgres", "postgres")
    assert args["source"] == "salt://pgha/patroni/files/config.yml.jinja"
    assert args["context"] == {"tplroot": "pgha"}
    assert _state(states, "pgha-patroni-data-dir-managed")[2]["name"] == data_dir
    assert _state(states, "pgha-patroni-data-dir-managed")[2]["mode"] == "0700"
    assert _state(states, "pgha-patroni-config-dir-managed")[2]["name"] == "/etc/patroni"

    # a config change reloads Patroni, never restarts it
    module, function, args = _state(states, "pgha-patroni-service-running")
    assert (module, function, args["name"]) == ("service", "running", "patroni")
    assert args["reload"] is True and args["enable"] is True
    assert args["watch"] == [{"sls": "pgha.patroni.config"}]


@pytest.mark.parametrize("grains_id", GRAINS)
def test_patroni_from_packages(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    expected = {"Debian": ["patroni", "python3-etcd", "python3-psycopg2"],
                "RedHat": ["patroni", "patroni-etcd"]}[ALL_GRAINS[grains_id]["os_family"]]
    assert _state(states, "pgha-patroni-pkgs-installed")[2]["pkgs"] == expected
    assert "pgha-patroni-pip-installed" not in states
    assert "pgha-patroni-unit-file-managed" not in states


@pytest.mark.parametrize("grains_id", GRAINS)
def test_patroni_from_pip(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "pip")
    deps = {"Debian": ["python3-venv"],
            "RedHat": ["python3"]}[ALL_GRAINS[grains_id]["os_family"]]
    assert "pgha-patroni-pkgs-installed" not in states
    assert _state(states, "pgha-patroni-pip-deps-installed")[2]["pkgs"] == deps
    module, _, args = _state(states, "pgha-patroni-venv-created")
    assert (module, args["name"], args["creates"]) == (
        "cmd", "python3 -m venv /opt/patroni", "/opt/patroni/bin/pip")
    module, function, args = _state(states, "pgha-patroni-pip-installed")
    assert (module, function) == ("pip", "installed")
    # no VIP: no vip-manager 1.x, so Patroni uses the etcd v3 API
    assert args["pkgs"] == ["patroni[etcd3]==4.1.5", "psycopg2-binary"]
    assert args["bin_env"] == "/opt/patroni"
    assert args["require"] == [{"file": "pgha-patroni-pip-conf-managed"}]
    # the sources in the venv's pip.conf, owner-only and never diffed (an index URL may hold a
    # password), none on pip's command line
    assert not {"index_url", "find_links", "no_index", "proxy", "env_vars"} & set(args)
    module, function, args = _state(states, "pgha-patroni-pip-conf-managed")
    assert (module, function, args["name"], args["mode"], args["show_changes"]) == (
        "file", "managed", "/opt/patroni/pip.conf", "0600", False)
    assert args["contents"].splitlines()[1:] == ["[global]", "index-url = http://mirror.example/simple"]
    module, _, args = _state(states, "pgha-patroni-unit-file-managed")
    assert args["name"] == "/etc/systemd/system/patroni.service"
    assert args["context"] == {"patroni_bin": "/opt/patroni/bin/patroni",
                               "config": PG[grains_id][3], "user": "postgres"}


@pytest.mark.parametrize("grains_id", GRAINS)
def test_etcd_members_from_the_mine(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    assert _state(states, "pgha-etcd-pkgs-installed")[2]["pkgs"] == (
        ["etcd-server", "etcd-client"] if ALL_GRAINS[grains_id]["os_family"] == "Debian" else ["etcd"])
    module, _, args = _state(states, "pgha-etcd-config-file-managed")
    assert args["name"] == PG[grains_id][5]
    assert args["context"]["me"] == NODE_ADDRESS
    # a new cluster: every etcd minion of the mine; no member add (that is pgha.add_node's join)
    assert args["context"]["initial_cluster"] == f"pg1=http://{NODE_ADDRESS}:2380"
    assert args["context"]["initial_state"] == "new"
    assert "pgha-etcd-member-added" not in states
    assert args["context"]["etcd"]["cluster_token"] == "etcd-main"
    # Debian's vip-manager 1.x reads v2; PGDG's (RedHat) is 2 or newer: v3
    assert args["context"]["etcd"]["enable_v2"] is (ALL_GRAINS[grains_id]["os_family"] == "Debian")
    assert _state(states, "pgha-etcd-data-dir-managed")[2]["mode"] == "0700"
    assert _state(states, "pgha-gate-etcd-healthy") == (
        "pgha_etcd", "healthy", {"endpoints": [f"http://{NODE_ADDRESS}:2379"], "timeout": 90})


@pytest.mark.parametrize("grains_id", GRAINS)
def test_existing_etcd(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "dcs_exists")
    assert _state(states, "pgha-gate-etcd-healthy")[2]["endpoints"] == EXISTING_ETCD
    context = _state(states, "pgha-vip-manager-unit-dropin-managed")[2]["context"]
    assert context["endpoints"] == EXISTING_ETCD
    assert context["interface"] == "eth1"
    assert context["vm"]["major_version"] == 2
    # no etcd role: this node is no etcd member
    assert _state(states, "pgha-etcd-config-file-managed")[2]["context"]["initial_cluster"] == ""


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_vip(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    pgha = PILLARS[pillar_id]["pgha"]
    # vip-manager holds the VIP in Type B only; in Type A keepalived does, on the balancers
    if pgha.get("cluster_vip") and not pgha.get("with_haproxy_load_balancing"):
        assert _state(states, "pgha-gate-vip-ready") == (
            "pgha_patroni", "vip_ready", {"name": VIP, "timeout": 60})
        assert "pgha-vip-manager-not-used" not in states
        module, _, args = _state(states, "pgha-vip-manager-unit-dropin-managed")
        assert args["name"] == "/etc/systemd/system/vip-manager.service.d/pgha.conf"
        assert args["context"]["vip"] == VIP and args["context"]["scope"] == "main"
        assert args["context"]["interface"] not in ("", "None", None)
    else:
        assert _state(states, "pgha-gate-vip-none")[:2] == ("test", "nop")
        assert _state(states, "pgha-vip-manager-not-used")[:2] == ("test", "nop")


@pytest.mark.parametrize("grains_id", GRAINS)
def test_package_repository(rendered, grains_id):
    module, function, args = _state(_states(rendered, "show_sls", grains_id, "typeb_vip"),
                                    "pgha-repo-pkgrepo-managed")
    assert (module, function) == ("pkgrepo", "managed")
    if ALL_GRAINS[grains_id]["os_family"] == "Debian":
        assert args["name"] == "deb [trusted=yes] http://mirror.example/pgha ./"
        assert args["file"] == "/etc/apt/sources.list.d/pgha.list"
    else:
        assert (args["name"], args["baseurl"], args["gpgcheck"]) == (
            "pgha", "http://mirror.example/pgha", 0)
    assert _state(_states(rendered, "show_sls", grains_id, "typeb_vip"), "pgha-repo-sources-ready")[2] == {
        "name": "package sources: pkgrepo",
        "require": [{"file": "pgha-repo-proxy-managed"}, {"pkgrepo": "pgha-repo-pkgrepo-managed"}]}


@pytest.mark.parametrize("grains_id", GRAINS)
def test_no_package_sources_by_default(rendered, grains_id):
    """Without pillar: the node's own sources, no proxy (a proxy set before is taken away)."""
    states = _states(rendered, "show_sls", grains_id, "pip")
    assert not [state_id for state_id in states if state_id.endswith("-pkgrepo-managed")]
    assert "pgha-repo-dnf-module-disabled" not in states
    assert _state(states, "pgha-repo-sources-ready")[2]["name"] == "package sources: the node's own"
    module, function, args = _state(states, "pgha-repo-proxy-managed")
    if ALL_GRAINS[grains_id]["os_family"] == "Debian":
        assert (module, function, args) == ("file", "absent", {"name": "/etc/apt/apt.conf.d/90pgha-proxy"})
    else:
        assert (module, function) == ("file", "blockreplace")
        assert (args["content"], args["append_if_not_found"]) == ("", False)
        assert args["onlyif"] == "grep -qF 'pgha:proxy_env START' /etc/dnf/dnf.conf"


@pytest.mark.parametrize("grains_id", ONLY_ON["sources_deb"])
def test_package_sources_debian(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "sources_deb")
    codename = ALL_GRAINS[grains_id]["oscodename"]
    # apt's proxy: its own file, owner-only with the password, never diffed
    module, function, args = _state(states, "pgha-repo-proxy-managed")
    assert (module, function, args["name"], args["mode"], args["show_changes"]) == (
        "file", "managed", "/etc/apt/apt.conf.d/90pgha-proxy", "0640", False)
    assert args["contents"].splitlines()[1:] == [
        f'Acquire::http::Proxy "{PROXY}";', f'Acquire::https::Proxy "{PROXY}";',
        'Acquire::http::Proxy::localhost "DIRECT";', 'Acquire::https::Proxy::localhost "DIRECT";',
        'Acquire::http::Proxy::mirror.example "DIRECT";', 'Acquire::https::Proxy::mirror.example "DIRECT";']
    # apt.postgresql.org, with the key Debian's postgresql-common ships
    assert _state(states, "pgha-repo-pgdg-keyring-installed") == (
        "pkg", "installed", {"pkgs": ["postgresql-common"], "require": [{"file": "pgha-repo-proxy-managed"}]})
    assert _state(states, "pgha-repo-pgdg-pkgrepo-managed") == ("pkgrepo", "managed", {
        "name": "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] "
                f"https://apt.postgresql.org/pub/repos/apt {codename}-pgdg main",
        "file": "/etc/apt/sources.list.d/pgha-pgdg.list",
        "require": [{"file": "pgha-repo-proxy-managed"}, {"pkg": "pgha-repo-pgdg-keyring-installed"}]})
    # the site's own: a key from pillar, a trusted local directory
    assert _state(states, "pgha-repo-extra-tools-key-managed") == ("file", "managed", {
        "name": "/etc/apt/keyrings/pgha-tools.asc", "makedirs": True, "mode": "0644", "contents": KEY_TEXT})
    assert _state(states, "pgha-repo-extra-tools-pkgrepo-managed")[2] == {
        "name": "deb [signed-by=/etc/apt/keyrings/pgha-tools.asc] https://mirror.example/tools bookworm main",
        "file": "/etc/apt/sources.list.d/pgha-tools.list",
        "require": [{"file": "pgha-repo-proxy-managed"}, {"file": "pgha-repo-extra-tools-key-managed"}]}
    assert _state(states, "pgha-repo-extra-local-pkgrepo-managed")[2]["name"] == "deb [trusted=yes] file:/srv/local ./"
    assert _state(states, "pgha-repo-sources-ready")[2]["require"] == [
        {"file": "pgha-repo-proxy-managed"}, {"pkgrepo": "pgha-repo-pgdg-pkgrepo-managed"},
        {"pkgrepo": "pgha-repo-extra-tools-pkgrepo-managed"}, {"pkgrepo": "pgha-repo-extra-local-pkgrepo-managed"}]
    # pip: the index and the proxy in the venv's pip.conf, not in its argv or environment
    assert _state(states, "pgha-patroni-pip-conf-managed")[2]["contents"].splitlines()[1:] == [
        "[global]", "index-url = https://pypi.internal.example/simple", f"proxy = {PROXY}"]
    assert not {"index_url", "env_vars", "proxy"} & set(_state(states, "pgha-patroni-pip-installed")[2])
    # every download of the packages waits for the sources
    assert _state(states, "pgha-postgresql-pkgs-installed")[2]["require"] == [{"sls": "pgha.repo"}]


@pytest.mark.parametrize("grains_id", EL_SOURCE_GRAINS)
def test_package_sources_el(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "sources_el")
    el8 = ALL_GRAINS[grains_id]["osmajorrelease"] == 8
    module, function, args = _state(states, "pgha-repo-proxy-managed")
    assert (module, function, args["name"], args["content"], args["show_changes"]) == (
        "file", "blockreplace", "/etc/dnf/dnf.conf", f"proxy={PROXY}", False)
    assert args["append_if_not_found"] is True and "onlyif" not in args
    assert _state(states, "pgha-repo-proxy-mode-managed")[2] == {
        "name": "/etc/dnf/dnf.conf", "replace": False, "mode": "0640",
        "require": [{"file": "pgha-repo-proxy-managed"}]}
    # PGDG: common (Patroni, PgBouncer, pgBackRest, vip-manager), the major's, extras (etcd)
    yum = "https://download.postgresql.org/pub/repos/yum"
    for suffix, baseurl in (("common", f"{yum}/common/redhat/rhel-$releasever-$basearch"),
                            ("16", f"{yum}/16/redhat/rhel-$releasever-$basearch"),
                            ("extras", f"{yum}/common/pgdg-rhel$releasever-extras/redhat/rhel-$releasever-$basearch")):
        args = _state(states, f"pgha-repo-pgdg-{suffix}-pkgrepo-managed")[2]
        assert (args["name"], args["baseurl"], args["gpgcheck"], args["repo_gpgcheck"], args["gpgkey"]) == (
            f"pgha-pgdg-{suffix}", baseurl, 1, 1, f"{yum}/keys/PGDG-RPM-GPG-KEY-RHEL")
        assert "proxy" not in args
    args = _state(states, "pgha-repo-epel-pkgrepo-managed")[2]
    assert args["baseurl"] == "https://dl.fedoraproject.org/pub/epel/$releasever/Everything/$basearch"
    # the site's own; the one on a no_proxy host goes direct
    args = _state(states, "pgha-repo-extra-tools-pkgrepo-managed")[2]
    assert (args["name"], args["gpgcheck"], args["gpgkey"], args["proxy"]) == (
        "tools", 1, "https://mirror.example/tools/key.asc", "_none_")
    args = _state(states, "pgha-repo-extra-local-pkgrepo-managed")[2]
    assert (args["baseurl"], args["gpgcheck"]) == ("file:///srv/local", 0) and "proxy" not in args
    # EL 8 only: AppStream's postgresql module out of PGDG's way, once
    if el8:
        assert _state(states, "pgha-repo-dnf-module-disabled") == ("cmd", "run", {
            "name": "dnf -qy module disable postgresql",
            "unless": "dnf -q module list --disabled postgresql",
            "require": [{"file": "pgha-repo-proxy-managed"}]})
        assert {"cmd": "pgha-repo-dnf-module-disabled"} in _state(states, "pgha-repo-sources-ready")[2]["require"]
    else:
        assert "pgha-repo-dnf-module-disabled" not in states
    # PGDG's package names and paths; PGDG's vip-manager speaks etcd's v3 API
    assert _state(states, "pgha-patroni-pkgs-installed")[2]["pkgs"] == ["patroni", "patroni-etcd"]
    assert _state(states, "pgha-etcd-pkgs-installed")[2]["pkgs"] == ["etcd"]
    etcd = _state(states, "pgha-etcd-config-file-managed")[2]
    assert etcd["name"] == "/etc/etcd/etcd.conf"
    assert etcd["context"]["etcd"]["enable_v2"] is False
    assert _state(states, "pgha-vip-manager-unit-dropin-managed")[2]["context"]["vm"]["major_version"] == 2
    assert _state(states, "pgha-patroni-config-file-managed")[2]["name"] == "/etc/patroni/patroni.yml"
    # pgha's own nftables table, firewalld refused beside it
    assert _state(states, "pgha-firewall-pkgs-installed")[2]["pkgs"] == ["nftables"]
    assert _state(states, "pgha-firewall-rules-file-managed")[2]["name"] == "/etc/pgha/firewall.nft"
    assert _state(states, "pgha-firewall-firewalld-not-running")[2]["onlyif"] == (
        "systemctl is-active --quiet firewalld")


@pytest.mark.parametrize("grains_id", GRAINS)
def test_users_databases_extensions_on_the_leader(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    assert "pgha-postgresql-users-not-leader" not in states
    module, function, args = _state(states, "pgha-postgresql-user-app-present")
    assert (module, function) == ("postgres_user", "present")
    assert args["password"] == "app-secret"
    assert args["encrypted"] == "scram-sha-256"
    assert (args["login"], args["createdb"], args["superuser"]) == (True, True, False)
    assert (args["user"], args["db_port"]) == ("postgres", 5432)
    module, _, args = _state(states, "pgha-postgresql-database-appdb-present")
    assert (module, args["owner"], args["template"]) == ("postgres_database", "app", "template0")
    assert (args["encoding"], args["lc_collate"]) == ("UTF8", "C.UTF-8")
    module, _, args = _state(states, "pgha-postgresql-extension-appdb-pg_trgm-present")
    assert (module, args["name"], args["maintenance_db"]) == ("postgres_extension", "pg_trgm", "appdb")


@pytest.mark.parametrize("pillar_id", ["pip", "dcs_exists"])
def test_users_not_on_a_replica(rendered, pillar_id):
    states = _states(rendered, "show_sls", "debian12", pillar_id)
    assert _state(states, "pgha-postgresql-users-not-leader")[:2] == ("test", "nop")
    assert not [s for s in states if s.startswith("pgha-postgresql-user-")]


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_gates(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    assert _state(states, "pgha-gate-patroni-healthy") == (
        "pgha_patroni", "healthy", {"role": "member", "timeout": 180})
    assert _state(states, "pgha-gate-pillar-valid")[:2] == ("pgha", "pillar_valid")
    assert _state(states, "pgha-gate-address-published") == (
        "pgha", "address_published", {"require": [{"pgha": "pgha-gate-pillar-valid"}]})
    assert _state(states, "pgha-gate-pillar-valid")[2]["require"] == [
        {"saltutil": "pgha-gate-utils-synced"}, {"saltutil": "pgha-gate-modules-synced"},
        {"saltutil": "pgha-gate-states-synced"}]
    assert _state(states, "pgha-gate-utils-synced") == ("saltutil", "sync_utils", {"refresh": False})
    assert _state(states, "pgha-gate-modules-synced") == (
        "saltutil", "sync_modules", {"refresh": False})
    assert _state(states, "pgha-gate-states-synced") == (
        "saltutil", "sync_states", {"refresh": True, "reload_modules": True})


# -- day-2: dynamic configuration, pending restarts, operation SLS ----------------------------

@pytest.mark.parametrize("grains_id,pillar_id", TEMPLATE_COMBOS,
                         ids=[f"{g}-{p}" for g, p in TEMPLATE_COMBOS])
def test_dynamic_config_is_the_bootstrap_dcs(rendered, grains_id, pillar_id):
    """One source: what highstate keeps in the DCS is what bootstrap writes there."""
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    config = _patroni_config(rendered, grains_id, pillar_id)
    expected = copy.deepcopy(config["bootstrap"]["dcs"])
    if pillar_id == "clone":   # bootstrap pauses archiving; the pillar's command waits for a resume
        expected["postgresql"]["parameters"]["archive_command"] = "/usr/bin/pgbackrest --stanza=copy archive-push %p"
    assert _state(states, "pgha-patroni-dynamic-config-managed") == (
        "pgha_patroni", "dynamic_config", {
            "config": expected, "archiving": "keep",
            "paused_archive_command": "true  # pgha: WAL archiving paused after a restore",
            "require": [{"service": "pgha-patroni-service-running"}]})
    assert "pause" not in config["bootstrap"]["dcs"]      # maintenance mode survives highstate
    assert _state(states, "pgha-patroni-pending-restart-reported") == (
        "pgha_patroni", "pending_restart", {
            "watch": [{"sls": "pgha.patroni.config"}],
            "require": [{"pgha_patroni": "pgha-patroni-dynamic-config-managed"}]})
    assert config["tags"] == {"nofailover": False, "noloadbalance": False, "clonefrom": False,
                              "nosync": False}


@pytest.mark.parametrize("grains_id", GRAINS)
def test_operation_sls(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    pkgs = PG[grains_id][0]
    assert _state(states, "pgha-ops-restarted") == (
        "pgha_patroni", "restarted", {"stage": "replica", "pending_only": True, "timeout": 300})
    assert _state(states, "pgha-ops-switched-over") == (
        "pgha_patroni", "switched_over", {"candidate": "", "away_from": "",
                                          "max_lag_bytes": 10485760, "timeout": 300})
    assert _state(states, "pgha-ops-update-ready")[2]["max_transaction_sec"] == 15
    assert _state(states, "pgha-ops-update-pkgs-latest") == (
        "pkg", "latest", {"pkgs": pkgs, "refresh": True,
                          "require": [{"pgha_patroni": "pgha-ops-update-ready"}]})
    assert _state(states, "pgha-ops-update-postgresql-restarted")[2]["onchanges"] == [
        {"pkg": "pgha-ops-update-pkgs-latest"}]
    assert _state(states, "pgha-gate-patroni-tags-applied")[:2] == ("pgha_patroni", "tags_applied")


@pytest.mark.parametrize("grains_id", GRAINS)
def test_adopting_a_standalone_stops_it_last(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    version = PG[grains_id][1].split("/")[-2]          # .../15/main, .../15/data
    unit = {"Debian": f"postgresql@{version}-main", "RedHat": f"postgresql-{version}"}[ALL_GRAINS[grains_id]["os_family"]]
    assert _state(states, "pgha-postgresql-existing-checked") == (
        "pgha", "existing_postgresql_matches", {
            "version": version, "data_dir": PG[grains_id][1],
            "require": [{"test": "pgha-postgresql-adopt-announced"}]})
    module, function, args = _state(states, "pgha-postgresql-adopt-instance-stopped")
    assert (module, function, args["name"], args["enable"]) == ("service", "dead", unit, False)
    assert {"file": "pgha-postgresql-adopt-base-conf-present"} in args["require"]
    assert {"postgres_user": "pgha-postgresql-adopt-replicator-present"} in args["require"]
    replicator = _state(states, "pgha-postgresql-adopt-replicator-present")[2]
    assert replicator["replication"] is True and replicator["password"] == "repl-secret"
    assert replicator["require"] == [{"pgha": "pgha-postgresql-existing-checked"}]


# -- pgBackRest ----------------------------------------------------------------------------------

def test_pgbackrest_archive_and_replica_method(rendered):
    config = _patroni_config(rendered, "debian12", "backup")
    params = config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert params["archive_mode"] == "on"
    assert params["archive_command"] == "/usr/bin/pgbackrest --stanza=main archive-push %p"
    pg = config["postgresql"]
    assert pg["create_replica_methods"] == ["pgbackrest", "basebackup"]
    assert pg["pgbackrest"] == {"command": "/usr/bin/pgbackrest --stanza=main --delta restore",
                                "keep_data": True, "no_params": True}
    assert pg["recovery_conf"] == {"restore_command": '/usr/bin/pgbackrest --stanza=main archive-get %f "%p"'}


def test_no_pgbackrest_by_default(rendered):
    config = _patroni_config(rendered, "debian12", "typeb_vip")
    assert "archive_command" not in config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert "pgbackrest" not in config["postgresql"] and "recovery_conf" not in config["postgresql"]
    assert config["postgresql"]["create_replica_methods"] == ["basebackup"]
    assert "pgha.pgbackrest" not in {b["__sls__"] for b in _states(rendered, "highstate", "debian12", "typeb_vip").values()}


def test_pgbackrest_states(rendered):
    states = _states(rendered, "show_sls", "debian12", "backup")
    module, _, args = _state(states, "pgha-pgbackrest-config-file-managed")
    assert (args["name"], args["mode"], args["show_changes"], args["user"]) == (
        "/etc/pgbackrest/pgbackrest.conf", "0640", False, "postgres")
    assert "pgha-pgbackrest-repo-dir-managed" not in states          # s3: no local path
    assert _state(states, "pgha-pgbackrest-stanza-created")[:2] == ("pgha_pgbackrest", "stanza_created")
    service = _state(states, "pgha-pgbackrest-full-service-managed")[2]
    assert service["name"] == "/etc/systemd/system/pgha-pgbackrest-full.service"
    assert "User=postgres" in service["contents"] and "pg_is_in_recovery()" in service["contents"]
    assert "exec /usr/bin/pgbackrest --stanza=main --type=full backup" in service["contents"]
    timer = _state(states, "pgha-pgbackrest-diff-timer-managed")[2]
    assert "OnCalendar=Mon..Sat *-*-* 01:00:00" in timer["contents"]
    assert _state(states, "pgha-pgbackrest-full-timer-running")[2]["name"] == "pgha-pgbackrest-full.timer"
    text = _render_file(states, "pgha-pgbackrest-config-file-managed", "debian12", "backup")
    assert "repo1-type=s3\n" in text and "repo1-s3-key-secret=s3-secret\n" in text
    assert "[main]\npg1-path=/var/lib/postgresql/15/main\npg1-port=5432\n" in text


# -- WAL-G ---------------------------------------------------------------------------------------

WAL_G = "/usr/local/bin/wal-g --config /var/lib/postgresql/.walg.json"


def _rendered_text(rendered, kind, grains_id, pillar_id):
    result = rendered[(kind, grains_id, pillar_id)]
    assert result["rc"] == 0 and isinstance(result["data"], str), (
        f"{result['stdout']}\n{result['stderr']}")
    return result["data"]


def test_wal_g_archive_and_replica_method(rendered):
    config = _patroni_config(rendered, "debian12", "wal_g")
    params = config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert params["archive_mode"] == "on"
    assert params["archive_command"] == f"{WAL_G} wal-push %p"
    pg = config["postgresql"]
    assert pg["create_replica_methods"] == ["wal_g", "basebackup"]
    assert pg["wal_g"] == {"command": f"{WAL_G} backup-fetch /var/lib/postgresql/15/main LATEST",
                           "no_params": True}
    assert pg["recovery_conf"] == {"restore_command": f"{WAL_G} wal-fetch %f %p"}
    assert "pgbackrest" not in pg
    # what highstate keeps in the DCS archives through WAL-G too
    states = _states(rendered, "show_sls", "debian12", "wal_g")
    dynamic = _state(states, "pgha-patroni-dynamic-config-managed")[2]["config"]
    assert dynamic["postgresql"]["parameters"]["archive_command"] == f"{WAL_G} wal-push %p"


def test_wal_g_bootstrap_method(rendered):
    """The self-contained block pgha:patroni:bootstrap_method plugs into bootstrap:."""
    method = json.loads(_rendered_text(rendered, "bootstrap_wal_g", "debian12", "wal_g"))
    assert method == {"wal_g": {
        "command": f"{WAL_G} backup-fetch /var/lib/postgresql/15/main LATEST",
        "no_params": True,
        "recovery_conf": {"restore_command": f"{WAL_G} wal-fetch %f %p",
                          "recovery_target_action": "promote",
                          "recovery_target_timeline": "latest"}}}


@pytest.mark.parametrize("grains_id", ONLY_ON["wal_g"])
def test_wal_g_states(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "wal_g")
    home = "/var/lib/pgsql" if ALL_GRAINS[grains_id]["os_family"] == "RedHat" else "/var/lib/postgresql"
    # not packaged: the binary from pillar, checked against its hash
    assert _state(states, "pgha-wal-g-binary-managed") == ("file", "managed", {
        "name": "/usr/local/bin/wal-g", "source": "https://mirror.example/wal-g-pg-ubuntu-22.04-amd64",
        "source_hash": "sha256=" + "ab" * 32, "mode": "0755"})
    # the storage credentials: owner-only, never diffed, and not among the state's arguments
    module, function, args = _state(states, "pgha-wal-g-config-file-managed")
    assert (module, function, args["name"]) == ("file", "managed", f"{home}/.walg.json")
    assert (args["mode"], args["show_changes"], args["user"], args["group"]) == (
        "0600", False, "postgres", "postgres")
    assert args["context"] == {"tplroot": "pgha"}
    assert args["require"] == [{"sls": "pgha.postgresql.install"}]
    assert "pgha-wal-g-file-prefix-dir-managed" not in states        # s3: no local path
    # the backup timer: backup-push on the primary only, then the retention
    service = _state(states, "pgha-wal-g-backup-service-managed")[2]
    assert service["name"] == "/etc/systemd/system/pgha-wal-g-backup.service"
    assert "User=postgres" in service["contents"] and "pg_is_in_recovery()" in service["contents"]
    wal_g = f"/usr/local/bin/wal-g --config {home}/.walg.json"
    assert (f"|| {{ {wal_g} backup-push {PG[grains_id][1]} && {wal_g} delete retain FULL 4 --confirm; }}'"
            in service["contents"])
    timer = _state(states, "pgha-wal-g-backup-timer-managed")[2]
    assert "OnCalendar=*-*-* 01:00:00" in timer["contents"]
    assert _state(states, "pgha-wal-g-backup-timer-running")[2]["name"] == "pgha-wal-g-backup.timer"
    assert "pgha-wal-g-backup-timer-dead" not in states


@pytest.mark.parametrize("grains_id", [g for g, _ in WAL_G_JSON_COMBOS])
def test_wal_g_config_file(rendered, grains_id):
    text = _rendered_text(rendered, "walg_json", grains_id, "wal_g")
    assert text.startswith("{")
    options = json.loads(text)
    _, data_dir, _, _, _, _ = PG[grains_id]
    assert options == {
        "WALG_S3_PREFIX": "s3://pgha-backups/main", "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "walg-key-id", "AWS_SECRET_ACCESS_KEY": "walg-s3-secret",
        "WALG_DELTA_MAX_STEPS": "6",
        # where PostgreSQL is: pgha's, not pillar's
        "PGDATA": data_dir, "PGHOST": "/var/run/postgresql", "PGPORT": "5432"}


@pytest.mark.parametrize("kind", ["show_sls", "highstate"])
def test_wal_g_secrets_stay_in_the_file(rendered, kind):
    """No secret of wal_g:json in any rendered state: not in an argument, a test.nop name or
    anything else a state run could print as its comment."""
    text = json.dumps(_states(rendered, kind, "debian12", "wal_g"))
    for secret in WAL_G_SECRETS:
        assert secret not in text


def test_wal_g_file_storage_without_schedule(rendered):
    states = _states(rendered, "show_sls", "debian12", "wal_g_file")
    module, function, args = _state(states, "pgha-wal-g-file-prefix-dir-managed")
    assert (module, function, args["name"], args["mode"], args["user"]) == (
        "file", "directory", "/var/lib/wal-g", "0750", "postgres")
    assert _state(states, "pgha-wal-g-binary-managed")[2]["source"] == "file:///srv/pgha-repo/wal-g"
    # backup_on_calendar '': no timer, and one an earlier pillar installed goes
    assert not [s for s in states if s.startswith("pgha-wal-g-backup-") and s.endswith("-managed")]
    assert _state(states, "pgha-wal-g-backup-timer-dead")[2] == {
        "name": "pgha-wal-g-backup.timer", "enable": False}
    assert _state(states, "pgha-wal-g-backup-units-absent")[2]["names"] == [
        "/etc/systemd/system/pgha-wal-g-backup.timer", "/etc/systemd/system/pgha-wal-g-backup.service"]


def test_wal_g_highstate_configures_it_before_patroni(rendered):
    states = _states(rendered, "highstate", "debian12", "wal_g")
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.wal_g.install", "pgha.wal_g.config", "pgha.wal_g.schedule"} <= sls
    assert not {s for s in sls if s.startswith("pgha.pgbackrest")}

    def order(state_id):     # the compiler's order: include order, as the run applies it
        (items,) = [v for k, v in states[state_id].items() if not k.startswith("__")]
        return next(i["order"] for i in items if isinstance(i, dict) and "order" in i)
    assert order("pgha-wal-g-config-file-managed") < order("pgha-patroni-service-running")


def test_no_wal_g_by_default(rendered):
    config = _patroni_config(rendered, "debian12", "typeb_vip")
    assert "wal_g" not in config["postgresql"]
    states = _states(rendered, "highstate", "debian12", "typeb_vip")
    assert not {b["__sls__"] for b in states.values() if b["__sls__"].startswith("pgha.wal_g")}
    nop = _state(_states(rendered, "show_sls", "debian12", "typeb_vip"), "pgha-wal-g-not-used")
    assert nop == ("test", "nop", {"name": "WAL-G is not enabled (pgha:wal_g:enabled)"})


# -- what highstate (`pgha`) applies for the node's roles -------------------------------------

@pytest.mark.parametrize("pillar_id,has_etcd,has_vip_manager", [
    ("typeb_vip", True, True),      # postgresql + etcd roles, VIP
    ("pip", True, False),           # postgresql + etcd roles, no VIP
    ("dcs_exists", False, True),    # postgresql role only: the etcd exists already
])
def test_highstate_follows_the_roles(rendered, pillar_id, has_etcd, has_vip_manager):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.repo", "pgha.postgresql.install", "pgha.patroni.install",
            "pgha.patroni.config", "pgha.patroni.service"} <= sls
    assert ({"pgha.etcd.install", "pgha.etcd.config", "pgha.etcd.service"} <= sls) is has_etcd
    assert bool(sls & {"pgha.etcd.install", "pgha.etcd.config", "pgha.etcd.service"}) is has_etcd
    assert ("pgha.vip_manager.service" in sls) is has_vip_manager
    # highstate never runs the orchestration's gates or the leader-only users
    assert not {s for s in sls if s.startswith("pgha.gate.")}
    assert "pgha.postgresql.users" not in sls


# -- the Patroni configuration file ----------------------------------------------------------

def _patroni_config(rendered, grains_id, pillar_id):
    result = rendered[("template", grains_id, pillar_id)]
    assert result["rc"] == 0 and isinstance(result["data"], str), (
        f"{result['stdout']}\n{result['stderr']}")
    assert result["data"].startswith("# Managed by Salt (pgha).")
    return yaml.safe_load(result["data"])


@pytest.mark.parametrize("grains_id,pillar_id", TEMPLATE_COMBOS,
                         ids=[f"{g}-{p}" for g, p in TEMPLATE_COMBOS])
def test_patroni_config_file(rendered, grains_id, pillar_id):
    config = _patroni_config(rendered, grains_id, pillar_id)
    _, data_dir, bin_dir, _, _, _ = PG[grains_id]
    assert {"scope", "namespace", "name", "restapi", "bootstrap", "postgresql", "tags"} <= set(config)
    assert (config["scope"], config["name"], config["namespace"]) == (PILLARS[pillar_id]["pgha"]["cluster_name"], "pg1", "/service/")
    # secrets come through unmasked (Salt 3008 masks pillar only outside templates)
    assert config["restapi"] == {
        "listen": "0.0.0.0:8008", "connect_address": f"{NODE_ADDRESS}:8008",
        "authentication": {"username": "patroni", "password": "rest-secret"}}
    auth = config["postgresql"]["authentication"]
    assert auth["superuser"] == {"username": "postgres", "password": "su-secret"}
    assert auth["replication"] == {"username": "replicator", "password": "repl-secret"}
    assert auth["rewind"] == auth["superuser"]
    pg = config["postgresql"]
    assert (pg["data_dir"], pg["bin_dir"]) == (data_dir, bin_dir)
    assert pg["connect_address"] == f"{NODE_ADDRESS}:5432"
    # the postgres user's home, where Patroni can write its .pgpass
    home = "/var/lib/pgsql" if ALL_GRAINS[grains_id]["os_family"] == "RedHat" else "/var/lib/postgresql"
    assert pg["pgpass"] == f"{home}/.pgpass_patroni"
    assert f"host replication replicator {NODE_ADDRESS}/32 scram-sha-256" in pg["pg_hba"]
    assert pg["parameters"]["unix_socket_directories"] == "/var/run/postgresql"
    dcs = config["bootstrap"]["dcs"]
    # the failover preset's timings (norm unless the pillar names another), pillar keys first
    timings = RTO.get(pillar_id, RTO["typeb_vip"])[0]
    assert (dcs["ttl"], dcs["loop_wait"], dcs["retry_timeout"], dcs["primary_start_timeout"]) == timings
    # DCS-only parameters go to bootstrap, the others to the local config
    assert dcs["postgresql"]["parameters"]["max_connections"] == 200
    assert "max_connections" not in pg["parameters"]
    assert pg["parameters"]["shared_buffers"] == "128MB"
    assert "data-checksums" in config["bootstrap"]["initdb"]
    if pillar_id == "typeb_vip" and ALL_GRAINS[grains_id]["os_family"] == "RedHat":
        assert config["etcd3"] == {"hosts": [f"{NODE_ADDRESS}:2379"]}     # PGDG's vip-manager: v3
        assert "etcd" not in config
    elif pillar_id == "typeb_vip":
        assert config["etcd"] == {"hosts": [f"{NODE_ADDRESS}:2379"]}      # v2 for vip-manager 1
        assert "etcd3" not in config
        assert "host appdb app 10.0.0.0/24 scram-sha-256" in pg["pg_hba"]
    elif pillar_id == "typea":
        # Type A: no vip-manager, so the etcd v3 API; etcd members and peers from the mine
        assert config["etcd3"] == {"hosts": [f"{a}:2379" for _, a in sorted(TYPE_A_PG.items())]}
        assert "etcd" not in config
        assert dcs["synchronous_mode"] is True
        for address in TYPE_A_PG.values():
            assert f"host replication replicator {address}/32 scram-sha-256" in pg["pg_hba"]
        # the balancers reach PostgreSQL directly (HAProxy's direct ports); no other cluster does
        for address in TYPE_A_LB.values():
            assert f"host all all {address}/32 scram-sha-256" in pg["pg_hba"]
        assert not [line for line in pg["pg_hba"] if "10.9.0." in line]
    elif pillar_id == "dcs_exists":
        assert config["etcd3"] == {"hosts": ["10.0.0.21:2379", "10.0.0.22:2379"]}
        assert "etcd" not in config


# -- failover presets (patroni:rto_profile) ----------------------------------------------------

@pytest.mark.parametrize("pillar_id", list(RTO))
def test_failover_preset(rendered, pillar_id):
    """Every reader of the timings sees the preset's values, pillar keys first: Patroni's
    dynamic configuration (kept in the DCS), HAProxy's checks (static file and confd template),
    vip-manager's interval. Patroni and HAProxy take a new preset with a reload."""
    states = _states(rendered, "show_sls", "debian12", pillar_id)
    (ttl, loop_wait, retry_timeout, primary_start_timeout), checks, interval = RTO[pillar_id]
    config = _state(states, "pgha-patroni-dynamic-config-managed")[2]["config"]
    assert (config["ttl"], config["loop_wait"], config["retry_timeout"],
            config["primary_start_timeout"]) == (ttl, loop_wait, retry_timeout, primary_start_timeout)
    assert loop_wait + 2 * retry_timeout <= ttl                    # Patroni's rule
    assert _state(states, "pgha-patroni-service-running")[2]["reload"] is True

    listeners = _haproxy_listeners(_render_file(states, "pgha-haproxy-config-file-managed", "debian12", pillar_id))
    for name in ("master", "replicas"):
        (default_server,) = [line for line in listeners[name] if line.startswith("default-server ")]
        assert default_server == f"default-server {checks} on-marked-down shutdown-sessions", name
    expected = dict(zip(checks.split()[::2], checks.split()[1::2]))
    for state_id in ("pgha-haproxy-config-file-managed", "pgha-confd-template-file-managed"):
        check = _state(states, state_id)[2]["context"]["haproxy"]["check"]
        assert {key: str(value) for key, value in check.items()} == expected, state_id
    assert _state(states, "pgha-haproxy-service-running")[2]["reload"] is True

    text = _render_file(states, "pgha-vip-manager-unit-dropin-managed", "debian12", pillar_id)
    (start,) = [line for line in text.splitlines() if line.startswith("ExecStart=/")]
    assert start.endswith(f" --interval={interval}")


# -- Type A: HAProxy, keepalived, PgBouncer ----------------------------------------------------

TYPE_B_PILLARS = [p for p in PILLARS if p not in TYPE_A_PILLARS]
TYPE_A_SLS_PREFIXES = ("pgha.haproxy", "pgha.keepalived", "pgha.pgbouncer", "pgha.confd",
                       "pgha.balancer")


def _render_file(states, state_id, grains_id, pillar_id):
    """What file.managed would write: the state's source rendered by Salt's Jinja renderer
    with the context the state was compiled with (and this minion's grains)."""
    _, _, args = _state(states, state_id)
    assert args["template"] == "jinja"
    source = args["source"]
    assert source.startswith("salt://pgha/")
    path = REPO / source[len("salt://"):]
    context = {"opts": {}, "saltenv": None,
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


def _server_lines(lines):
    return [line for line in lines if line.startswith("server ")]


@pytest.mark.parametrize("grains_id", ONLY_ON["typea"])
def test_haproxy_config_file_state(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typea")
    module, function, args = _state(states, "pgha-haproxy-config-file-managed")
    assert (module, function) == ("file", "managed")
    # holds the stats password: root and haproxy only, never diffed
    assert args["name"] == "/etc/haproxy/haproxy.cfg"
    assert (args["user"], args["group"], args["mode"]) == ("root", "haproxy", "0640")
    assert args["show_changes"] is False
    assert args["replace"] is True                      # no confd: Salt owns the file
    assert args["check_cmd"] == "/usr/sbin/haproxy -c -q -f"
    context = args["context"]
    assert context["servers"] == TYPE_A_PG                # database nodes of this cluster only
    assert (context["backend_port"], context["pg_port"], context["rest_port"]) == (6432, 5432, 8008)
    assert context["synchronous_mode"] is True
    assert context["haproxy"]["stats_password"] == "stats-secret"
    # a config change reloads HAProxy (seamless), a new file limit restarts it
    module, function, args = _state(states, "pgha-haproxy-service-running")
    assert (module, function, args["name"]) == ("service", "running", "haproxy")
    assert args["reload"] is True and args["enable"] is True
    assert args["watch"] == [{"file": "pgha-haproxy-config-file-managed"}]
    assert "LimitNOFILE=65536" in _state(states, "pgha-haproxy-unit-dropin-managed")[2]["contents"]


def test_haproxy_config_file_type_a(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea_lb")
    text = _render_file(states, "pgha-haproxy-config-file-managed", "debian12", "typea_lb")
    assert text.startswith("# Managed by Salt (pgha).")
    assert "maxconn 10000" in text and "mode tcp" in text
    listeners = _haproxy_listeners(text)
    assert sorted(listeners) == ["master", "master_direct", "replicas", "replicas_async",
                                 "replicas_sync", "stats"]
    stats = listeners["stats"]
    assert "bind *:7000" in stats and "mode http" in stats
    assert "stats auth admin:stats-secret" in stats
    assert not _server_lines(stats)
    expected = {   # listener: (port, Patroni health check, the servers' port)
        "master": (5000, "/primary", 6432),
        "replicas": (5001, "/replica?lag=104857600", 6432),
        "replicas_sync": (5002, "/sync", 6432),
        "replicas_async": (5003, "/async?lag=104857600", 6432),
        "master_direct": (6000, "/primary", 5432),       # past PgBouncer, straight to PostgreSQL
    }
    for name, (port, check, server_port) in expected.items():
        lines = listeners[name]
        assert f"bind *:{port}" in lines, name
        assert f"option httpchk OPTIONS {check}" in lines, name
        assert "http-check expect status 200" in lines, name
        (default_server,) = [line for line in lines if line.startswith("default-server ")]
        assert default_server.endswith("on-marked-down shutdown-sessions"), name
        assert "inter 2s fastinter 1s downinter 2s rise 2 fall 2" in default_server
        # one server per database node of this cluster, health-checked on Patroni's REST port
        assert _server_lines(lines) == [
            f"server {node} {address}:{server_port} check port 8008"
            for node, address in sorted(TYPE_A_PG.items())], name
        assert ("balance roundrobin" in lines) is name.startswith("replicas"), name


@pytest.mark.parametrize("grains_id,pillar_id", [("debian12", "typeb_vip"), ("rhel9", "pip")])
def test_haproxy_config_file_without_synchronous_mode(rendered, grains_id, pillar_id):
    """No synchronous_mode (the default), no direct ports: no 5002/5003, no *_direct; without
    PgBouncer the servers are PostgreSQL itself."""
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    assert _state(states, "pgha-haproxy-config-file-managed")[2]["context"]["synchronous_mode"] is False
    listeners = _haproxy_listeners(_render_file(states, "pgha-haproxy-config-file-managed",
                                                grains_id, pillar_id))
    assert sorted(listeners) == ["master", "replicas", "stats"]
    text = "\n".join(line for lines in listeners.values() for line in lines)
    assert "5002" not in text and "5003" not in text and "/sync" not in text
    assert _server_lines(listeners["master"]) == [f"server pg1 {NODE_ADDRESS}:5432 check port 8008"]


def test_confd_template_has_the_same_listeners(rendered):
    """The confd variant (servers from the DCS) renders the same listeners as the static file."""
    states = _states(rendered, "show_sls", "debian12", "typea_lb")
    text = _render_file(states, "pgha-confd-template-file-managed", "debian12", "typea_lb")
    static = _render_file(states, "pgha-haproxy-config-file-managed", "debian12", "typea_lb")
    listeners = _haproxy_listeners(text)
    assert sorted(listeners) == sorted(_haproxy_listeners(static))
    assert '{{range gets "/members/*"}}' in text
    assert "server {{base .Key}} {{$host}}:6432 check port 8008" in text
    assert "server {{base .Key}} {{$host}}:5432 check port 8008" in text      # master_direct
    _, _, args = _state(states, "pgha-confd-template-file-managed")
    assert (args["mode"], args["show_changes"]) == ("0640", False)


def test_keepalived_on_a_balancer(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea_lb")
    module, function, args = _state(states, "pgha-keepalived-config-file-managed")
    assert (module, function, args["name"]) == ("file", "managed", "/etc/keepalived/keepalived.conf")
    assert args["mode"] == "0640"
    context = args["context"]
    assert context["peers"] == TYPE_A_LB                  # balancers of this cluster only
    assert (context["me"], context["vip"], context["priority"]) == (LB_ADDRESS, VIP, 150)
    interface = context["interface"]
    assert interface and interface != "None"
    text = _render_file(states, "pgha-keepalived-config-file-managed", "debian12", "typea_lb")
    assert "router_id lb1" in text
    assert "state BACKUP" in text and "priority 150" in text
    assert "virtual_router_id 123" in text and "advert_int 1" in text
    assert f"unicast_src_ip {LB_ADDRESS}" in text
    # the other balancer is the only unicast peer; this one is not its own peer
    block = text.split("unicast_peer {", 1)[1].split("}", 1)[0]
    assert block.split() == ["10.0.0.32"]
    vips = text.split("virtual_ipaddress {", 1)[1].split("}", 1)[0]
    assert vips.split() == [VIP, "dev", interface]
    assert 'script "/usr/bin/killall -0 haproxy"' in text and "chk_haproxy" in text
    # killall comes from psmisc
    assert _state(states, "pgha-keepalived-pkgs-installed")[2]["pkgs"] == ["keepalived", "psmisc"]
    module, function, args = _state(states, "pgha-keepalived-service-running")
    assert (module, function, args["name"], args["reload"]) == (
        "service", "running", "keepalived", True)
    assert args["watch"] == [{"sls": "pgha.keepalived.config"}]


def test_balancer_gate(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea_lb")
    module, function, args = _state(states, "pgha-gate-haproxy-ready")
    assert (module, function) == ("pgha_haproxy", "ready")
    assert args == {"vip": VIP, "master_port": 5000, "port": 7000, "user": "admin",
                    "password": "stats-secret", "timeout": 60}
    # what Salt passes the state function (format_call, as State.call does) reaches
    # pgha_haproxy.servers as its own keyword arguments
    spec = importlib.util.spec_from_file_location("pgha_haproxy_state_for_render",
                                                  REPO / "_states" / "pgha_haproxy.py")
    state_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(state_module)
    spec = importlib.util.spec_from_file_location("pgha_haproxy_module_for_render",
                                                  REPO / "_modules" / "pgha_haproxy.py")
    exec_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exec_module)
    low = {"state": "pgha_haproxy", "fun": "ready", "name": "pgha-gate-haproxy-ready",
           "__id__": "pgha-gate-haproxy-ready", "__sls__": "pgha.gate.balancer",
           "__env__": "base", "order": 10000, **args}
    call = salt.utils.args.format_call(state_module.ready, low,
                                       expected_extra_kws=salt.state.STATE_INTERNAL_KEYWORDS)
    stats = {k: v for k, v in call["kwargs"].items()
             if k not in ("name", "vip", "master_port", "timeout")}
    assert stats == {"port": 7000, "user": "admin", "password": "stats-secret"}
    assert set(stats) <= set(salt.utils.args.get_function_argspec(exec_module.servers).args)


@pytest.mark.parametrize("grains_id", ONLY_ON["typea"])
def test_pgbouncer_files(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typea")
    # the auth_query role's password only: owner-only, never diffed
    module, function, args = _state(states, "pgha-pgbouncer-userlist-file-managed")
    assert (module, function, args["name"]) == ("file", "managed", "/etc/pgbouncer/userlist.txt")
    assert (args["mode"], args["show_changes"]) == ("0600", False)
    assert (args["user"], args["group"]) == ("postgres", "postgres")
    assert args["contents"] == '"pgbouncer" "pgb-secret"\n'
    module, function, args = _state(states, "pgha-pgbouncer-config-file-managed")
    assert args["name"] == "/etc/pgbouncer/pgbouncer.ini"
    text = _render_file(states, "pgha-pgbouncer-config-file-managed", grains_id, "typea")
    lines = text.splitlines()
    assert "app = host=127.0.0.1 port=5432 dbname=appdb pool_size=10 pool_mode=transaction" in lines
    assert "* = host=127.0.0.1 port=5432" in lines
    assert lines.index("[databases]") < lines.index("[pgbouncer]")
    for line in ("listen_addr = 0.0.0.0", "listen_port = 6432", "auth_type = scram-sha-256",
                 "auth_file = /etc/pgbouncer/userlist.txt", "auth_user = pgbouncer",
                 "auth_query = SELECT usename, passwd FROM pgbouncer.get_auth($1)",
                 "pool_mode = session", "unix_socket_dir = /var/run/postgresql"):
        assert line in lines, line
    assert "pgb-secret" not in text
    module, function, args = _state(states, "pgha-pgbouncer-service-running")
    assert (module, function, args["name"], args["reload"]) == (
        "service", "running", "pgbouncer", True)
    assert args["watch"] == [{"sls": "pgha.pgbouncer.config"}]


def test_pgbouncer_auth_role_and_function_on_the_leader(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea")
    module, function, args = _state(states, "pgha-postgresql-user-pgbouncer-present")
    assert (module, function) == ("postgres_user", "present")
    assert (args["name"], args["password"], args["encrypted"]) == (
        "pgbouncer", "pgb-secret", "scram-sha-256")
    assert args["login"] is True
    assert not args.get("superuser")
    functions = sorted(s for s in states if s.startswith("pgha-postgresql-pgbouncer-auth-function-"))
    assert functions == [f"pgha-postgresql-pgbouncer-auth-function-{db}-present"
                         for db in ("appdb", "postgres", "template1")]
    for db in ("template1", "postgres", "appdb"):
        module, function, args = _state(states, f"pgha-postgresql-pgbouncer-auth-function-{db}-present")
        assert (module, function) == ("cmd", "run")
        assert args["name"] == f"psql -X -p 5432 -d {db} -q -v ON_ERROR_STOP=1 -f -"
        assert args["runas"] == "postgres"
        assert "SECURITY DEFINER" in args["stdin"]
        assert "FROM pg_shadow WHERE usename = p_usename" in args["stdin"]
        assert "REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;" in args["stdin"]
        assert "GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO pgbouncer;" in args["stdin"]
        assert "has_function_privilege('pgbouncer', 'pgbouncer.get_auth(text)', 'EXECUTE')" in args["unless"]
        expected = [{"postgres_user": "pgha-postgresql-user-pgbouncer-present"}]
        if db == "appdb":   # a pillar database exists before its function is created
            expected.append({"postgres_database": "pgha-postgresql-database-appdb-present"})
        assert args["require"] == expected


@pytest.mark.parametrize("pillar_id", ["typeb_vip"])
def test_no_pgbouncer_role_in_type_b(rendered, pillar_id):
    states = _states(rendered, "show_sls", "debian12", pillar_id)   # the leader: users render
    assert "pgha-postgresql-user-app-present" in states
    assert not [s for s in states if "pgbouncer" in s and s.startswith("pgha-postgresql-")]
    assert _state(states, "pgha-pgbouncer-not-used")[:2] == ("test", "nop")


def test_highstate_of_a_balancer(rendered):
    states = _states(rendered, "highstate", "debian12", "typea_lb")
    sls = {body["__sls__"] for body in states.values()}
    system = {s for s in sls if s.startswith("pgha.system.")}
    assert sls - system == {"pgha.repo", "pgha.haproxy.install", "pgha.haproxy.config",
                            "pgha.haproxy.service", "pgha.keepalived.install", "pgha.keepalived.config",
                            "pgha.keepalived.service"}
    assert {"pgha.system.sysctl", "pgha.system.thp", "pgha.system.time", "pgha.system.hosts"} <= system
    assert not [s for s in states if "patroni" in s or "postgresql" in s or "pgbouncer" in s]


def test_highstate_of_a_type_a_database_node(rendered):
    states = _states(rendered, "highstate", "debian12", "typea")
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.pgbouncer.install", "pgha.pgbouncer.config", "pgha.pgbouncer.service",
            "pgha.patroni.service", "pgha.etcd.service"} <= sls
    # no balancer here, and keepalived (not vip-manager) holds the VIP
    assert not {s for s in sls if s.startswith(("pgha.haproxy", "pgha.keepalived", "pgha.confd",
                                                "pgha.vip_manager", "pgha.gate."))}


@pytest.mark.parametrize("pillar_id", [p for p in TYPE_B_PILLARS if ("debian12", p) in HIGHSTATE_COMBOS])
def test_type_b_highstate_has_no_type_a_states(rendered, pillar_id):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    sls = {body["__sls__"] for body in states.values()}
    assert not {s for s in sls if s.startswith(TYPE_A_SLS_PREFIXES)}
    assert not [s for s in states if s.startswith(("pgha-pgbouncer-", "pgha-haproxy-",
                                                   "pgha-keepalived-"))]


# -- bootstrap from a backup, restore ------------------------------------------------------------

def test_clone_bootstraps_from_the_source_stanza(rendered):
    config = _patroni_config(rendered, "debian12", "clone")
    assert config["scope"] == "copy"
    source = "/usr/bin/pgbackrest --stanza=main"
    assert config["bootstrap"]["method"] == "pgbackrest"
    assert config["bootstrap"]["pgbackrest"] == {
        "command": f'{source} --delta restore --type=time "--target=2026-11-26 04:00:00+00" --target-action=promote',
        "keep_existing_recovery_conf": True, "no_params": True,
        "recovery_conf": {"restore_command": f'{source} archive-get %f "%p"',
                          "recovery_target_action": "promote", "recovery_target_timeline": "latest",
                          "recovery_target_time": "2026-11-26 04:00:00+00"}}
    # its own archive is its own stanza, and starts paused
    params = config["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert params["archive_command"] == "true  # pgha: WAL archiving paused after a restore"
    assert config["postgresql"]["recovery_conf"] == {
        "restore_command": '/usr/bin/pgbackrest --stanza=copy archive-get %f "%p"'}
    # while highstate keeps the pillar's command as the one a resume restores
    states = _states(rendered, "show_sls", "debian12", "clone")
    dynamic = _state(states, "pgha-patroni-dynamic-config-managed")[2]
    assert dynamic["config"]["postgresql"]["parameters"]["archive_command"] == (
        "/usr/bin/pgbackrest --stanza=copy archive-push %p")
    assert dynamic["archiving"] == "keep"


def test_clone_reads_the_source_stanza_section(rendered):
    text = _rendered_text(rendered, "pgbackrest_conf", "debian12", "clone")
    assert "[copy]" in text and "[main]" in text


def test_wal_g_bootstrap_with_archiving_kept(rendered):
    config = _patroni_config(rendered, "debian12", "wal_g_clone")
    assert config["bootstrap"]["method"] == "wal_g"
    assert config["bootstrap"]["wal_g"]["command"].endswith("backup-fetch /var/lib/postgresql/15/main LATEST")
    # disable_archive_command: false keeps WAL-G's archive_command from the start
    assert config["bootstrap"]["dcs"]["postgresql"]["parameters"]["archive_command"].endswith("wal-push %p")


def test_restore_stages_render(rendered):
    states = _states(rendered, "show_sls", "debian12", "backup")
    assert _state(states, "pgha-ops-restore-not-alone")[:2] == ("test", "fail_without_changes")


# -- pgBackRest repository host --------------------------------------------------------------------

def test_repository_host_trusts_the_database_nodes(rendered):
    states = _states(rendered, "show_sls", "debian12", "repo_host")
    assert _state(states, "pgha-pgbackrest-repo-user-present")[2]["name"] == "pgbackrest"
    assert _state(states, "pgha-pgbackrest-ssh-pg2-authorized")[2]["name"] == "ssh-ed25519 AAAAkeypg2 postgres@pg2"
    assert _state(states, "pgha-pgbackrest-ssh-pg2-authorized")[2]["user"] == "pgbackrest"
    known = _state(states, "pgha-pgbackrest-ssh-pg2-known")[2]
    assert (known["name"], known["enc"], known["key"], known["user"]) == (
        "10.0.0.12", "ssh-ed25519", "AAAAhostpg2", "pgbackrest")
    conf = _state(states, "pgha-pgbackrest-config-file-managed")[2]
    assert (conf["user"], conf["mode"], conf["show_changes"]) == ("pgbackrest", "0640", False)
    assert conf["context"]["on_repo_host"] is True and conf["context"]["pg_hosts"] == {
        "pg1": NODE_ADDRESS, "pg2": "10.0.0.12"}
    assert _state(states, "pgha-pgbackrest-repo-dir-managed")[2]["user"] == "pgbackrest"
    # backups are scheduled here, straight (pgBackRest finds the primary)
    service = _state(states, "pgha-pgbackrest-full-service-managed")[2]["contents"]
    assert "User=pgbackrest" in service and "ExecStart=/usr/bin/pgbackrest --stanza=main --type=full backup" in service


def test_database_node_reaches_the_repository_host(rendered):
    states = _states(rendered, "show_sls", "debian12", "backup_ssh")
    assert _state(states, "pgha-pgbackrest-ssh-repo1-authorized")[2]["user"] == "postgres"
    assert _state(states, "pgha-pgbackrest-ssh-repo1-known")[2]["name"] == REPO_ADDRESS
    assert "pgha-pgbackrest-repo-dir-managed" not in states
    assert not any(k.startswith("pgha-pgbackrest-full-") for k in states)
    assert _state(states, "pgha-pgbackrest-schedule-on-the-repository-host")[:2] == ("test", "nop")
    assert _state(states, "pgha-pgbackrest-stanza-elsewhere")[2]["name"] == "the stanza is created on the repository host"


# -- the firewall (pgha:firewall) ------------------------------------------------------------------

NFT_BASE = [   # every node: what any firewall of pgha accepts before its roles' ports
    "type filter hook input priority filter; policy drop;",
    "ct state established,related accept",
    "ct state invalid drop",
    'ct state new tcp flags & syn == 0 socket wildcard 0 accept comment "connection older than the firewall"',
    "iif lo accept",
    "meta l4proto { icmp, ipv6-icmp } accept",
    'ip6 saddr fe80::/10 udp dport 546 accept comment "DHCPv6 client"',
    'tcp dport 22 accept comment "ssh, from anywhere"',
]


def _nft(states, grains_id, pillar_id):
    """({set: [elements]}, [the input chain's rules after NFT_BASE]) of the rendered file."""
    text = _render_file(states, "pgha-firewall-rules-file-managed", grains_id, pillar_id)
    assert text.startswith("# Managed by Salt (pgha)")
    head, table = text.split("\ntable inet pgha {\n", 1)
    # only pgha's own table is replaced, in the file's one transaction
    assert head.splitlines()[-2:] == ["table inet pgha", "delete table inet pgha"]
    assert [line for line in text.splitlines() if "table" in line and not line.startswith("#")] == [
        "table inet pgha", "delete table inet pgha", "table inet pgha {"]
    assert "flush" not in text
    sets = {}
    for block in table.split("    set ")[1:]:
        name = block.split()[0]
        elements = block.split("elements = { ", 1)[1].split(" }", 1)[0]
        sets[name] = elements.split(", ")
        assert ("auto-merge" in block.split("}", 1)[0]) is name.startswith("clients_"), name
    chain = table.split("chain input {\n", 1)[1].split("\n    }")[0]
    chain = [line.strip() for line in chain.splitlines() if not line.strip().startswith("#")]
    assert chain[:len(NFT_BASE)] == NFT_BASE
    return sets, chain[len(NFT_BASE):]


@pytest.mark.parametrize("grains_id", ONLY_ON["firewall"])
def test_firewall_of_a_type_b_database_node(rendered, grains_id):
    """PostgreSQL for the client networks and the cluster, Patroni and etcd for the cluster's
    nodes only, etcd's peer port for etcd members only; no PgBouncer, HAProxy or VRRP."""
    states = _states(rendered, "show_sls", grains_id, "firewall")
    sets, rules = _nft(states, grains_id, "firewall")
    assert sets == {"clients_v4": ["10.1.0.0/16"], "clients_v6": ["fd00:1::/64"],
                    "cluster_v4": [VIP, NODE_ADDRESS, "10.0.0.12", "10.0.0.13"],   # not pg9's cluster
                    "etcd_members_v4": [NODE_ADDRESS, "10.0.0.12", "10.0.0.13"]}
    assert rules == [
        'ip saddr @clients_v4 tcp dport { 5432 } accept comment "PostgreSQL"',
        'ip6 saddr @clients_v6 tcp dport { 5432 } accept comment "PostgreSQL"',
        'ip saddr @cluster_v4 tcp dport { 5432 } accept comment "PostgreSQL"',
        'ip saddr @cluster_v4 tcp dport { 8008 } accept comment "Patroni REST API"',
        'ip saddr @cluster_v4 tcp dport { 2379 } accept comment "etcd clients"',
        'ip saddr @etcd_members_v4 tcp dport { 2380 } accept comment "etcd peers"',
        'ip saddr @clients_v4 tcp dport { 9100 } accept comment "pgha:firewall:extra_ports"',
        'ip6 saddr @clients_v6 tcp dport { 9100 } accept comment "pgha:firewall:extra_ports"',
        'ip saddr @cluster_v4 tcp dport { 9100 } accept comment "pgha:firewall:extra_ports"',
        "ip saddr 10.8.0.0/16 tcp dport 9187 accept",
    ]
    # nftables from the distribution; the file checked by nft before it is written
    assert _state(states, "pgha-firewall-pkgs-installed")[2]["pkgs"] == ["nftables"]
    module, function, args = _state(states, "pgha-firewall-rules-file-managed")
    assert (module, function, args["name"], args["mode"]) == (
        "file", "managed", "/etc/pgha/firewall.nft", "0644")
    assert args["check_cmd"] == "/usr/sbin/nft -c -f"
    assert args["require"] == [{"sls": "pgha.firewall.install"},
                               {"test": "pgha-firewall-firewalld-not-running"},
                               {"test": "pgha-firewall-cluster-addresses-known"}]
    # firewalld running: refused with the reason; the node's address in the mine: go
    module, function, args = _state(states, "pgha-firewall-firewalld-not-running")
    assert (module, function, args["onlyif"]) == (
        "test", "fail_without_changes", "systemctl is-active --quiet firewalld")
    assert "systemctl disable --now firewalld" in args["name"]
    assert _state(states, "pgha-firewall-cluster-addresses-known")[:2] == (
        "test", "succeed_without_changes")
    # loaded by its own unit (at boot too), reloaded in one transaction when the file changes
    unit = _state(states, "pgha-firewall-unit-file-managed")[2]
    assert unit["name"] == "/etc/systemd/system/pgha-firewall.service"
    for line in ("ExecStart=/usr/sbin/nft -f /etc/pgha/firewall.nft",
                 "ExecReload=/usr/sbin/nft -f /etc/pgha/firewall.nft",
                 "ExecStop=-/usr/sbin/nft delete table inet pgha",
                 "After=nftables.service", "PartOf=nftables.service", "WantedBy=sysinit.target"):
        assert line in unit["contents"].splitlines(), line
    assert _state(states, "pgha-firewall-service-running") == ("service", "running", {
        "name": "pgha-firewall", "enable": True, "reload": True,
        "watch": [{"file": "pgha-firewall-rules-file-managed"},
                  {"file": "pgha-firewall-unit-file-managed"}],
        "require": [{"module": "pgha-firewall-systemd-reloaded"}]})


def test_firewall_of_a_type_a_database_node(rendered):
    """No client_sources: PostgreSQL and PgBouncer from anywhere; Patroni's REST API for the
    cluster, the balancers included (HAProxy's health checks)."""
    states = _states(rendered, "show_sls", "debian12", "firewall_typea")
    sets, rules = _nft(states, "debian12", "firewall_typea")
    assert sets["cluster_v4"] == sorted([VIP, *TYPE_A_PG.values(), *TYPE_A_LB.values()])
    assert sets["balancers_v4"] == sorted(TYPE_A_LB.values())
    assert "clients_v4" not in sets and "10.9." not in json.dumps(sets)
    assert rules == [
        'tcp dport { 5432, 6432 } accept comment "PostgreSQL, PgBouncer"',
        'ip saddr @cluster_v4 tcp dport { 8008 } accept comment "Patroni REST API"',
        'ip saddr @cluster_v4 tcp dport { 2379 } accept comment "etcd clients"',
        'ip saddr @etcd_members_v4 tcp dport { 2380 } accept comment "etcd peers"',
    ]


def test_firewall_of_a_balancer(rendered):
    """HAProxy's listeners (5002/5003 with synchronous_mode, the direct port, stats) and VRRP
    from the other balancers; nothing of a database or etcd node."""
    states = _states(rendered, "show_sls", "debian12", "firewall_lb")
    sets, rules = _nft(states, "debian12", "firewall_lb")
    assert sets["balancers_v4"] == [LB_ADDRESS, "10.0.0.32"]
    assert rules == [
        'tcp dport { 5000, 5001, 5002, 5003, 6000, 7000 } accept comment "HAProxy"',
        'ip saddr @balancers_v4 meta l4proto 112 accept comment "VRRP (keepalived)"',
    ]


def test_firewall_refused_without_the_node_in_the_mine(rendered):
    """A firewall from a mine that lacks this node would shut the cluster out: the file waits."""
    states = _states(rendered, "show_sls", "debian12", "firewall_not_in_mine")
    module, function, args = _state(states, "pgha-firewall-cluster-addresses-known")
    assert (module, function) == ("test", "fail_without_changes")
    assert args["name"].startswith("the mine has no pgha_address of pg1 for cluster main: run salt-run "
                                   "state.orch pgha.prepare first")
    assert {"test": "pgha-firewall-cluster-addresses-known"} in _state(
        states, "pgha-firewall-rules-file-managed")[2]["require"]


@pytest.mark.parametrize("pillar_id", ["firewall", "firewall_lb"])
def test_firewall_in_the_highstate_first(rendered, pillar_id):
    """Highstate loads the firewall before it starts the roles' services."""
    states = _states(rendered, "highstate", "debian12", pillar_id)
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.firewall.install", "pgha.firewall.config", "pgha.firewall.service"} <= sls
    assert "pgha.firewall.clean" not in sls

    def order(state_id):
        (items,) = [v for k, v in states[state_id].items() if not k.startswith("__")]
        return next(i["order"] for i in items if isinstance(i, dict) and "order" in i)
    first = "pgha-etcd-service-running" if pillar_id == "firewall" else "pgha-haproxy-service-running"
    assert order("pgha-firewall-service-running") < order(first)


@pytest.mark.parametrize("pillar_id", ["typeb_vip", "typea_lb"])
def test_no_firewall_by_default(rendered, pillar_id):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    assert not [s for s in states if s.startswith("pgha-firewall-")]
    assert _state(_states(rendered, "show_sls", "debian12", pillar_id), "pgha-firewall-not-used") == (
        "test", "nop", {"name": "no firewall is managed (pgha:firewall:enabled)"})


def test_firewall_clean(rendered):
    states = _states(rendered, "show_sls", "debian12", "firewall")
    assert _state(states, "pgha-firewall-clean-service-dead") == (
        "service", "dead", {"name": "pgha-firewall", "enable": False})
    assert _state(states, "pgha-firewall-clean-table-deleted")[2] == {
        "name": "/usr/sbin/nft delete table inet pgha", "onlyif": "/usr/sbin/nft list table inet pgha",
        "require": [{"service": "pgha-firewall-clean-service-dead"}]}
    assert _state(states, "pgha-firewall-clean-files-absent")[2]["names"] == [
        "/etc/systemd/system/pgha-firewall.service", "/etc/pgha/firewall.nft"]


@pytest.mark.skipif(not shutil.which("nft") or os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs nft (Debian package nftables), root and unshare")
@pytest.mark.parametrize("pillar_id", ["firewall", "firewall_typea", "firewall_lb"])
def test_firewall_file_loads_in_nftables(rendered, tmp_path, pillar_id):
    """nft itself loads each file, twice (the second run replaces the table), in a network
    namespace of its own: the host's ruleset is never touched."""
    states = _states(rendered, "show_sls", "debian12", pillar_id)
    path = tmp_path / "pgha.nft"
    path.write_text(_render_file(states, "pgha-firewall-rules-file-managed", "debian12", pillar_id))
    script = f"nft -f {path}; nft -f {path}; nft list table inet pgha"
    proc = subprocess.run(["unshare", "--net", "sh", "-ec", script],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "policy drop" in proc.stdout


# -- TLS (pgha:tls) ------------------------------------------------------------------------------

TLS_DIR = "/etc/pgha/tls"
TLS_CA_FILE = f"{TLS_DIR}/ca.crt"
PG_PAIR = {"cert": f"{TLS_DIR}/postgres.crt", "key": f"{TLS_DIR}/postgres.key"}
ETCD_PAIR = {"cert": f"{TLS_DIR}/etcd.crt", "key": f"{TLS_DIR}/etcd.key"}


@pytest.mark.parametrize("grains_id,pillar_id", TLS_COMBOS, ids=[f"{g}-{p}" for g, p in TLS_COMBOS])
def test_tls_renders_and_hangs_together(rendered, grains_id, pillar_id):
    """What the matrix checks of every pillar: all SLS render, every requisite points at a
    rendered state."""
    test_every_sls_renders(rendered, grains_id, pillar_id)
    test_requisites_point_at_rendered_states(rendered, grains_id, pillar_id)


@pytest.mark.parametrize("grains_id", ["debian12", "rhel9"])
def test_tls_key_pairs(rendered, grains_id):
    """The CA's certificate from pillar (by reference), and a key pair per service: the key
    made on the node, owned by the service's user, 0600; the certificate signed there by the
    CA for the node's names."""
    states = _states(rendered, "show_sls", grains_id, "tls")
    assert _state(states, "pgha-tls-dir-managed") == ("file", "directory", {
        "name": TLS_DIR, "user": "root", "group": "root", "mode": "0755", "makedirs": True})
    assert _state(states, "pgha-tls-ca-cert-managed") == ("file", "managed", {
        "name": TLS_CA_FILE, "contents_pillar": "pgha:tls:ca_cert", "user": "root", "group": "root",
        "mode": "0644", "require": [{"file": "pgha-tls-dir-managed"}]})
    for service, user, install, names in (
            ("postgres", "postgres", "pgha.postgresql.install",
             ["DNS:pg1", f"IP:{NODE_ADDRESS}", f"IP:{VIP}", "DNS:localhost", "IP:127.0.0.1",
              "DNS:db.example.com"]),
            ("etcd", "etcd", "pgha.etcd.install",
             ["DNS:pg1", f"IP:{NODE_ADDRESS}", "DNS:localhost", "IP:127.0.0.1"])):
        pair = {"postgres": PG_PAIR, "etcd": ETCD_PAIR}[service]
        assert _state(states, f"pgha-tls-{service}-key-managed") == ("x509", "private_key_managed", {
            "name": pair["key"], "algo": "rsa", "keysize": 2048, "user": user, "group": user,
            "mode": "0600", "require": [{"sls": install}, {"sls": "pgha.tls.ca"}]})
        module, function, args = _state(states, f"pgha-tls-{service}-cert-managed")
        assert (module, function) == ("pgha_tls", "certificate_managed")
        assert args == {
            "name": pair["cert"], "private_key": pair["key"], "CN": "pg1", "subjectAltName": names,
            "basicConstraints": "critical, CA:false",
            "keyUsage": "critical, digitalSignature, keyEncipherment",
            "extendedKeyUsage": "serverAuth, clientAuth", "subjectKeyIdentifier": "hash",
            "authorityKeyIdentifier": "keyid:always", "days_valid": 365, "days_remaining": 30,
            "user": "root", "group": "root", "mode": "0644",
            "require": [{"x509": f"pgha-tls-{service}-key-managed"}, {"sls": "pgha.tls.ca"}]}


@pytest.mark.parametrize("kind,pillar_id", [(k, p) for k in ("show_sls", "highstate") for p in TLS_PILLARS])
def test_tls_ca_key_in_no_state(rendered, kind, pillar_id):
    """The CA's key (and certificate) reach the node through pillar only: no state argument,
    name or context holds them, and no state holds a private key's content."""
    text = json.dumps(_states(rendered, kind, "debian12", pillar_id))
    key_body = [line for line in TLS_CA[1].splitlines() if "-----" not in line]
    cert_body = [line for line in TLS_CA[0].splitlines() if "-----" not in line]
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text
    assert not [line for line in key_body + cert_body if line in text]


def test_tls_patroni_config_file(rendered):
    """The REST API on https with the postgres user's pair, etcd over https verified by the
    CA, PostgreSQL's ssl parameters, replicas that verify their primary, and every TCP line of
    pg_hba for TLS connections (require_ssl), but a hostnossl line as written."""
    config = _patroni_config(rendered, "debian12", "tls")
    assert config["restapi"] == {
        "listen": "0.0.0.0:8008", "connect_address": f"{NODE_ADDRESS}:8008",
        "authentication": {"username": "patroni", "password": "rest-secret"},
        "certfile": PG_PAIR["cert"], "keyfile": PG_PAIR["key"], "cafile": TLS_CA_FILE}
    assert config["etcd"] == {"hosts": [f"{a}:2379" for a in (NODE_ADDRESS, "10.0.0.12", "10.0.0.13")],
                              "protocol": "https", "cacert": TLS_CA_FILE}
    pg = config["postgresql"]
    assert {k: pg["parameters"][k] for k in ("ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file")} == {
        "ssl": "on", "ssl_cert_file": PG_PAIR["cert"], "ssl_key_file": PG_PAIR["key"],
        "ssl_ca_file": TLS_CA_FILE}
    auth = pg["authentication"]
    for purpose in ("replication", "rewind"):
        assert (auth[purpose]["sslmode"], auth[purpose]["sslrootcert"]) == ("verify-full", TLS_CA_FILE)
    assert "sslmode" not in auth["superuser"]          # Patroni's own local connections: libpq's default
    assert pg["pg_hba"] == [
        "local all postgres peer",
        "local all all scram-sha-256",
        "hostssl all all 127.0.0.1/32 scram-sha-256",
        "hostssl replication replicator 127.0.0.1/32 scram-sha-256",
        *[line for address in (NODE_ADDRESS, "10.0.0.12", "10.0.0.13")
          for line in (f"hostssl replication replicator {address}/32 scram-sha-256",
                       f"hostssl all all {address}/32 scram-sha-256")],
        "hostssl appdb app 10.0.0.0/24 scram-sha-256",
        "hostnossl appdb monitor 10.0.5.0/24 scram-sha-256",
    ]
    # the DCS half is untouched: TLS is each node's own
    assert "ssl" not in config["bootstrap"]["dcs"]["postgresql"]["parameters"]


def test_tls_patroni_config_with_etcd_client_certificates(rendered):
    """etcd asks for client certificates: Patroni shows the postgres user's. TLS not required
    of PostgreSQL's clients: pg_hba keeps its host lines."""
    config = _patroni_config(rendered, "debian12", "tls_typea")
    assert config["etcd3"] == {"hosts": [f"{a}:2379" for _, a in sorted(TYPE_A_PG.items())],
                               "protocol": "https", "cacert": TLS_CA_FILE, **PG_PAIR}
    pg = config["postgresql"]
    assert pg["parameters"]["ssl"] == "on"
    assert not [line for line in pg["pg_hba"] if line.startswith("hostssl")]
    assert f"host all all {LB_ADDRESS}/32 scram-sha-256" in pg["pg_hba"]


@pytest.mark.parametrize("grains_id", ["debian12", "rhel9"])
def test_tls_etcd(rendered, grains_id):
    """etcd on https for clients and peers, with its own key pair; peers must show a
    certificate of the CA, clients need not."""
    states = _states(rendered, "show_sls", grains_id, "tls")
    module, _, args = _state(states, "pgha-etcd-config-file-managed")
    members = (NODE_ADDRESS, "10.0.0.12", "10.0.0.13")
    assert args["context"]["initial_cluster"] == ",".join(
        f"pg{i}=https://{a}:2380" for i, a in enumerate(members, 1))
    assert args["context"]["tls"] == {"ca": TLS_CA_FILE, **ETCD_PAIR, "client_cert_auth": False}
    assert args["require"] == [{"sls": "pgha.etcd.install"}, {"sls": "pgha.tls.etcd"}]
    text = _render_file(states, "pgha-etcd-config-file-managed", grains_id, "tls")
    env = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert env["ETCD_LISTEN_PEER_URLS"] == f'"https://{NODE_ADDRESS}:2380"'
    assert env["ETCD_LISTEN_CLIENT_URLS"] == f'"https://{NODE_ADDRESS}:2379,https://127.0.0.1:2379"'
    assert env["ETCD_ADVERTISE_CLIENT_URLS"] == f'"https://{NODE_ADDRESS}:2379"'
    assert env["ETCD_INITIAL_ADVERTISE_PEER_URLS"] == f'"https://{NODE_ADDRESS}:2380"'
    assert {k: env[k] for k in env if "CERT" in k or "KEY" in k or "CA_FILE" in k} == {
        "ETCD_CERT_FILE": f'"{ETCD_PAIR["cert"]}"', "ETCD_KEY_FILE": f'"{ETCD_PAIR["key"]}"',
        "ETCD_TRUSTED_CA_FILE": f'"{TLS_CA_FILE}"', "ETCD_CLIENT_CERT_AUTH": '"false"',
        "ETCD_PEER_CERT_FILE": f'"{ETCD_PAIR["cert"]}"', "ETCD_PEER_KEY_FILE": f'"{ETCD_PAIR["key"]}"',
        "ETCD_PEER_TRUSTED_CA_FILE": f'"{TLS_CA_FILE}"', "ETCD_PEER_CLIENT_CERT_AUTH": '"true"'}
    # etcd reads a renewed certificate at the next connection (etcd >= 3.2): no restart of
    # every member at once when all renew in the same run
    assert _state(states, "pgha-etcd-service-running")[2]["watch"] == [{"sls": "pgha.etcd.config"}]
    assert _state(states, "pgha-gate-etcd-healthy")[2]["endpoints"] == [f"https://{a}:2379" for a in members]


def test_tls_etcd_asks_for_client_certificates(rendered):
    states = _states(rendered, "show_sls", "debian12", "tls_typea")
    text = _render_file(states, "pgha-etcd-config-file-managed", "debian12", "tls_typea")
    assert 'ETCD_CLIENT_CERT_AUTH="true"' in text.splitlines()


def test_tls_patroni_and_vip_manager_states(rendered):
    """Patroni's configuration waits for the postgres user's pair and Patroni reloads when it
    is renewed; vip-manager reads etcd over https with the CA (no client certificate asked)."""
    states = _states(rendered, "show_sls", "debian12", "tls")
    args = _state(states, "pgha-patroni-config-file-managed")[2]
    assert args["require"] == [{"file": "pgha-patroni-config-dir-managed"}, {"sls": "pgha.tls.postgres"}]
    assert args["show_changes"] is False
    assert _state(states, "pgha-patroni-service-running")[2]["watch"] == [
        {"sls": "pgha.patroni.config"}, {"sls": "pgha.tls.postgres"}]
    args = _state(states, "pgha-vip-manager-unit-dropin-managed")[2]
    assert args["context"]["tls"] == {"ca": TLS_CA_FILE, "cert": "", "key": ""}
    text = _render_file(states, "pgha-vip-manager-unit-dropin-managed", "debian12", "tls")
    (start,) = [line for line in text.splitlines() if line.startswith("ExecStart=/")]
    members = ",".join(f"https://{a}:2379" for a in (NODE_ADDRESS, "10.0.0.12", "10.0.0.13"))
    assert f"--dcs-endpoints={members} " in start
    assert start.endswith(f" --interval=1000 --etcd-ca-file={TLS_CA_FILE}")
    assert _state(states, "pgha-vip-manager-service-running")[2]["watch"] == [
        {"sls": "pgha.vip_manager.config"}]


def test_tls_vip_manager_with_a_client_certificate(rendered):
    """With etcd_client_cert_auth, vip-manager (root) shows the postgres user's certificate."""
    states = _states(rendered, "show_sls", "debian12", "tls")
    context = {"opts": {}, "saltenv": None, "grains": {**GRAINS["debian12"], "id": "pg1"},
               **_state(states, "pgha-vip-manager-unit-dropin-managed")[2]["context"]}
    context["tls"] = {"ca": TLS_CA_FILE, **PG_PAIR}
    path = REPO / "pgha/vip_manager/files/pgha.conf.jinja"
    text = salt.utils.templates.render_jinja_tmpl(path.read_text(), context, tmplpath=str(path))
    (start,) = [line for line in text.splitlines() if line.startswith("ExecStart=/")]
    assert start.endswith(f" --etcd-ca-file={TLS_CA_FILE} --etcd-cert-file={PG_PAIR['cert']} "
                          f"--etcd-key-file={PG_PAIR['key']}")
    states = _states(rendered, "show_sls", "debian12", "tls_typea")    # no vip-manager there
    assert "pgha-vip-manager-not-used" in states


def test_tls_pgbouncer(rendered):
    """PgBouncer shows clients the postgres user's certificate (the VIP is in it; TLS not
    required here: require_ssl false) and reaches PostgreSQL over TLS verified by the CA."""
    states = _states(rendered, "show_sls", "debian12", "tls_typea")
    args = _state(states, "pgha-pgbouncer-config-file-managed")[2]
    assert args["require"] == [{"sls": "pgha.pgbouncer.install"}, {"sls": "pgha.tls.postgres"}]
    text = _render_file(states, "pgha-pgbouncer-config-file-managed", "debian12", "tls_typea")
    settings = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
    assert {k: v for k, v in settings.items() if "_tls_" in k} == {
        "client_tls_sslmode": "prefer", "client_tls_key_file": PG_PAIR["key"],
        "client_tls_cert_file": PG_PAIR["cert"], "client_tls_ca_file": TLS_CA_FILE,
        "server_tls_sslmode": "verify-ca", "server_tls_ca_file": TLS_CA_FILE}
    assert _state(states, "pgha-pgbouncer-service-running")[2]["watch"] == [
        {"sls": "pgha.pgbouncer.config"}, {"sls": "pgha.tls.postgres"}]
    # Type A: the VIP is on the balancers, PgBouncer behind it: in the database node's names
    names = _state(states, "pgha-tls-postgres-cert-managed")[2]["subjectAltName"]
    assert f"IP:{VIP}" in names


def test_tls_balancer(rendered):
    """HAProxy checks Patroni's REST API over https, verified by the CA (a balancer has the
    CA's certificate only: no key); confd reads etcd over https."""
    states = _states(rendered, "show_sls", "debian12", "tls_lb")
    args = _state(states, "pgha-haproxy-config-file-managed")[2]
    assert args["context"]["rest_ca"] == TLS_CA_FILE
    assert args["require"] == [{"sls": "pgha.haproxy.install"}, {"sls": "pgha.tls.ca"}]
    listeners = _haproxy_listeners(_render_file(states, "pgha-haproxy-config-file-managed", "debian12", "tls_lb"))
    for name, lines in listeners.items():
        if name != "stats":
            (default,) = [line for line in lines if line.startswith("default-server ")]
            assert default.endswith(f"on-marked-down shutdown-sessions check-ssl verify required "
                                    f"ca-file {TLS_CA_FILE}"), name
    confd = _state(states, "pgha-confd-config-file-managed")[2]["contents"]
    assert f'client_cakeys = "{TLS_CA_FILE}"' in confd.splitlines()
    assert "https://10.0.0.11:2379" in confd
    template = _render_file(states, "pgha-confd-template-file-managed", "debian12", "tls_lb")
    assert f"check-ssl verify required ca-file {TLS_CA_FILE}" in template
    highstate = _states(rendered, "highstate", "debian12", "tls_lb")
    assert {b["__sls__"] for b in highstate.values() if b["__sls__"].startswith("pgha.tls")} == {"pgha.tls.ca"}


def test_tls_highstate_makes_certificates_before_the_services(rendered):
    states = _states(rendered, "highstate", "debian12", "tls")
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.tls.ca", "pgha.tls.postgres", "pgha.tls.etcd"} <= sls

    def order(state_id):
        (items,) = [v for k, v in states[state_id].items() if not k.startswith("__")]
        return next(i["order"] for i in items if isinstance(i, dict) and "order" in i)
    assert order("pgha-tls-etcd-cert-managed") < order("pgha-etcd-service-running")
    assert order("pgha-tls-postgres-cert-managed") < order("pgha-patroni-service-running")


@pytest.mark.parametrize("pillar_id", ["typeb_vip", "typea", "typea_lb"])
def test_no_tls_by_default(rendered, pillar_id):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    assert not [s for s in states if s.startswith("pgha-tls-")]
    assert "https://" not in json.dumps(states)


# -- host preparation (pgha:system) ----------------------------------------------------------

DEFAULT_SYSCTL = yaml.safe_load((REPO / "pgha" / "parameters" / "defaults.yaml").read_text())[
    "system"]["sysctl"]["settings"]
THP = "/sys/kernel/mm/transparent_hugepage"


def _sysctl_file(states, state_id="pgha-system-sysctl-file-managed"):
    """{key: value} of a sysctl.d file state, after its header line."""
    module, function, args = _state(states, state_id)
    assert (module, function, args["mode"]) == ("file", "managed", "0644")
    header, *lines = args["contents"].splitlines()
    assert header.startswith("# Managed by Salt (pgha): pgha:system:")
    return dict(line.split(" = ", 1) for line in lines)


@pytest.mark.parametrize("grains_id", ["debian12", "debian13", "rhel9"])
def test_system_defaults_on_a_database_node(rendered, grains_id):
    """The defaults a DBA would pick: kernel settings now and at boot, THP off by a unit,
    open files for the postgres user and for Patroni, en_US.UTF-8, the members in
    /etc/hosts, chrony with the distribution's configuration."""
    states = _states(rendered, "system", grains_id, "typeb_vip")
    assert _sysctl_file(states) == {k: str(v) for k, v in DEFAULT_SYSCTL.items()}
    assert DEFAULT_SYSCTL["vm.swappiness"] == 1 and "vm.overcommit_memory" not in DEFAULT_SYSCTL
    assert _state(states, "pgha-system-sysctl-applied") == ("pgha_system", "kernel_applied", {
        "settings": DEFAULT_SYSCTL, "require": [{"file": "pgha-system-sysctl-file-managed"}]})
    # no huge pages from pgha, and no file of pgha's that would reserve them at the next boot
    assert _state(states, "pgha-system-hugepages-file-absent") == (
        "file", "absent", {"name": "/etc/sysctl.d/90-pgha-hugepages.conf"})
    assert not [s for s in states if s.startswith("pgha-system-hugepages-applied")]
    # THP: a unit for every boot (skipped where /sys is read-only), enabled but not started;
    # the running kernel is set by the state that reports instead of failing
    unit = _state(states, "pgha-system-thp-unit-file-managed")[2]
    assert unit["name"] == "/etc/systemd/system/disable-transparent-huge-pages.service"
    lines = unit["contents"].splitlines()
    for line in ("DefaultDependencies=no", "Before=basic.target", "Type=oneshot",
                 f"ConditionPathIsReadWrite={THP}/enabled", "WantedBy=basic.target",
                 f"ExecStart=/bin/sh -c 'echo never > {THP}/enabled && echo never > {THP}/defrag'"):
        assert line in lines, line
    assert _state(states, "pgha-system-thp-service-enabled")[:2] == ("service", "enabled")
    assert not [s for s, b in states.items() if _fun(b)[:2] == ("service", "running")
                and _fun(b)[2]["name"] == "disable-transparent-huge-pages"]
    assert _state(states, "pgha-system-thp-applied")[2] == {
        "settings": {f"{THP}/enabled": "never", f"{THP}/defrag": "never"}}
    # open files: pam_limits for sessions, a drop-in for Patroni; never a restart
    assert _state(states, "pgha-system-limits-file-managed")[2]["contents"].splitlines()[1:] == [
        "postgres soft nofile 65536", "postgres hard nofile 200000"]
    dropin = _state(states, "pgha-system-limits-patroni-dropin-managed")[2]
    assert dropin["name"] == "/etc/systemd/system/patroni.service.d/pgha-limits.conf"
    assert dropin["contents"].splitlines()[1:] == ["[Service]", "LimitNOFILE=65536:200000"]
    assert _state(states, "pgha-system-limits-systemd-reloaded")[2]["onchanges"] == [
        {"file": "pgha-system-limits-patroni-dropin-managed"}]
    assert not [b for b in states.values() if _fun(b)[0] in ("cmd", "service")
                and "patroni" in json.dumps(_fun(b)[2])]
    # one package batch from the node's sources; C.UTF-8 (postgresql:locale) needs none
    pkgs = _state(states, "pgha-system-pkgs-installed")[2]
    assert pkgs == {"pkgs": ["chrony", "glibc-langpack-en" if grains_id == "rhel9" else "locales"],
                    "require": [{"sls": "pgha.repo"}]}
    assert [s for s in states if s.startswith("pgha-system-locale-")] == [
        "pgha-system-locale-en_US.UTF-8-present"]
    # this node (the local mine) by name; chrony running, its configuration the distribution's
    assert _state(states, "pgha-system-hosts-pg1-present")[2] == {
        "name": "pg1", "ip": NODE_ADDRESS, "clean": True}
    assert _state(states, "pgha-system-time-service-running")[2] == {
        "name": "chronyd" if grains_id == "rhel9" else "chrony", "enable": True,
        "require": [{"sls": "pgha.system.install"}]}
    assert "pgha-system-time-config-file-managed" not in states


def test_system_on_a_balancer(rendered):
    """A balancer gets everything but the postgres user's limits; /etc/hosts names every
    member of its cluster, none of another."""
    states = _states(rendered, "system", "debian12", "typea_lb")
    assert not [s for s in states if s.startswith("pgha-system-limits-") and not s.endswith("-not-managed")]
    assert "pgha-system-sysctl-applied" in states and "pgha-system-thp-applied" in states
    hosts = {_fun(b)[2]["name"]: _fun(b)[2]["ip"] for s, b in states.items()
             if s.startswith("pgha-system-hosts-")}
    assert hosts == {**TYPE_A_PG, **TYPE_A_LB}


@pytest.mark.parametrize("grains_id", ["debian12", "rhel9"])
def test_system_from_pillar(rendered, grains_id):
    states = _states(rendered, "system", grains_id, "system")
    # pillar keys over the defaults; ~ drops one
    expected = {k: str(v) for k, v in DEFAULT_SYSCTL.items() if k != "net.core.rmem_max"}
    expected.update({"vm.swappiness": "10", "vm.overcommit_memory": "2", "vm.overcommit_ratio": "90"})
    assert _sysctl_file(states) == expected
    assert "net.core.rmem_max" not in _state(states, "pgha-system-sysctl-applied")[2]["settings"]
    # huge pages: their own file, applied now as far as the kernel can
    assert _sysctl_file(states, "pgha-system-hugepages-file-managed") == {"vm.nr_hugepages": "1200"}
    assert _state(states, "pgha-system-hugepages-applied")[2]["settings"] == {"vm.nr_hugepages": 1200}
    assert _state(states, "pgha-system-thp-applied")[2]["settings"] == {
        f"{THP}/enabled": "madvise", f"{THP}/defrag": "madvise"}
    assert _state(states, "pgha-system-limits-file-managed")[2]["contents"].splitlines()[1:] == [
        "pgadmin soft nofile 100000", "pgadmin hard nofile 300000"]
    assert "LimitNOFILE=100000:300000" in _state(
        states, "pgha-system-limits-patroni-dropin-managed")[2]["contents"].splitlines()
    # the listed locales, and postgresql:locale for initdb; on RedHat a langpack per language
    assert [s for s in states if s.startswith("pgha-system-locale-") and s.endswith("-present")] == [
        "pgha-system-locale-de_DE.UTF-8-present", "pgha-system-locale-en_US.UTF-8-present",
        "pgha-system-locale-en_GB.UTF-8-present"]
    assert _state(states, "pgha-system-locale-default-managed") == ("locale", "system", {
        "name": "en_US.UTF-8", "require": [{"sls": "pgha.system.install"},
                                           {"locale": "pgha-system-locale-en_US.UTF-8-present"}]})
    assert _state(states, "pgha-system-pkgs-installed")[2]["pkgs"] == (
        ["chrony", "glibc-langpack-de", "glibc-langpack-en"] if grains_id == "rhel9" else ["chrony", "locales"])
    # the cluster's members from the mine (not pg9 of another cluster), the extra lines last
    hosts = {_fun(b)[2]["name"]: _fun(b)[2]["ip"] for s, b in states.items()
             if s.startswith("pgha-system-hosts-")}
    assert hosts == {"pg1": NODE_ADDRESS, "pg2": "10.0.0.12", "pg3": "10.0.0.99",
                     "backup.example.com": "10.0.0.50", "backup": "10.0.0.50"}
    # chrony with pgha's file: the servers only, restarted when it changes
    config = _state(states, "pgha-system-time-config-file-managed")[2]
    assert config["name"] == ("/etc/chrony.conf" if grains_id == "rhel9" else "/etc/chrony/chrony.conf")
    text = _render_file(states, "pgha-system-time-config-file-managed", grains_id, "system")
    assert [line for line in text.splitlines() if line.startswith(("server", "pool"))] == [
        "server ntp1.example.com iburst", "server 10.0.0.5 iburst"]
    assert "makestep 1 3" in text.splitlines()
    assert _state(states, "pgha-system-time-service-running")[2]["watch"] == [
        {"file": "pgha-system-time-config-file-managed"}]


def test_system_switched_off(rendered):
    """Every part off: nothing but nops (and pgha's huge pages file kept away)."""
    states = _states(rendered, "system", "debian12", "system_off")
    functions = {s: _fun(b)[:2] for s, b in states.items() if s.startswith("pgha-system-")}
    assert functions == {
        "pgha-system-sysctl-not-managed": ("test", "nop"),
        "pgha-system-hugepages-file-absent": ("file", "absent"),
        "pgha-system-thp-not-managed": ("test", "nop"),
        "pgha-system-limits-not-managed": ("test", "nop"),
        "pgha-system-locale-not-managed": ("test", "nop"),
        "pgha-system-hosts-not-managed": ("test", "nop"),
        "pgha-system-time-not-managed": ("test", "nop"),
    }
    # pgha.packages installs nothing for it either
    assert _state(_states(rendered, "show_sls", "debian12", "system_off"), "pgha-system-pkgs-none")[:2] == (
        "test", "nop")


def test_system_ntpsec(rendered):
    states = _states(rendered, "system", "debian13", "system_ntpsec")
    assert _state(states, "pgha-system-pkgs-installed")[2]["pkgs"] == ["ntpsec", "locales"]
    assert _state(states, "pgha-system-time-config-file-managed")[2]["name"] == "/etc/ntpsec/ntp.conf"
    text = _render_file(states, "pgha-system-time-config-file-managed", "debian13", "system_ntpsec")
    assert "server ntp1.example.com iburst" in text.splitlines()
    assert "restrict default kod nomodify nopeer noquery limited" in text.splitlines()
    assert _state(states, "pgha-system-time-service-running")[2]["name"] == "ntpsec"


@pytest.mark.parametrize("grains_id,pillar_id,kind", [
    ("debian12_nspawn", "system", "systemd-nspawn"), ("debian12_docker", "typeb_vip", "Docker")])
def test_system_in_a_container(rendered, grains_id, pillar_id, kind):
    """A container's clock is the host's: the time daemon is installed (and configured) but
    not started, which says so instead of failing. The kernel settings render as anywhere:
    what the container cannot change, their state reports when it runs."""
    states = _states(rendered, "system", grains_id, pillar_id)
    assert "pgha-system-time-service-running" not in states
    module, function, args = _state(states, "pgha-system-time-service-not-started")
    assert (module, function) == ("test", "show_notification")
    assert f"in this container ({kind}) the clock is the host's" in args["text"]
    assert args["text"].startswith("chrony is installed" + (" and configured" if pillar_id == "system" else ""))
    assert ("pgha-system-time-config-file-managed" in states) is (pillar_id == "system")
    for state_id in ("pgha-system-sysctl-applied", "pgha-system-thp-applied", "pgha-system-thp-service-enabled"):
        assert state_id in states


@pytest.mark.parametrize("pillar_id", ["typeb_vip", "typea_lb"])
def test_system_first_in_the_highstate(rendered, pillar_id):
    """Kernel settings, limits and locales are in place before any service starts."""
    states = _states(rendered, "highstate", "debian12", pillar_id)

    def order(state_id):
        (items,) = [v for k, v in states[state_id].items() if not k.startswith("__")]
        return next(i["order"] for i in items if isinstance(i, dict) and "order" in i)
    first = "pgha-etcd-service-running" if pillar_id == "typeb_vip" else "pgha-haproxy-service-running"
    for state_id in ("pgha-system-sysctl-applied", "pgha-system-thp-applied", "pgha-system-pkgs-installed"):
        assert order(state_id) < order(first), state_id
    if pillar_id == "typeb_vip":
        assert order("pgha-system-limits-patroni-dropin-managed") < order("pgha-patroni-service-running")
        assert order("pgha-system-locale-en_US.UTF-8-present") < order("pgha-patroni-service-running")


@pytest.mark.parametrize("orchestration,step", [("deploy", "pgha-base-deployed"),
                                                ("add_node", "pgha-add-{{ target }}-base")])
def test_system_prepared_by_the_orchestrations(orchestration, step):
    """New nodes get the host preparation in their first step, before their packages."""
    text = (REPO / "orch" / "pgha" / "steps" / f"{orchestration}.sls").read_text()
    block = text.split(f"\n{step}:\n", 1)[1].split("\n\n", 1)[0]
    sls = [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- pgha.")]
    assert sls[:2] == ["pgha.system", "pgha.packages"], block
