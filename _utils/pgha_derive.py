"""
pgha's settings as every state reads them, pure Python (no ``__salt__``): the parameter files
merged with pillar, the failover preset applied, the values derived from others, and the
cluster's members found in the mine by exact comparison. The execution module
``pgha_settings.render`` gathers the inputs on the minion and map.jinja exports its result, so
no default, preset or derived value is written twice.

Salt's loader gives a utils module no ``__utils__`` of its own, so ``pgha_cluster`` (merge and
preset, shared with the planner) is imported from the file next to this one.
"""
import copy
import os
import runpy

import salt.utils.dictupdate

# The roles whose members the states read, in map.jinja's order.
MEMBER_ROLES = ("postgresql", "etcd", "balancer", "pgbackrest")
# The services that hold a key pair of their own under paths:tls_dir.
TLS_SERVICES = ("postgres", "etcd")


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


def parameter_files(grains):
    """The parameter files under ``pgha/parameters/`` for a minion with these grains, the
    later overriding the earlier: the defaults, then its OS family's, then its OS release's."""
    return ["defaults.yaml", f"os_family/{grains.get('os_family', '')}.yaml",
            f"osfinger/{grains.get('osfinger', '')}.yaml"]


def defaults(layers):
    """The parameter files' data (dicts, in :py:func:`parameter_files` order; a missing file
    is None) merged into one dict. The layers are not modified."""
    merged = {}
    for layer in layers:
        if isinstance(layer, dict):
            merged = salt.utils.dictupdate.merge(merged, copy.deepcopy(layer), merge_lists=False)
    return merged


def members(cluster_name, mine):
    """
    ``{role: {minion: address}}`` of cluster ``cluster_name``, for each of MEMBER_ROLES.
    ``mine`` is ``{minion: {"cluster_name", "roles", "address"}}``, every minion's published
    membership (:py:func:`member_entry`, mine key ``pgha_member``). A minion belongs when its cluster name is exactly ``cluster_name``:
    Salt's pillar targeting (``I@``) ignores case and expands globs, which would mix clusters
    ``main`` and ``Main`` on one master.
    """
    found = {role: {} for role in MEMBER_ROLES}
    for minion, entry in sorted((mine or {}).items()):
        if not isinstance(entry, dict) or entry.get("cluster_name") != cluster_name:
            continue
        roles = entry.get("roles")
        for role in MEMBER_ROLES:
            if isinstance(roles, list) and role in roles:
                found[role][minion] = entry.get("address")
    return found


def member_entry(pillar_pgha, address, defaults_=None):
    """What a minion publishes to the mine (``pgha_member``): its cluster, its roles, its address.
    With pgha:monitoring on (issue 24), also its metrics endpoints (``metrics``,
    ``pgha_monitoring.endpoints`` of the parameter files ``defaults_`` merged with pillar) and,
    on a monitor, the other clusters it scrapes (``monitors``). Nothing secret: every minion
    that may read the mine sees it."""
    pillar_pgha = pillar_pgha if isinstance(pillar_pgha, dict) else {}
    roles = pillar_pgha.get("roles")
    entry = {"cluster_name": pillar_pgha.get("cluster_name"),
             "roles": [str(role) for role in roles] if isinstance(roles, list) else [],
             "address": address}
    monitoring = pillar_pgha.get("monitoring")
    if isinstance(monitoring, dict) and monitoring.get("enabled") is True:
        cfg = _sibling("pgha_cluster").merged(defaults_ or {}, copy.deepcopy(pillar_pgha))
        entry["metrics"] = _sibling("pgha_monitoring").endpoints(cfg)
        if "monitor" in entry["roles"]:
            clusters = monitoring.get("clusters")
            entry["monitors"] = [str(c) for c in clusters] if isinstance(clusters, list) else []
    return entry


def _with_preset(cfg):
    """The settings with the failover preset applied (``pgha_cluster.resolve_rto``, which the
    validator and the planner use too); a preset name that names none is an error here, as
    the states cannot render without the timings."""
    resolved, _, name = _sibling("pgha_cluster").resolve_rto(cfg)
    if name is None:
        profiles = cfg.get("rto_profiles") if isinstance(cfg.get("rto_profiles"), dict) else {}
        raise ValueError(f"pgha:patroni:rto_profile: must be one of {', '.join(sorted(profiles))} "
                         f"(got {(cfg.get('patroni') or {}).get('rto_profile')})")
    return resolved


