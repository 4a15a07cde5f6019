"""
What pgha.upgrade (a PostgreSQL major upgrade with ``pg_upgrade --link``, issue 19) decides,
pure Python (no ``__salt__``): the pre-checks' verdicts, the new major's paths, the Patroni
parameters that changed name or went away between two majors, the replicas' rsync command, the
plan of steps for Type A and Type B, whether a rollback is still possible, and whether a
highstate may run against the cluster on this node. The execution module ``pgha_upgrade``
collects the facts on the nodes and acts; the runner ``pgha`` plans with it. Synced with
``saltutil.sync_utils``.
"""
import os.path
import posixpath
import runpy

_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]
_extensions = _sibling("pgha_extensions")

__virtualname__ = "pgha_upgrade"

# pg_upgrade reads catalogs from 9.2 on; pgha deploys 13 and newer, and upgrades only forwards.
OLDEST = 13

# Parameters that changed name between majors: {major that renamed it: {old name: new name}}.
RENAMED = {16: {"force_parallel_mode": "debug_parallel_query"}}
# Parameters a major removed: {major: {name: what replaces it}}. Patroni would pass a removed
# name to the new server, which refuses to start ("unrecognized configuration parameter").
REMOVED = {
    13: {"wal_keep_segments": "wal_keep_size (in megabytes)"},
    14: {"operator_precedence_warning": "nothing", "vacuum_cleanup_index_scale_factor": "nothing"},
    15: {"stats_temp_directory": "nothing (statistics live in shared memory)"},
    16: {"vacuum_defer_cleanup_age": "hot_standby_feedback or a replication slot",
         "promote_trigger_file": "pg_ctl promote or pg_promote()"},
    17: {"old_snapshot_threshold": "nothing", "db_user_namespace": "nothing",
         "trace_recovery_messages": "nothing"},
}

# From PostgreSQL 18, pg_upgrade carries the planner statistics over: only what it cannot
# carry (extended statistics, and relations without statistics) needs an ANALYZE.
KEEPS_STATISTICS = 18

# The pre-checks, in the order they run, and what the user does when one fails.
CHECKS = {
    "version": "name a major newer than the running one that the package sources have (pgha:pkg_repo, "
               "pgha:pkg_repos or pgha:pgdg; postgresql:available_versions lists them)",
    "paths": "put the major in pgha:postgresql:data_dir and wal_dir (e.g. /data/pg/{old}/main): pg_upgrade "
             "needs the new cluster in a new directory",
    "parameters": "rename or remove the parameter in pgha:postgresql:parameters first (pgha.config applies it)",
    "packages": "make the new major's packages available to every member (the package sources of pillar)",
    "disk": "free space on the file system of the data directory, or move it",
    "replication": "repair replication (pgha.patroni.gate, patronictl list) so that every member streams",
    "lag": "wait until the replicas catch up, or raise pgha:operations:max_replication_lag_bytes",
    "transactions": "end the long transactions, or raise pgha:operations:max_transaction_sec",
    "prepared": "COMMIT PREPARED or ROLLBACK PREPARED them (pg_prepared_xacts): pg_upgrade refuses them",
    "extensions": "name the extension's package for the new major in pgha:postgresql:extensions (package key), "
                  "or drop the extension",
    "standby_clusters": "upgrade the standby clusters first to the same major, or detach them: see docs/"
                        "operations.md, Major upgrade, Standby clusters",
    "members": "every database node must answer and run the same major",
    "options": "install a minor of the new major released no earlier than the running one's (PostgreSQL "
               "releases every branch's minors together: a newer old minor can store options an older new "
               "minor does not know), then run the upgrade again",
}
# What the new cluster's catalog needs on top of the data (hard links take no space): the
# catalog is copied; a margin of 64 MiB over the old catalog's size.
CATALOG_MARGIN = 64 * 1024 * 1024

# The marker of an upgrade in progress on a node (pgha_upgrade.record): its stages.
STAGES = ("prepared", "checked", "stopped", "linked", "synced", "configured", "started", "finished",
          "rolled_back")


def __virtual__():
    return __virtualname__


def _major(value):
    """The major as an int, or None: 17, '17', 17.0 (YAML) -> 17."""
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) and number > 0 else None


