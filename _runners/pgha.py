"""
pgha's plan of a cluster, computed on the master for the orchestrations (``salt-run state.orch
pgha.<workflow>``): which cluster, its minions per role, the primary and the replicas, the
targets of add_node/remove_node, and the refusals (``problems``) and ``warnings``, including
the cluster-wide checks of the utils module ``pgha_cluster``.

The orchestrations sync this runner and the utils first (``salt-run saltutil.sync_runners``,
``salt-run saltutil.sync_utils``); the steps files (``orch/pgha/steps/<workflow>.sls``) render
from the plan only.

A cluster's minions are the ones whose cached pillar ``pgha:cluster_name`` is exactly the
cluster's name (compared in Python: pillar targeting, ``I@``, ignores case and expands globs).
The plan holds no password or key: ``salt-run`` prints it.
"""
import concurrent.futures
import logging

import salt.client
import salt.fileclient
import salt.utils.files
import salt.utils.yaml

log = logging.getLogger(__name__)

__virtualname__ = "pgha"

# seconds pgha.promote waits for the (expected lost) main cluster's minions, twice: Salt's
# timeout, then its gather_job_timeout. A live minion answers pgha_patroni.leader in well under
# a second on a LAN (measured in the lab); bench-standby: 3 s each made 16.5 s to the first commit.
MAIN_SITE_TIMEOUT = 2
WORKFLOWS = ("deploy", "add_node", "add_balancer", "remove_node", "remove", "restore", "switchover",
             "restart", "config", "update", "prepare", "promote", "upgrade", "upgrade_rollback")
# roles of the plan's minion lists: plan role -> pgha:roles that put a minion in it
ROLE_LISTS = {"postgresql": ("postgresql",), "etcd": ("etcd",), "balancer": ("balancer",),
              "repo_host": ("pgbackrest",), "backup": ("postgresql", "pgbackrest"),
              # issue 24: the cluster's own monitors (Prometheus, Alertmanager), and its other nodes
              "monitor": ("monitor",), "monitored": ("postgresql", "etcd", "balancer", "pgbackrest")}
REMOVE_FLAGS = ("remove_postgres", "remove_etcd", "remove_data", "remove_stanza")
# the workflow options the plan reads (pillar keys of the orchestrations); nothing secret
OPTIONS = ("candidate", "pending_only", "resume_archiving", "confirm_restore", "restore", "primary",
           "confirm_remove", "force", "to") + REMOVE_FLAGS
# what pillar pgha:restore and pillar restore may hold (a restore target, never a secret)
RESTORE_KEYS = ("type", "target", "set", "stanza")


def __virtual__():
    return __virtualname__


# -- what the master knows: cached pillar, mine, minions' answers (mocked in the unit tests) --

def _cached_pillars():
    """Every minion's cached pillar: ``{minion: pillar}`` (the cache runner, all minions)."""
    return __salt__["cache.pillar"]() or {}


def _mine_addresses(minions):
    """``{minion: pgha_address}`` from the mine, for exactly these minions."""
    if not minions:
        return {}
    return __salt__["mine.get"](tgt=",".join(minions), fun="pgha_address", tgt_type="list") or {}


def _ask(minions, fun, arg=(), kwarg=None, timeout=None, gather_job_timeout=None):
    """``{minion: return}`` of ``fun`` on exactly these minions (those that answered); the
    master's timeouts unless given (a minion that is down costs timeout + gather_job_timeout)."""
    if not minions:
        return {}
    client = salt.client.get_local_client(__opts__.get("conf_file"))
    extra = {} if gather_job_timeout is None else {"gather_job_timeout": gather_job_timeout}
    found = client.cmd(list(minions), fun, arg=list(arg), kwarg=kwarg, tgt_type="list",
                       full_return=True, timeout=timeout or __opts__.get("timeout", 5), **extra)
    return {minion: answer.get("ret") for minion, answer in (found or {}).items()
            if isinstance(answer, dict) and not answer.get("retcode")}


def _defaults():
    """pgha's parameters/defaults.yaml, from the master's file server ({} when missing)."""
    if "pgha.defaults" not in __context__:
        data = {}
        client = salt.fileclient.FSClient(__opts__)
        try:
            path = client.cache_file("salt://pgha/parameters/defaults.yaml", "base")
            if path:
                with salt.utils.files.fopen(path) as handle:
                    data = salt.utils.yaml.safe_load(handle) or {}
        finally:
            client.destroy()
        __context__["pgha.defaults"] = data if isinstance(data, dict) else {}
    return __context__["pgha.defaults"]


def _check_cluster(pillars, defaults):
    return __utils__["pgha_cluster.check_cluster"](pillars, defaults)


def _checked_part(pillar_pgha):
    return __utils__["pgha_cluster.checked_part"](pillar_pgha)


# -- helpers --------------------------------------------------------------------------------

def _pgha(pillar):
    pgha = (pillar or {}).get("pgha") if isinstance(pillar, dict) else None
    return pgha if isinstance(pgha, dict) else {}


def _get(data, path, default=None):
    return __utils__["pgha_cluster.get"](data, path, default)


def _roles(pgha):
    roles = pgha.get("roles")
    return [str(role) for role in roles] if isinstance(roles, list) else []