def _jinja_int(value):
    # What map.jinja's `| int` gave, so that a settings change stays a settings change:
    # anything that is not a number counts as 0.
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _derive(cfg):
    """Fill in the values derived from others (in place): version-dependent paths, package
    and service names, and the settings whose value is ``auto``."""
    pg = cfg["postgresql"]
    version = str(pg["version"])
    pg["version"] = version
    pg["data_dir"] = pg.get("data_dir") or str(cfg["paths"]["data_dir"]).replace("{version}", version)
    pg["bin_dir"] = str(cfg["paths"]["bin_dir"]).replace("{version}", version)
    for component, names in cfg["pkgs"].items():
        cfg["pkgs"][component] = [str(name).replace("{version}", version) for name in names]
    services = cfg["services"]
    for key in ("postgresql_distro", "postgresql_instance"):
        services[key] = str(services[key]).replace("{version}", version)
    cfg["etcd"]["cluster_token"] = cfg["etcd"].get("cluster_token") or f"etcd-{cfg['cluster_name']}"
    cfg["pgbackrest"]["stanza"] = cfg["pgbackrest"].get("stanza") or cfg["cluster_name"]
    # 'auto': vip-manager holds the VIP of Type B; Type A's keepalived does, with PgBouncer.
    if cfg["vip_manager"]["enabled"] == "auto":
        cfg["vip_manager"]["enabled"] = not cfg["with_haproxy_load_balancing"] and cfg["cluster_vip"] != ""
    if cfg["pgbouncer"]["enabled"] == "auto":
        cfg["pgbouncer"]["enabled"] = cfg["with_haproxy_load_balancing"]
    # vip-manager before 2.0 speaks etcd's v2 API only: Patroni then writes through it too.
    if cfg["patroni"]["dcs_api"] == "auto":
        old_vip_manager = cfg["vip_manager"]["enabled"] and _jinja_int(cfg["vip_manager"]["major_version"]) < 2
        cfg["patroni"]["dcs_api"] = "etcd" if old_vip_manager else "etcd3"
    if cfg["etcd"]["enable_v2"] == "auto":
        cfg["etcd"]["enable_v2"] = cfg["patroni"]["dcs_api"] == "etcd"
    # A new etcd leader extends every v3 lease (none of the v2 API's TTLs): only there does
    # etcd's leadership on Patroni's leader cost a failover time (pgha_etcd.leader_apart).
    if cfg["etcd"]["leader_apart"] == "auto":
        cfg["etcd"]["leader_apart"] = cfg["patroni"]["dcs_api"] == "etcd3" and not cfg.get("dcs_exists")
    _derive_patroni(cfg)
    # Extensions' packages (postgresql:extension_packages) and preloaded libraries.
    _sibling("pgha_extensions").derive(cfg)
    # postgresql:privs in the form pgha_postgres.privileges_present takes.
    _sibling("pgha_privs").derive(cfg)
    # Standby clusters (issue 20): Patroni's standby_cluster, the main side's slots and addresses.
    _sibling("pgha_standby").derive(cfg)
    return cfg


def _derive_patroni(cfg):
    """Patroni's own settings as its configuration takes them (issue 23,
    ``pgha_patroni_features``): ``dcs_prefix`` (the cluster's etcd key, which vip-manager and
    confd read), the permanent ``dcs_slots``, the ``callback_scripts``, the ``log_section``
    and the package versions the pins name (``pins``: '' = the newest)."""
    features = _sibling("pgha_patroni_features")
    patroni = cfg["patroni"]
    patroni["dcs_prefix"] = features.dcs_prefix(patroni["etcd"]["namespace"], cfg["cluster_name"])
    patroni["dcs_slots"] = features.slots(patroni.get("slots"))
    patroni["callback_scripts"] = features.callbacks(patroni.get("callbacks"), cfg["paths"]["patroni_callbacks_dir"])
    patroni["log_section"] = features.log_section(patroni["log"])
    pg_pin = features.postgresql_pin(cfg["postgresql"]["version"], cfg["postgresql"].get("version_minor"))
    cfg["pins"] = {"postgresql": features.pkg_version(pg_pin),
                   "patroni": features.pkg_version(patroni.get("version")),
                   "etcd": features.pkg_version(cfg["etcd"].get("version"))}
    cfg["pinned_pkgs"] = features.pinned_pkgs(cfg["pkgs"], cfg["pins"])
    cfg["apt_preferences"] = features.apt_preferences(cfg["pkgs"], cfg["pins"])


def _tls_files(cfg):
    """The cluster CA's certificate, and a key pair per service (TLS_SERVICES)."""
    tls_dir = str(cfg["paths"]["tls_dir"])
    files = {"ca": f"{tls_dir}/ca.crt"}
    for service in TLS_SERVICES:
        files[service] = {"cert": f"{tls_dir}/{service}.crt", "key": f"{tls_dir}/{service}.key"}
    return files