def failure(check, where, problem):
    """One pre-check's refusal: which check, where, what is wrong, what to do."""
    return f"pgha.upgrade pre-check {check} failed{(' on ' + where) if where else ''}: {problem}; {CHECKS[check]}"


# -- versions and paths ----------------------------------------------------------------------

def version_problems(running, to, available=None):
    """The version check: ``to`` is a major, newer than ``running``, from OLDEST on, and in
    ``available`` (the majors the package sources have; empty or None = unknown, not checked)."""
    old, new = _major(running), _major(to)
    if new is None:
        return [failure("version", None, f"pillar to must be a PostgreSQL major such as 18 (got {to!r})")]
    if old is None:
        return [failure("version", None, f"the running cluster's major is unknown ({running!r})")]
    if old < OLDEST:
        return [failure("version", None, f"the cluster runs PostgreSQL {old}; pgha upgrades from {OLDEST} on")]
    if new <= old:
        return [failure("version", None, f"the cluster runs PostgreSQL {old}; pgha.upgrade goes to a newer major "
                                         f"only (got {new}); there is no downgrade")]
    majors = {_major(v) for v in available or []}
    if majors and new not in majors:
        return [failure("version", None, f"PostgreSQL {new} is not among the available majors "
                                         f"({', '.join(str(m) for m in sorted(x for x in majors if x))})")]
    return []


def _swap_major(path, old, new):
    """``path`` with its one component equal to the old major replaced by the new one, or None
    when no component (or more than one) is the old major."""
    parts = posixpath.normpath(path).split("/")
    hits = [i for i, part in enumerate(parts) if part == str(old)]
    if len(hits) != 1:
        return None
    parts[hits[0]] = str(new)
    return "/".join(parts)


def new_paths(old, new, data_dir, wal_dir, bin_dir):
    """(paths, problems): the old and new major's ``data_dir``, ``wal_dir`` ('' when inside the
    data directory), ``bin_dir``, and ``parent`` (the common parent the replicas' rsync runs
    from) plus the top directories below it (``tops``: [(old, new)], for the data and WAL)."""
    problems, paths = [], {"old": {}, "new": {}}
    for key, value in (("data_dir", data_dir), ("wal_dir", wal_dir), ("bin_dir", bin_dir)):
        paths["old"][key] = posixpath.normpath(value) if value else ""
        if not value:
            paths["new"][key] = ""
            continue
        swapped = _swap_major(value, old, new)
        if swapped is None:
            key_name = "postgresql:" + key if key != "bin_dir" else "paths:bin_dir"
            problems.append(failure("paths", None, f"pgha:{key_name} {value} has no path component {old} "
                                                   f"(exactly one) to become {new}"))
        paths["new"][key] = swapped or ""
    tops = []
    # The old cluster's WAL is not the new cluster's (pg_upgrade links no WAL) and a replica's
    # segments carry other names than the primary's (each recycles its own): rsync would send
    # all of it, 67% of a 1 GB cluster's size after pgbench (make bench-upgrade). Excluded, a
    # replica keeps its own old WAL, which reaches the same shutdown checkpoint.
    old_wal = paths["old"]["wal_dir"] or (posixpath.join(paths["old"]["data_dir"], "pg_wal")
                                          if paths["old"]["data_dir"] else "")
    for key in ("data_dir", "wal_dir"):
        before, after = paths["old"][key], paths["new"][key]
        if before and after:
            common = posixpath.commonpath([before, after])
            first = lambda p, c=common: posixpath.join(c, posixpath.relpath(p, c).split("/")[0])  # noqa: E731
            top = {"parent": common, "old": first(before), "new": first(after)}
            if old_wal and posixpath.commonpath([old_wal, top["old"]]) == top["old"]:
                top["exclude"] = ["/" + posixpath.relpath(old_wal, common) + "/*"]
            if top not in tops:
                tops.append(top)
    paths["rsync"] = tops
    return paths, problems


def rsync_argv(top, host):
    """The rsync of the pg_upgrade documentation ("Upgrade streaming replication and log-shipping
    standby servers"), run on the primary as postgres in ``top['parent']``: the old and new
    directories to the same parent on ``host``. ``--hard-links`` recreates the links between
    them, ``--size-only`` skips the data files the old directory already holds, so a replica
    receives the new catalog and the links, not the data. ``top['exclude']``: the old
    cluster's WAL (new_paths)."""
    return (["rsync", "--archive", "--delete", "--hard-links", "--size-only", "--no-inc-recursive"]
            + [f"--exclude={pattern}" for pattern in top.get("exclude", [])]
            + [posixpath.relpath(top["old"], top["parent"]), posixpath.relpath(top["new"], top["parent"]),
               f"{host}:{top['parent']}"])