def _names(value):
    """Pillar ``target``: one minion id or a list of them."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def known_clusters(pillars=None):
    """
    The cluster names (``pgha:cluster_name``) in the master's cached pillar, exactly as
    written, sorted: ``{name: [minions]}``.

    CLI Example:

    .. code-block:: bash

        salt-run pgha.known_clusters
    """
    found = {}
    pillars = _cached_pillars() if pillars is None else pillars
    for minion, pillar in sorted(pillars.items()):
        name = _pgha(pillar).get("cluster_name")
        if isinstance(name, str) and name:
            found.setdefault(name, []).append(minion)
    return found


def clusters(lag=True):
    """
    Every cluster the master knows (cached pillar), one line each: its minions, Type A or B,
    its VIP, and for a standby cluster the cluster it follows with its lag (asked from its
    database nodes, ``pgha_patroni.standby_status``; ``lag=False`` asks no minion).

    CLI Example:

    .. code-block:: bash

        salt-run pgha.clusters
    """
    pillars = _cached_pillars()
    lines = []
    for name, minions in known_clusters(pillars).items():
        pgha = _pgha(pillars[minions[0]])
        kind = "Type A" if pgha.get("with_haproxy_load_balancing") else "Type B"
        line = f"{name}: {kind}, VIP {pgha.get('cluster_vip') or 'none'}, minions {', '.join(minions)}"
        if _get(pgha, "standby_cluster:host"):
            main = _get(pgha, "standby_cluster:cluster") or ""
            receiver = None
            if lag:
                pg_nodes = [m for m in minions if "postgresql" in _roles(_pgha(pillars[m]))]
                answers = _ask(pg_nodes, "pgha_patroni.standby_status")
                receiver = next((a for a in answers.values() if isinstance(a, dict)), None)
            receiver = receiver or {"host": _get(pgha, "standby_cluster:host"),
                                    "port": _get(pgha, "standby_cluster:port", 5432)}
            line += "; " + __utils__["pgha_standby.summary"](name, receiver, main)
        standbys = [str(e.get("name")) for e in (pgha.get("standby_clusters") or []) if isinstance(e, dict)]
        if standbys:
            line += f"; main cluster of {', '.join(standbys)}"
        lines.append(line)
    return "\n".join(lines) or "no minion has pgha:cluster_name in its cached pillar"


def _resolve_cluster(cluster, clusters):
    """(name, problem): the named cluster, or the only one the master knows. A name is
    compared exactly, and must follow cluster_name's grammar (no glob); two clusters whose
    names differ only in case are refused (Salt's pillar targeting would mix them)."""
    if cluster is not None and cluster != "":
        problem = __utils__["pgha_cluster.cluster_name_problem"](cluster)
        if problem:
            return None, f"pillar cluster: {problem}"
        twins = __utils__["pgha_cluster.case_twins"](cluster, clusters) if cluster in clusters else []
        if twins:
            return None, (f"clusters {', '.join([cluster] + twins)} on this master differ only in case: "
                          "rename all but one (pgha:cluster_name), nothing was changed")
        return cluster, None
    if not clusters:
        return None, ("no minion has pgha:cluster_name in its pillar: assign the pgha pillar to the "
                      "cluster's minions (see pillar.example)")
    if len(clusters) > 1:
        return None, ("this master knows several clusters (" + ", ".join(sorted(clusters)) +
                      "): name one with pillar='{\"cluster\": \"NAME\"}'")
    return next(iter(clusters)), None


def _with_preset(pgha):
    """``pgha`` with what its failover preset sets (a preset may switch synchronous_mode on)
    where pillar leaves it unset; the pillar alone where pillar sets it or no preset applies."""
    if _get(pgha, "patroni:synchronous_mode_strict") is not None:
        return pgha
    return __utils__["pgha_cluster.resolve_rto"](__utils__["pgha_cluster.merged"](_defaults(), pgha))[0]


def _pgbouncer_enabled(pgha):
    """Whether PgBouncer runs on the database nodes: pgbouncer:enabled, auto = Type A (as
    pgha_derive resolves it; defaults.yaml's default is auto)."""
    enabled = _get(pgha, "pgbouncer:enabled", "auto")
    return enabled is True or (enabled == "auto" and pgha.get("with_haproxy_load_balancing") is True)


def _site(pillars, postgresql):
    """The settings the orchestrations need, from the first database node's pillar (as the
    orchestrations read them before): nothing secret."""
    first = sorted(postgresql)[0] if postgresql else (sorted(pillars)[0] if pillars else None)
    pgha = _pgha(pillars.get(first)) if first else {}
    restore = pgha.get("restore") if isinstance(pgha.get("restore"), dict) else {}
    return {
        "cluster_vip": pgha.get("cluster_vip") or None,
        "haproxy_master_port": _get(pgha, "haproxy:ports:master", 5000),
        "pgbackrest_enabled": bool(_get(pgha, "pgbackrest:enabled")),
        "firewall_enabled": bool(_get(pgha, "firewall:enabled")),
        "monitoring_enabled": _get(pgha, "monitoring:enabled") is True,
        "pgbouncer_enabled": _pgbouncer_enabled(pgha),
        "tls_enabled": bool(_get(pgha, "tls:enabled")),
        "dcs_exists": bool(pgha.get("dcs_exists")),
        "synchronous_mode_strict": bool(_get(_with_preset(pgha), "patroni:synchronous_mode_strict")),
        "disable_archive_command": pgha.get("disable_archive_command", True) is not False,
        "bootstrap_node": _get(pgha, "patroni:bootstrap_node") or None,
        # pgha.config restarts members whose change needs it only when asked (autobase's
        # pending_restart); otherwise its summary shows them (issue 23)
        "pending_restart": _get(pgha, "patroni:pending_restart") is True,
        "restore": {key: restore[key] for key in RESTORE_KEYS if key in restore},
        # standby clusters (issue 20): whether this cluster is one, and of which cluster
        "standby": bool(_get(pgha, "standby_cluster:host")),
        "standby_of": _get(pgha, "standby_cluster:cluster") or None,
        # h10-drrepo: the main cluster's stanza its standby leader restores from, or None
        "standby_repo_stanza": ((_get(pgha, "standby_cluster:pgbackrest:stanza") or _get(pgha, "standby_cluster:cluster"))
                                if _get(pgha, "standby_cluster:pgbackrest:enabled") is True
                                and _get(pgha, "standby_cluster:host") else None),
        "standby_clusters": [str(e.get("name")) for e in (pgha.get("standby_clusters") or [])
                             if isinstance(e, dict) and e.get("name")],
    }


def _primary(pg_nodes, pillars, site):
    """(primary, replicas, problems, warnings) as pgha.deploy chooses: patroni:bootstrap_node
    if it is a database node, else the first; a node with pgha:postgresql_exists keeps its data
    and becomes the primary."""
    problems, warnings = [], []
    if not pg_nodes:
        return None, [], problems, warnings
    wanted = site.get("bootstrap_node")
    primary = wanted if wanted in pg_nodes else pg_nodes[0]
    existing = [m for m in sorted(pillars) if _pgha(pillars[m]).get("postgresql_exists")
                and "postgresql" in _roles(_pgha(pillars[m]))]
    if len(existing) > 1:
        problems.append(f"pgha:postgresql_exists is true on {', '.join(existing)}: only one node's "
                        "data can become the cluster")
    elif existing:
        if wanted and wanted != existing[0]:
            problems.append(f"pgha:patroni:bootstrap_node is {wanted} but pgha:postgresql_exists is "
                            f"set on {existing[0]}")
        primary = existing[0]
        warnings.append(f"pgha.deploy: the existing PostgreSQL on {primary} will stop for a few "
                        "seconds while Patroni takes it over (its data stays)")
    return primary, [n for n in pg_nodes if n != primary], problems, warnings


def _targets(target, name, pillars, minions):
    """([{"id", "roles", "members"}], problems): pillar target's minions, each with this
    cluster's pillar; ``members`` the cluster's minions already there when it is added (all
    but it and the targets after it)."""
    names = _names(target)
    if not names:
        return [], ["pillar target is missing: name the minion(s), e.g. pillar='{\"target\": \"pg4\"}'"]
    found, problems = [], []
    for index, minion in enumerate(names):
        pgha = _pgha(pillars.get(minion))
        if pgha.get("cluster_name") != name:
            problems.append(f"target {minion} has no pgha pillar for cluster {name} (pgha:cluster_name is "
                            f"{pgha.get('cluster_name')}): assign the cluster's pillar and pgha:roles to it first")
            continue
        leaving = set(names[index:])
        found.append({"id": minion, "roles": _roles(pgha),
                      "members": [m for m in minions["all"] if m not in leaving]})
    return found, problems


def _pre_checks(workflow, name, options):
    """The refusals that need no minion: confirmations and flags."""
    problems, flags = [], {}
    if workflow == "restore" and options.get("confirm_restore") != name:
        problems.append(f"pgha.restore replaces the data of cluster {name} with a backup: confirm with "
                        f"pillar='{{\"confirm_restore\": \"{name}\", ...}}' (nothing was changed)")
    if workflow == "remove":
        if options.get("confirm_remove") != name:
            problems.append(f"pgha.remove removes cluster {name}: confirm with pillar='{{\"confirm_remove\": "
                            f"\"{name}\", \"remove_postgres\": true, \"remove_etcd\": true}}' (nothing was changed)")
        for flag in REMOVE_FLAGS:
            value = options.get(flag, False)
            if value is not True and value is not False:
                problems.append(f"pgha.remove: pillar {flag} must be true or false (got {value}); "
                                "nothing was changed")
            flags[flag] = value is True
        if flags["remove_etcd"] and not flags["remove_postgres"]:
            # Patroni keeps the cluster's state in etcd: removing etcd under a running Patroni
            # leaves it without a DCS. A second run with both flags is safe when PostgreSQL
            # went before: its steps find nothing left to stop.
            problems.append("pgha.remove: remove_etcd needs remove_postgres (Patroni keeps its state in etcd); "
                            "nothing was changed")
        if flags["remove_stanza"] and not flags["remove_postgres"]:
            problems.append("pgha.remove: remove_stanza needs remove_postgres (the stanza can only go once "
                            "PostgreSQL is stopped); nothing was changed")
    return problems, flags


def _remove_node(name, targets, pg_nodes, site):
    """(the removal's plan, problems) of pgha.remove_node."""
    if len(targets) != 1:
        return {}, ["pgha.remove_node removes one node per run; pillar target names " +
                    ", ".join(t["id"] for t in targets)]
    target = targets[0]
    roles = target["roles"]
    staying = [n for n in pg_nodes if n != target["id"]]
    problems = []
    if "postgresql" in roles and not staying:
        problems.append(f"pgha.remove_node refused: {target['id']} is the last database node of cluster {name}")
    if "postgresql" in roles and site["synchronous_mode_strict"] and len(staying) < 2:
        problems.append(f"pgha.remove_node refused: synchronous_mode_strict is on and removing {target['id']} "
                        "leaves no replica: writes would stop")
    helper = staying[0] if staying else (pg_nodes[0] if pg_nodes else None)
    return {"target": target["id"], "roles": roles, "helper": helper,
            "etcd_member": "etcd" in roles and not site["dcs_exists"]}, problems


def _update(name, pg_nodes):
    """(the rolling update's order, problems): the replicas, then the leader, each with the
    node that moves leadership away from it."""
    if len(pg_nodes) < 2:
        return [], [f"pgha.update refused: cluster {name} has one database node; a rolling update needs "
                    "a replica to switch over to"]
    leader = _ask(pg_nodes[:1], "pgha_patroni.leader").get(pg_nodes[0])
    if leader not in pg_nodes:
        return [], [f"pgha.update refused: cluster {name} has no running leader ({leader})"]
    order = [n for n in pg_nodes if n != leader] + [leader]
    return [{"node": node, "via": next(n for n in pg_nodes if n != node)} for node in order], []


def _restore(name, pg_nodes, site, options):
    """(the restore's plan, problems): the node to restore on (pillar primary, else the
    running leader), the replicas, the restore target."""
    if not site["pgbackrest_enabled"]:
        return {}, [f"pgha.restore restores from pgBackRest, but pgha:pgbackrest:enabled is false for "
                    f"cluster {name}"]
    asked = options.get("restore") if isinstance(options.get("restore"), dict) else {}
    spec = dict(site["restore"], **{k: asked[k] for k in RESTORE_KEYS if k in asked})
    primary = options.get("primary")
    if not primary:
        leaders = sorted(m for m, ret in _ask(pg_nodes, "pgha_patroni.is_leader").items() if ret is True)
        primary = leaders[0] if leaders else None
    if primary not in pg_nodes:
        return {}, [f"pgha.restore: cluster {name} has no running leader; name the node to restore on with "
                    f"pillar primary (one of {', '.join(pg_nodes)})"]
    return {"primary": primary, "replicas": [n for n in pg_nodes if n != primary], "spec": spec,
            "check": {"target_type": spec.get("type", "default"), "target": spec.get("target") or None,
                      "backup_set": spec.get("set") or None, "stanza": spec.get("stanza") or None}}, []


def _standby(name, members, pg_nodes, pillars, addresses):
    """Problems of a standby cluster that only the master sees (pgha_standby): a standby of
    its own nodes, a Type A main cluster behind PgBouncer, a main that does not list it."""
    first = _pgha(members[pg_nodes[0]]) if pg_nodes else {}
    standby = first.get("standby_cluster") if isinstance(first.get("standby_cluster"), dict) else {}
    main = standby.get("cluster")
    main_pillar, repo_host = {}, None
    if main:
        main_minions = sorted(m for m, p in pillars.items() if _pgha(p).get("cluster_name") == main
                              and "postgresql" in _roles(_pgha(p)))
        main_pillar = _pgha(pillars[main_minions[0]]) if main_minions else {}
        repo_host = any(_pgha(p).get("cluster_name") == main and "pgbackrest" in _roles(_pgha(p))
                        for p in pillars.values())
    return __utils__["pgha_standby.cross_cluster_problems"](name, standby, addresses.values(), main_pillar,
                                                            main_repo_host=repo_host if main_pillar else None)


def _promote(name, pg_nodes, pillars, site, options):
    """(the promotion's plan, problems): the node that promotes, the main cluster's leader (if
    its minions answer) and the standby leader's WAL receiver, and the guard."""
    main = site.get("standby_of")
    main_nodes = sorted(m for m, p in pillars.items() if main and _pgha(p).get("cluster_name") == main
                        and "postgresql" in _roles(_pgha(p)))
    # the main site is expected lost: its minions must not hold the promotion for the master's
    # timeout + gather_job_timeout (60 s in the lab, measured). The guard's other leg does not
    # depend on Salt: the standby leader's own TCP test of the main cluster (main_reachable).
    # Both questions at once: the lost site's silence (2 x MAIN_SITE_TIMEOUT) then costs the
    # promotion nothing beyond it (bench-standby's step times, docs/measurements.md).
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        main_asked = pool.submit(_ask, main_nodes, "pgha_patroni.leader", timeout=MAIN_SITE_TIMEOUT,
                                 gather_job_timeout=MAIN_SITE_TIMEOUT)
        answers = _ask(pg_nodes, "pgha_patroni.standby_status")
        main_leader = next((ret for ret in main_asked.result().values() if ret), None)
    receiver = next((answers[m] for m in pg_nodes if isinstance(answers.get(m), dict)), None)
    is_standby = site.get("standby")
    if isinstance(receiver, dict) and receiver.get("is_standby_cluster") is False and not is_standby:
        is_standby = False
    elif isinstance(receiver, dict) and receiver.get("is_standby_cluster"):
        is_standby = True       # the DCS says so, even if pillar was updated first
    problems = __utils__["pgha_standby.promote_problems"](name, is_standby, main or "", main_leader, receiver,
                                                          options.get("force", False))
    node = next((m for m in pg_nodes if m in answers), None)
    if not problems and node is None:
        problems.append(f"pgha.promote: no database node of cluster {name} answers "
                        f"({', '.join(pg_nodes)}); nothing was changed")
    shown = {k: receiver.get(k) for k in ("status", "sender_host", "sender_port", "lag_bytes",
                                          "last_msg_age_seconds", "replay_delay_seconds",
                                          "main_reachable")} if receiver else None
    return {"node": node, "main": main, "main_leader": main_leader, "receiver": shown}, problems
UPGRADE_KEYS = ("remove_old_data", "remove_old_packages", "update_extensions", "stanza_upgrade",
                "pgbouncer_pause", "vacuumdb_parallel_jobs", "start_stop_timeout")


def _upgrade_settings(pgha):
    """pgha:upgrade over defaults.yaml's, and the gates pgha.upgrade shares with pgha.update."""
    merged = __utils__["pgha_cluster.merged"](_defaults(), pgha)
    found = {key: _get(merged, f"upgrade:{key}") for key in UPGRADE_KEYS}
    found.update(max_lag_bytes=_get(merged, "operations:max_replication_lag_bytes", 10485760),
                 max_transaction_sec=_get(merged, "operations:max_transaction_sec", 15),
                 extension_source=_get(merged, "postgresql:extension_packages_from", "debian"),
                 extensions=_get(merged, "postgresql:extensions", []) or [])
    return found


def _upgrade(name, pg_nodes, members, site, type_a, options):
    """(pgha.upgrade's plan, problems): the running leader (the primary that pg_upgrade runs
    on), the replicas, the majors, the pillar override that renders the new major's files
    (version, and data_dir/wal_dir when pillar names them), the steps (pgha_upgrade.plan_steps)."""
    to = options.get("to")
    if to is None or to == "":
        return {}, [f"pgha.upgrade: pillar to is missing: name the new major, e.g. pillar='{{\"cluster\": "
                    f"\"{name}\", \"to\": 18}}' (nothing was changed)"]
    leader = _ask(pg_nodes[:1], "pgha_patroni.leader").get(pg_nodes[0])
    if leader not in pg_nodes:
        return {}, [f"pgha.upgrade refused: cluster {name} has no running leader ({leader})"]
    running = _ask([leader], "pgha_upgrade.running_version").get(leader)
    if running is not None and str(running) == str(to):
        # a re-run after the upgrade: nothing to do, nothing refused
        return {"done": True, "from": str(running), "to": str(running), "primary": leader}, []
    problems = __utils__["pgha_upgrade.version_problems"](running, to)
    pgha = _pgha(members[leader])
    settings = _upgrade_settings(pgha)
    params = _get(pgha, "postgresql:parameters", {}) or {}
    problems += __utils__["pgha_upgrade.pillar_parameter_problems"](params, to)
    if problems:
        return {}, problems
    to = str(int(float(str(to))))
    override = {"version": int(to)}
    for key in ("data_dir", "wal_dir"):
        value = _get(pgha, f"postgresql:{key}") or ""
        if value:
            paths, found = __utils__["pgha_upgrade.new_paths"](running, to, value if key == "data_dir" else "",
                                                               value if key == "wal_dir" else "", "")
            problems += found
            override[key] = paths["new"][key]
    replicas = [n for n in pg_nodes if n != leader]
    steps = __utils__["pgha_upgrade.plan_steps"](
        leader, replicas, type_a=type_a, pgbouncer=site["pgbouncer_enabled"] and settings["pgbouncer_pause"] is not False,
        pgbackrest=site["pgbackrest_enabled"] and settings["stanza_upgrade"] is not False,
        remove_old_data=settings["remove_old_data"] is True, remove_old_packages=settings["remove_old_packages"] is True)
    return {"from": str(running), "to": to, "primary": leader, "replicas": replicas,
            "override": {"pgha": {"postgresql": override}}, "rollback_override": {"pgha": {"postgresql": {
                "version": int(running), **{k: _get(pgha, f"postgresql:{k}") for k in ("data_dir", "wal_dir")
                                            if _get(pgha, f"postgresql:{k}")}}}},
            "steps": steps, "settings": {k: v for k, v in settings.items() if k != "extensions"}}, problems


def _upgrade_rollback(name, pg_nodes, members, site, type_a, options):
    """(pgha.upgrade_rollback's plan, problems): refused when no member holds an upgrade
    record, or when the new cluster started on one (pgha_upgrade.rollback_decision, with the
    reason)."""
    records = _ask(pg_nodes, "pgha_upgrade.record")
    silent = [n for n in pg_nodes if n not in records]
    if silent:
        return {}, [f"pgha.upgrade_rollback refused: {', '.join(silent)} did not answer (pgha_upgrade.record)"]
    found = {n: r for n, r in records.items() if r}
    if not found:
        return {}, [f"pgha.upgrade_rollback: no upgrade is in progress in cluster {name} (nothing to roll back)"]
    problems = []
    for node, rec in sorted(found.items()):
        possible, reason = __utils__["pgha_upgrade.rollback_decision"](rec)
        if not possible and rec.get("stage") != "rolled_back":
            problems.append(f"pgha.upgrade_rollback refused on {node}: {reason}")
    primaries = sorted(n for n, r in found.items() if r.get("primary"))
    primary = primaries[0] if primaries else pg_nodes[0]
    rec = found.get(primary) or next(iter(found.values()))
    old = rec.get("from")
    pgha = _pgha(members[primary])
    override = {"version": int(old)} if old else {}
    for key in ("data_dir", "wal_dir"):
        value = _get(pgha, f"postgresql:{key}") or ""
        if value and old and rec.get("to"):
            paths, _found = __utils__["pgha_upgrade.new_paths"](rec["to"], old, value if key == "data_dir" else "",
                                                                value if key == "wal_dir" else "", "")
            override[key] = paths["new"][key] or value
    return {"from": old, "to": rec.get("to"), "primary": primary, "replicas": [n for n in pg_nodes if n != primary],
            "rollback_override": {"pgha": {"postgresql": override}},
            "settings": {k: v for k, v in _upgrade_settings(pgha).items() if k != "extensions"}}, problems


def _fail(result, problems):
    result.update(problems=problems, retcode=1 if problems else 0)
    if problems:
        log.error("%s", "\n".join(problems))
        __context__["retcode"] = 1
    return result


def upgrade_check(cluster=None, to=None):
    """
    pgha.upgrade's pre-checks, before anything changes: the target major is available, disk
    for the new catalog, every member streams (pg_stat_replication), the lag, no long and no
    prepared transactions, packages for the extensions, no standby cluster following, the
    paths and parameters. Every failed check is listed with what to do; exit code 1 then.

    CLI Example:

    .. code-block:: bash

        salt-run pgha.upgrade_check cluster=main to=18
    """
    found = plan(cluster=cluster, workflow="upgrade", to=to)
    result = {"cluster": found.get("cluster"), "to": to}
    if found["problems"]:
        return _fail(result, found["problems"])
    upgrade = found["upgrade"]
    if upgrade.get("done"):
        return _fail(dict(result, done=f"cluster {result['cluster']} runs PostgreSQL {upgrade['to']} already"), [])
    nodes = [upgrade["primary"]] + upgrade["replicas"]
    node_facts = _ask(nodes, "pgha_upgrade.facts", kwarg={"to": upgrade["to"]})
    primary = _ask([upgrade["primary"]], "pgha_upgrade.primary_facts",
                   kwarg={"max_transaction_sec": upgrade["settings"]["max_transaction_sec"]})
    # the packages check asks the package sources themselves (pkg.latest_version):
    # postgresql:available_versions lists the distribution's majors, not a site's mirror
    facts = {"to": upgrade["to"], "primary_name": upgrade["primary"],
             "nodes": {n: node_facts.get(n) or {} for n in nodes}, "primary": primary.get(upgrade["primary"]) or {}}
    if upgrade["primary"] not in primary:
        return _fail(result, [f"pgha.upgrade pre-check members failed on {upgrade['primary']}: the primary did not "
                              "answer pgha_upgrade.primary_facts"])
    settings = dict(upgrade["settings"], extensions=_upgrade_settings(_pgha(_cached_pillars().get(
        upgrade["primary"])))["extensions"])
    result["facts"] = {n: {k: v for k, v in (f or {}).items() if k in ("pg_version", "candidate", "free_bytes")}
                       for n, f in facts["nodes"].items()}
    return _fail(result, __utils__["pgha_upgrade.pre_check_problems"](facts, settings))


def upgrade_ssh(cluster=None, action="trust", primary=None, replicas=None):
    """
    The upgrade's temporary SSH trust: ``trust`` lets postgres on the primary log in as
    postgres on each replica (a key made for this upgrade, accepted from the primary's address
    only, the replicas' host keys pinned), for the rsync of pg_upgrade's documentation;
    ``revoke`` removes all of it from every database node. Public keys only cross here.

    CLI Example:

    .. code-block:: bash

        salt-run pgha.upgrade_ssh cluster=main action=trust primary=pg1 replicas='[pg2, pg3]'
    """
    found = plan(cluster=cluster, prepared=True)
    result = {"cluster": found.get("cluster"), "action": action}
    if found["problems"]:
        return _fail(result, found["problems"])
    addresses = found.get("addresses") or {}
    replicas = _names(replicas)
    if action == "revoke":
        nodes = found.get("pg_nodes") or []
        answers = _ask(nodes, "pgha_upgrade_ssh.revoke")
        return _fail(dict(result, revoked=answers), [f"{n}: pgha_upgrade_ssh.revoke did not answer" for n in nodes if n not in answers])
    if action != "trust":
        return _fail(result, [f"upgrade_ssh: action must be trust or revoke (got {action})"])
    key = _ask([primary], "pgha_upgrade_ssh.key").get(primary)
    if not key:
        return _fail(result, [f"{primary}: no temporary SSH key (pgha_upgrade_ssh.key)"])
    host_keys = _ask(replicas, "pgha_upgrade_ssh.host_key")
    problems = [f"{n}: no ed25519 host key (pgha_upgrade_ssh.host_key): is openssh-server installed?"
                for n in replicas if not host_keys.get(n)]
    for node in replicas:
        answer = _ask([node], "pgha_upgrade_ssh.authorize", kwarg={"key": key, "source": addresses.get(primary)})
        if node not in answer:
            problems.append(f"{node}: the temporary key was not authorized (pgha_upgrade_ssh.authorize)")
    known = _ask([primary], "pgha_upgrade_ssh.known",
                 kwarg={"hosts": {addresses[n]: host_keys[n] for n in replicas if host_keys.get(n)}})
    if primary not in known:
        problems.append(f"{primary}: the replicas' host keys were not pinned (pgha_upgrade_ssh.known)")
    return _fail(dict(result, trusted=replicas), problems)


def upgrade_checkpoints(nodes=None):
    """
    The stopped members' "Latest checkpoint location" (pg_controldata): the same on every
    member, each shut down cleanly, or the replicas missed the primary's last WAL and the
    rsync would give them a cluster they are not in sync with.

    CLI Example:

    .. code-block:: bash

        salt-run pgha.upgrade_checkpoints nodes='[pg1, pg2, pg3]'
    """
    nodes = _names(nodes)
    found = _ask(nodes, "pgha_upgrade.checkpoint")
    problems = [f"{n}: no answer from pgha_upgrade.checkpoint" for n in nodes if n not in found]
    locations = {n: (c or {}).get("location") for n, c in found.items()}
    unclean = [f"{n} ({c.get('state')})" for n, c in found.items() if "shut down" not in str((c or {}).get("state"))]
    if unclean:
        problems.append("not shut down cleanly: " + ", ".join(sorted(unclean)))
    if len(set(locations.values())) > 1:
        problems.append("the members' Latest checkpoint location differ (" +
                        ", ".join(f"{n} {loc}" for n, loc in sorted(locations.items())) +
                        "): a replica did not receive the primary's shutdown checkpoint; the upgrade rolls back")
    return _fail({"checkpoints": locations}, problems)


def _compute(cluster, target, workflow, prepared, options):
    problems, warnings = [], []
    pillars = _cached_pillars()
    known = known_clusters(pillars)
    name, problem = _resolve_cluster(cluster, known)
    result = {"cluster": name, "workflow": workflow, "prepared": bool(prepared), "problems": problems,
              "warnings": warnings}
    if problem:
        problems.append(problem)
        return result
    members = {m: p for m, p in pillars.items() if _pgha(p).get("cluster_name") == name}
    minions = {"all": sorted(members)}
    for key, roles in ROLE_LISTS.items():
        minions[key] = [m for m in minions["all"] if set(roles) & set(_roles(_pgha(members[m])))]
    result["minions"] = minions
    if not members:
        problems.append(f"no minion has pgha:cluster_name {name} in its cached pillar (known: "
                        f"{', '.join(sorted(known)) or 'none'}): assign the pgha pillar to the cluster's "
                        "minions, or name the cluster exactly")
        return result
    pre, flags = _pre_checks(workflow, name, options)
    problems.extend(pre)
    if flags:
        result["flags"] = flags
    site = _site(members, minions["postgresql"])
    result["site"] = site
    result["type_a"] = bool(_pgha(members[minions["postgresql"][0]] if minions["postgresql"]
                                  else members[minions["all"][0]]).get("with_haproxy_load_balancing"))
    if not prepared or problems:
        return result

    # after pgha.prepare: the cluster checks, the mine, the workflow's own refusals
    found = _check_cluster({m: _checked_part(_pgha(members[m])) for m in minions["all"]}, _defaults())
    if found.get("problems"):
        problems.append(f"cluster {name} is not valid (no node was changed):")
        problems.extend(found["problems"])
    warnings.extend(f"cluster {name}: {w}" for w in found.get("warnings", []))
    mine = _mine_addresses(minions["all"])
    result["addresses"] = {m: mine[m] for m in sorted(mine) if m in members}
    pg_nodes = [m for m in minions["postgresql"] if m in mine]
    balancers = [m for m in minions["balancer"] if m in mine]
    repo_hosts = [m for m in minions["repo_host"] if m in mine]
    result.update(pg_nodes=pg_nodes, balancers=balancers, repo_hosts=repo_hosts)
    if not pg_nodes:
        problems.append(f"cluster {name} has no minion with the postgresql role and a pgha_address in the mine")
    if len(repo_hosts) > 1:
        problems.append(f"cluster {name} has {len(repo_hosts)} minions with the pgbackrest role "
                        f"({', '.join(repo_hosts)}): one repository host per cluster")
    if problems:
        return result
    if workflow in (None, "deploy", "config", "add_node"):
        problems.extend(_standby(name, members, minions["postgresql"], pillars, result["addresses"]))
    if workflow == "promote":
        promotion, found_problems = _promote(name, pg_nodes, pillars, site, options)
        result["promote"] = promotion
        problems.extend(found_problems)
    if problems:
        return result
    primary, replicas, found_problems, found_warnings = _primary(
        pg_nodes, {m: members[m] for m in minions["postgresql"]}, site)
    result.update(primary=primary, replicas=replicas)
    if workflow in (None, "deploy"):
        problems.extend(found_problems)
        warnings.extend(found_warnings)
    if workflow in ("add_node", "add_balancer", "remove_node"):
        targets, found_problems = _targets(target, name, pillars, minions)
        result["targets"] = targets
        problems.extend(found_problems)
        if workflow == "remove_node" and not found_problems:
            removal, found_problems = _remove_node(name, targets, pg_nodes, site)
            problems.extend(found_problems)
            if removal:
                leaving = removal["target"]
                removal["staying"] = {key: [m for m in minions[key] if m != leaving]
                                      for key in ("all", "postgresql", "balancer")}
                result["removal"] = removal
    elif workflow == "update":
        order, found_problems = _update(name, pg_nodes)
        problems.extend(found_problems)
        result["rolling_update"] = order
    elif workflow == "restore":
        restore, found_problems = _restore(name, pg_nodes, site, options)
        problems.extend(found_problems)
        result["restore"] = restore
    elif workflow == "remove":
        result["stanza_host"] = (repo_hosts or pg_nodes)[0]
    elif workflow in ("upgrade", "upgrade_rollback"):
        upgrade, found_problems = (_upgrade if workflow == "upgrade" else _upgrade_rollback)(
            name, pg_nodes, members, site, result["type_a"], options)
        problems.extend(found_problems)
        result["upgrade"] = upgrade
        result["stanza_host"] = (repo_hosts or pg_nodes)[0]
    return result


def plan(cluster=None, target=None, workflow=None, prepared=True, **kwargs):
    """
    The plan of one cluster for an orchestration, from the master's cached pillar and mine:

    - ``cluster``: the cluster's exact name; without it the only cluster the master knows;
    - ``minions``: ``{all, postgresql, etcd, balancer, repo_host, backup: [minion ids]}``,
      the minions whose cached ``pgha:cluster_name`` is exactly ``cluster`` (``backup``: the
      postgresql and pgbackrest roles);
    - ``site``: the few settings the orchestrations need (cluster_vip, HAProxy's master port,
      pgbackrest/firewall/tls enabled, dcs_exists, ...), never a password or key;
    - ``type_a``: ``pgha:with_haproxy_load_balancing``;
    - with ``prepared`` (after ``pgha.prepare``, the default): ``addresses`` (mine
      ``pgha_address``), ``pg_nodes``/``balancers``/``repo_hosts`` (those with an address),
      ``primary`` and ``replicas`` (pgha.deploy's choice), the cluster checks, and what the
      workflow needs: ``targets`` (add_node, remove_node), ``removal``, ``rolling_update``,
      ``restore``, ``promote`` (the node that promotes, the main cluster's leader, the standby
      leader's WAL receiver);
    - ``problems``: why the orchestration must not run (empty when it may), ``warnings``.

    ``workflow`` (deploy, add_node, remove_node, remove, restore, update, ...) adds its
    refusals; the other keyword arguments are the workflow's pillar options (confirm_remove,
    remove_postgres, confirm_restore, restore, primary, force, ...). ``retcode`` is 1 when there are
    problems (salt-run exits with it; a ``salt.runner`` step fails).

    CLI Example:

    .. code-block:: bash

        salt-run pgha.plan cluster=main
        salt-run pgha.plan cluster=main workflow=add_node target=pg4
    """
    options = {key: value for key, value in kwargs.items() if key in OPTIONS}
    if workflow is not None and workflow not in WORKFLOWS:
        result = {"cluster": cluster, "workflow": workflow,
                  "problems": [f"unknown workflow {workflow} (one of {', '.join(WORKFLOWS)})"], "warnings": []}
    else:
        result = _compute(cluster, target, workflow, prepared, options)
    label = f"pgha.{workflow}" if workflow else "pgha.plan"
    for warning in result["warnings"]:
        log.warning("%s", warning)
    if result["problems"]:
        log.error("%s refused for cluster %s (no node was changed):\n%s", label, result.get("cluster"),
                  "\n".join(result["problems"]))
        __context__["retcode"] = 1
    result["retcode"] = 1 if result["problems"] else 0
    return result


def monitors(cluster=None):
    """
    The monitors for ``pgha.monitor`` (issue 24): the minions whose cached pillar gives them
    the ``monitor`` role, all of them or those whose ``pgha:cluster_name`` is exactly
    ``cluster``; each with the clusters it scrapes (its own and ``pgha:monitoring:clusters``).
    ``problems`` when there is none. Nothing secret.

    CLI Example:

    .. code-block:: bash

        salt-run pgha.monitors
        salt-run pgha.monitors cluster=ops
    """
    found, problems = {}, []
    for minion, pillar in sorted(_cached_pillars().items()):
        pgha = _pgha(pillar)
        if "monitor" not in _roles(pgha) or (cluster and pgha.get("cluster_name") != cluster):
            continue
        extra = _get(pgha, "monitoring:clusters", [])
        found[minion] = sorted({str(pgha.get("cluster_name"))} | {str(c) for c in (extra if isinstance(extra, list) else [])})
    if not found:
        problems.append("no minion has the monitor role in its pgha:roles" +
                        (f" in cluster {cluster}" if cluster else "") + ": nothing to do")
        __context__["retcode"] = 1
    return {"monitors": found, "minions": sorted(found), "problems": problems,
            "retcode": 1 if problems else 0}


def check(cluster=None, target=None, workflow=None, prepared=True, **kwargs):
    """
    Like :py:func:`plan`, for an orchestration step (``salt.runner``) or a look before running
    one: the cluster, its problems and warnings, and whether the workflow may run. Fails (exit
    code 1, a failed step) when there are problems.

    CLI Example:

    .. code-block:: bash

        salt-run pgha.check cluster=main workflow=deploy
    """
    found = plan(cluster=cluster, target=target, workflow=workflow, prepared=prepared, **kwargs)
    return {key: found.get(key) for key in ("cluster", "workflow", "problems", "warnings", "retcode")}