def _etcd_client_urls(cfg, cluster, scheme):
    """etcd's client URLs: the existing etcd's (dcs_exists), else the members'. In the order
    of map.jinja's ``dictsort`` (minion IDs, case ignored), which the rendered files keep."""
    if cfg.get("dcs_exists"):
        return list(cfg["etcd"]["endpoints"])
    return [f"{scheme}://{address}:{cfg['etcd']['client_port']}"
            for _, address in sorted(cluster["etcd"].items(), key=lambda item: str(item[0]).lower())]


def _components(cfg):
    """(components, balancer_components): the components of this minion's roles, in the order
    a highstate applies them (the one place that maps roles to components), and the
    balancer's. The host first (kernel settings, limits and locales before any service
    starts); backups before Patroni (a replica, or a new cluster, may be restored from them)."""
    roles = cfg["roles"]
    components = ["system", "repo"] + (["firewall"] if cfg["firewall"]["enabled"] else [])
    if "etcd" in roles and not cfg["dcs_exists"]:
        components.append("etcd")
    if "postgresql" in roles:
        components.append("postgresql")
        components += [name for name in ("pgbackrest", "wal_g") if cfg[name]["enabled"]]
        components.append("patroni")
        components += [name for name in ("vip_manager", "pgbouncer") if cfg[name]["enabled"]]
    balancer = ["haproxy", "keepalived"] + (["confd"] if cfg["confd"]["enabled"] else [])
    if "balancer" in roles:
        components += balancer
    if "pgbackrest" in roles and "pgbackrest" not in components:
        components.append("pgbackrest")
    # issue 24: the exporters after what they watch; Prometheus and Alertmanager on a monitor
    if cfg["monitoring"]["enabled"] is True and set(roles) & {"postgresql", "etcd", "balancer", "pgbackrest"}:
        components.append("monitoring")
    if "monitor" in roles:
        # not "monitor": salt://pgha/monitor.sls is the pgha.monitor orchestration (orch/)
        components.append("prometheus")
    return components, balancer


def settings(layers, pillar_pgha, mine):
    """
    What map.jinja exports, as a dict:

    - ``pgha``: the parameter files (``layers``, see :py:func:`defaults`), then pillar
      ``pgha:lookup``, then pillar ``pgha``, with the failover preset
      (``patroni:rto_profile``) filling each timing key that is still ~, and the derived
      values (paths, package names, ``auto`` settings, ``pgbackrest:repo_host``);
    - ``members``: ``{role: {minion: address}}`` of the cluster (:py:func:`members` over
      ``mine``, ``{minion: membership}``);
    - ``monitors``: ``{minion: address}`` of the monitors that scrape this cluster (issue 24);
    - ``etcd_scheme``, ``tls_files``, ``etcd_client_urls``, ``components``,
      ``balancer_components``.

    Raises ValueError, naming the key, when the settings cannot be derived. No argument is
    modified.
    """
    if not isinstance(pillar_pgha or {}, dict):
        raise ValueError(f"pgha: must be a mapping of settings (got {type(pillar_pgha).__name__})")
    cfg = _sibling("pgha_cluster").merged(defaults(layers), copy.deepcopy(pillar_pgha or {}))
    cfg = _derive(_with_preset(cfg))
    cluster = members(cfg["cluster_name"], mine)
    # A dedicated pgBackRest repository host (the minion with role pgbackrest), over SSH.
    # (the first address in the order of map.jinja's `sort`: case ignored)
    repo_hosts = sorted(cluster["pgbackrest"].values(), key=lambda address: str(address).lower())
    cfg["pgbackrest"]["repo_host"] = repo_hosts[0] if repo_hosts else ""
    # issue 20 (h10-drrepo): the other cluster's side of a repository shared with a standby cluster
    _sibling("pgha_standby").with_repository_hosts(cfg, lambda name: members(name, mine))
    scheme = "https" if cfg["tls"]["enabled"] else "http"
    components, balancer_components = _components(cfg)
    # issue 24: the monitors that scrape this cluster (its own, and shared ones that name it)
    monitors = _sibling("pgha_monitoring").monitors_of(cfg["cluster_name"], mine)
    return {"pgha": cfg, "members": cluster, "monitors": monitors, "etcd_scheme": scheme, "tls_files": _tls_files(cfg),
            "etcd_client_urls": _etcd_client_urls(cfg, cluster, scheme),
            "components": components, "balancer_components": balancer_components}