# -- parameters ----------------------------------------------------------------------------------

def parameters(params, old, new):
    """(parameters for the new major, notes): names renamed between ``old`` (exclusive) and
    ``new`` (inclusive) take their new name; removed ones are dropped, each with a note."""
    result, notes = dict(params or {}), []
    for major in range(_major(old) + 1, _major(new) + 1):
        for before, after in RENAMED.get(major, {}).items():
            if before in result:
                result[after] = result.pop(before)
                notes.append(f"{before} is {after} since PostgreSQL {major}")
        for name, instead in REMOVED.get(major, {}).items():
            if name in result:
                del result[name]
                notes.append(f"{name} was removed in PostgreSQL {major} (instead: {instead}); dropped")
    return result, notes


def pillar_parameter_problems(params, new):
    """The pillar's parameters a highstate on ``new`` must not pass (removed or renamed up to
    ``new``): each a line naming its key."""
    problems = []
    for major in range(OLDEST, _major(new) + 1):
        for before, after in RENAMED.get(major, {}).items():
            if before in (params or {}):
                problems.append(failure("parameters", None, f"pgha:postgresql:parameters:{before}: PostgreSQL "
                                                            f"{major} renamed it {after}"))
        for name, instead in REMOVED.get(major, {}).items():
            if name in (params or {}):
                problems.append(failure("parameters", None, f"pgha:postgresql:parameters:{name}: PostgreSQL "
                                                            f"{major} removed it (instead: {instead})"))
    return problems


# -- the pre-checks ----------------------------------------------------------------------------------

def pre_check_problems(facts, settings):
    """Every pre-check's refusal, from ``facts`` (pgha_upgrade.facts on each member, and
    pgha_upgrade.primary_facts on the primary) and ``settings`` (max_lag_bytes,
    max_transaction_sec, extension_source, extensions). All checks run; each refusal says which
    check failed and what to do. Empty: the upgrade may start."""
    problems = []
    to = facts.get("to")
    nodes = facts.get("nodes") or {}
    primary = facts.get("primary") or {}
    running = {name: node.get("pg_version") for name, node in nodes.items()}
    majors = sorted({v for v in running.values() if v})
    silent = sorted(name for name, node in nodes.items() if not node)
    if silent:
        problems.append(failure("members", ", ".join(silent), "no answer"))
    if len(majors) > 1:
        problems.append(failure("members", None, "the members run different majors: " +
                                ", ".join(f"{n} {v}" for n, v in sorted(running.items()))))
    old = majors[0] if majors else None
    problems.extend(version_problems(old, to, facts.get("available_versions")))
    if problems:
        return problems
    for name, node in sorted(nodes.items()):
        if node.get("candidate") in (None, ""):
            problems.append(failure("packages", name, f"no package {node.get('package')} for PostgreSQL {to}"))
        if node.get("missing_packages"):
            problems.append(failure("packages", name, f"no package {', '.join(node['missing_packages'])} for "
                                                      f"PostgreSQL {to}"))
        free, need = node.get("free_bytes"), (node.get("catalog_bytes") or 0) + CATALOG_MARGIN
        if free is not None and free < need:
            problems.append(failure("disk", name, f"{free // 2**20} MiB free next to {node.get('data_dir')}, "
                                                  f"the new catalog needs about {need // 2**20} MiB"))
    streaming = {r.get("application_name"): r for r in primary.get("replication") or []}
    replicas = [n for n in sorted(nodes) if n != facts.get("primary_name")]
    for name in replicas:
        row = streaming.get(name)
        if not row or row.get("state") != "streaming":
            problems.append(failure("replication", name, "not streaming from the primary in pg_stat_replication "
                                                         f"(state {row.get('state') if row else 'absent'})"))
        elif (row.get("lag_bytes") or 0) > settings.get("max_lag_bytes", 0):
            problems.append(failure("lag", name, f"{row.get('lag_bytes')} bytes behind, more than "
                                                 f"{settings.get('max_lag_bytes')}"))
    for tx in primary.get("long_transactions") or []:
        problems.append(failure("transactions", facts.get("primary_name"),
                                f"backend {tx.get('pid')} in database {tx.get('datname')} has a transaction open "
                                f"for {tx.get('seconds')} s (more than {settings.get('max_transaction_sec')})"))
    prepared = primary.get("prepared") or []
    if prepared:
        problems.append(failure("prepared", facts.get("primary_name"),
                                f"{len(prepared)} prepared transaction(s): {', '.join(map(str, prepared[:5]))}"))
    problems.extend(extension_problems(primary.get("extensions") or [], settings.get("extensions") or [],
                                       to, settings.get("extension_source", "debian")))
    members = set(nodes)
    others = sorted(name for name in streaming if name not in members)
    if others:
        problems.append(failure("standby_clusters", facts.get("primary_name"),
                                f"{', '.join(others)} replicate from this cluster and are not its members"))
    return problems


def extension_problems(installed, entries, to, source="debian"):
    """The extension check: every extension installed in a database (``installed``: [{db,
    name}]) is contrib, or has a package pgha can name for ``to`` (pillar entries first, then
    pgha_extensions' table). ``plpgsql`` comes with the server."""
    by_name = {e.get("name"): e for e in entries if isinstance(e, dict)}
    problems = []
    for ext in installed:
        name = ext.get("name")
        if name == "plpgsql" or name in _extensions.CONTRIB:
            continue
        entry = by_name.get(name, {"name": name})
        template = _extensions.package(entry, source)
        if not template:
            problems.append(failure("extensions", ext.get("db"), f"no package known for extension {name} on "
                                                                 f"PostgreSQL {to}"))
    return problems


def new_packages(pkgs, extension_packages, old, new):
    """The new major's packages: the server's and the extensions' with the old major's number
    replaced (``postgresql-17-postgis-3`` -> ``postgresql-18-postgis-3``)."""
    swap = lambda name: name.replace(f"-{old}", f"-{new}").replace(f"postgresql{old}", f"postgresql{new}")  # noqa: E731
    return [swap(p) for p in list(pkgs) + list(extension_packages or [])]


# -- the plan ----------------------------------------------------------------------------------

def plan_steps(primary, replicas, type_a=False, pgbouncer=False, pgbackrest=False, remove_old_data=False,
               remove_old_packages=False):
    """The steps of pgha.upgrade in order: ``{step, nodes, rollback}``; ``rollback`` True for
    the steps whose failure rolls back automatically (before the new cluster first starts).
    Type A and Type B differ in who holds the clients: PgBouncer pauses on every database node
    where it runs; HAProxy (Type A) marks the primary down while Patroni stops, so Type A
    clients see errors for the window (docs/operations.md, Major upgrade)."""
    every = [primary] + list(replicas)
    steps = [
        {"step": "pre_checks", "nodes": every, "rollback": False},
        {"step": "packages_installed", "nodes": every, "rollback": False},
        {"step": "initdb", "nodes": [primary], "rollback": False},
        {"step": "upgrade_checked", "nodes": [primary], "rollback": False},
        {"step": "ssh_trusted", "nodes": every, "rollback": True},
        {"step": "patroni_paused", "nodes": [primary], "rollback": True},
    ]
    if pgbouncer:
        steps.append({"step": "pgbouncer_paused", "nodes": every, "rollback": True})
    steps += [
        {"step": "primary_stopped", "nodes": [primary], "rollback": True},
        {"step": "replicas_stopped", "nodes": list(replicas), "rollback": True},
        {"step": "checkpoints_compared", "nodes": every, "rollback": True},
        {"step": "primary_linked", "nodes": [primary], "rollback": True},
    ]
    steps += [{"step": "replica_synced", "nodes": [r], "rollback": True} for r in replicas]
    steps += [
        {"step": "patroni_configured", "nodes": every, "rollback": True},
        {"step": "dcs_reset", "nodes": [primary], "rollback": True},
        {"step": "primary_started", "nodes": [primary], "rollback": False},
    ]
    steps += [{"step": "replica_started", "nodes": [r], "rollback": False} for r in replicas]
    if pgbouncer:
        steps.append({"step": "pgbouncer_resumed", "nodes": every, "rollback": False})
    steps.append({"step": "entry_point_ready", "nodes": every, "rollback": False})
    if type_a:
        steps.append({"step": "balancers_ready", "nodes": [], "rollback": False})
    steps += [{"step": "ssh_revoked", "nodes": every, "rollback": False},
              {"step": "statistics", "nodes": [primary], "rollback": False},
              {"step": "extensions_updated", "nodes": [primary], "rollback": False}]
    if pgbackrest:
        steps.append({"step": "stanza_upgraded", "nodes": [primary], "rollback": False})
    if remove_old_data or remove_old_packages:
        steps.append({"step": "old_removed", "nodes": every, "rollback": False})
    return steps


def option_problems(refused, old_version, new_version):
    """The options check: ``refused`` holds [kind, name, objects, databases, error] for each
    column or table option the old cluster stores and the new server refused in a probe.
    pg_upgrade --check does not restore the schema: it would pass, and pg_upgrade itself fail
    half-way through restoring it (measured: PostgreSQL 17.12 stamps pg_attver on every column,
    which 18.6 does not know)."""
    return [failure("options", None, f"PostgreSQL {new_version} refuses the {kind} option {name} that "
                                     f"PostgreSQL {old_version} stores on {objects} object(s) in "
                                     f"{', '.join(databases)} ({error}); pg_upgrade would fail restoring them")
            for kind, name, objects, databases, error in refused]


def statistics_argv(bin_dir, new, jobs=1):
    """The commands that give the new cluster its planner statistics: from 18 on pg_upgrade
    kept them and only the missing ones are computed; before, all in stages (the cheapest
    first, so that queries plan sensibly minutes earlier)."""
    vacuumdb = posixpath.join(bin_dir, "vacuumdb")
    jobs_arg = [f"--jobs={int(jobs)}"] if int(jobs) > 1 else []
    if _major(new) >= KEEPS_STATISTICS:
        return [[vacuumdb, "--all", "--analyze-in-stages", "--missing-stats-only"] + jobs_arg,
                [vacuumdb, "--all", "--analyze-only", "--missing-stats-only"] + jobs_arg]
    return [[vacuumdb, "--all", "--analyze-in-stages"] + jobs_arg]


# -- rollback and highstate ------------------------------------------------------------------

def rollback_decision(record):
    """(possible, reason) for the record of the upgrade on a node (pgha_upgrade.record): with
    ``--link`` the old data directory shares its files with the new one; once the new cluster
    has started, it wrote to them and the old cluster cannot start from them any more."""
    if not record:
        return False, "no upgrade is in progress on this node (nothing to roll back)"
    stage = record.get("stage")
    if stage == "rolled_back":
        return False, f"the upgrade to {record.get('to')} was rolled back already"
    if record.get("started") or stage in ("started", "finished"):
        return False, (f"the new cluster (PostgreSQL {record.get('to')}) has started: with pg_upgrade --link the "
                       f"old data directory shares its files with it and cannot start again. Restore a backup "
                       f"of PostgreSQL {record.get('from')} instead (pgha.restore after reinstalling it)")
    return True, f"the new cluster has not started: PostgreSQL {record.get('from')} can start on its data again"


def version_gate(pillar_version, running_version, record=None):
    """Why a highstate must stop on this node (None when it may go on): pillar names another
    major than the one the cluster's data directory holds. A highstate would otherwise point
    Patroni to an empty directory of the other major (a new, empty cluster on a replica, or a
    downgrade). During an upgrade (a record not finished) the orchestration owns the node."""
    wanted, running = _major(pillar_version), _major(running_version)
    if record and record.get("stage") not in (None, "finished", "rolled_back"):
        return (f"pgha:postgresql:version: an upgrade from {record.get('from')} to {record.get('to')} is in "
                f"progress on this node (stage {record.get('stage')}): finish it (pgha.upgrade) or roll it back "
                "(pgha.upgrade_rollback) first")
    if running is None or wanted is None or wanted == running:
        return None
    if wanted < running:
        return (f"pgha:postgresql:version is {wanted} but the cluster on this node runs PostgreSQL {running}: "
                f"set pgha:postgresql:version to {running} (pgha never downgrades or reinitialises a cluster)")
    return (f"pgha:postgresql:version is {wanted} but the cluster on this node runs PostgreSQL {running}: "
            f"run salt-run state.orch pgha.upgrade pillar='{{\"to\": {wanted}}}' (a highstate does not upgrade)")
