"""
The node's side of pgha.upgrade (a PostgreSQL major upgrade, issue 19): the facts the
pre-checks judge, the new cluster's initdb, ``pg_upgrade --check`` and ``--link``, the stops
and the checkpoint comparison, the replicas' rsync, the temporary SSH trust it needs, the
record of the upgrade (what a rollback may still do), the rollback, statistics and extension
updates. The decisions are in the utils module ``pgha_upgrade`` (pure Python).

The old cluster is what Patroni's configuration names (data_dir, bin_dir); the new one is the
same paths with the major swapped (pgha_upgrade.new_paths). Commands are argv lists; the ones
that touch PostgreSQL's files run as postgres.
"""
import json
import logging
import os
import posixpath
import pwd
import re
import shlex
import shutil
import sys
import time

import salt.utils.files
import salt.utils.yaml
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha_upgrade"

RECORD_DIR = "/var/lib/pgha/upgrade"          # root only: the record, saved configs
RECORD = posixpath.join(RECORD_DIR, "record.json")
SSH_KEY = ".ssh/pgha_upgrade_ed25519"          # pgha_upgrade_ssh's, below postgres's home
SSH_KNOWN = ".ssh/pgha_upgrade_known_hosts"
FIRST_NORMAL_OID = 16384                        # relfilenodes below are the catalog's
STAGES = ("prepared", "checked", "stopped", "linked", "synced", "configured", "started", "finished",
          "rolled_back")                 # as the utils module pgha_upgrade
UPGRADE_PORT = 50432                            # pg_upgrade's own default, socket in a 0700 dir

# Read-only queries as postgres over the local socket (peer authentication, Patroni's pg_hba).
QUERY = r"""
import json, sys
import psycopg2
req = json.load(sys.stdin)
conn = psycopg2.connect(connect_timeout=5, application_name="pgha-upgrade", **req["conn"])
conn.autocommit = True
out = []
with conn.cursor() as cur:
    for q in req["queries"]:
        cur.execute(q)
        out.append([list(r) for r in cur.fetchall()] if cur.description else None)
conn.close()
json.dump(out, sys.stdout, default=str)
"""


def __virtual__():
    if "pgha_upgrade.new_paths" not in __utils__:
        return (False, "pgha's utils module pgha_upgrade is not synced (run saltutil.sync_all)")
    return __virtualname__


# -- what this node runs ---------------------------------------------------------------------

def _patroni_config_path():
    return __utils__["pgha_patroni_config.path"](__salt__, __context__)


def _patroni_config():
    """Patroni's configuration (pgha_patroni reads it with the same utils module); {} where
    there is none: no cluster on this node yet."""
    return __utils__["pgha_patroni_config.read"](_patroni_config_path(), required=False)


def _old():
    """The running cluster's ``data_dir``, ``bin_dir``, ``wal_dir`` ('' inside), port, socket
    directory, superuser, from Patroni's configuration."""
    pg = _patroni_config().get("postgresql") or {}
    data_dir = pg.get("data_dir") or ""
    wal = posixpath.join(data_dir, "pg_wal") if data_dir else ""
    params = pg.get("parameters") or {}
    return {"data_dir": data_dir, "bin_dir": pg.get("bin_dir") or "",
            "wal_dir": os.path.realpath(wal) if wal and os.path.islink(wal) else "",
            "port": int(str(pg.get("listen", ":5432")).rsplit(":", 1)[-1] or 5432),
            "socket_dir": str(params.get("unix_socket_directories", "/var/run/postgresql")).split(",")[0].strip(),
            "superuser": ((pg.get("authentication") or {}).get("superuser") or {}).get("username") or "postgres"}


def _settings():
    """pgha's merged settings on this node (pgha_settings.render): package names, paths."""
    if "pgha_upgrade.settings" not in __context__:
        __context__["pgha_upgrade.settings"] = __salt__["pgha_settings.render"]("pgha")["pgha"]
    return __context__["pgha_upgrade.settings"]


def _pg_version(data_dir):
    try:
        with salt.utils.files.fopen(posixpath.join(data_dir, "PG_VERSION")) as handle:
            return handle.read().strip()
    except (OSError, TypeError):
        return None


def running_version():
    """
    The PostgreSQL major of the cluster Patroni's configuration names on this node (its data
    directory's PG_VERSION), or None (no cluster here yet).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.running_version
    """
    return _pg_version(_old()["data_dir"])


def _computed_paths(to):
    old = _old()
    major = _pg_version(old["data_dir"])
    paths, problems = __utils__["pgha_upgrade.new_paths"](major, to, old["data_dir"], old["wal_dir"], old["bin_dir"])
    if problems:
        raise CommandExecutionError("\n".join(problems))
    return old, paths, major


def _paths(to):
    """(old cluster, {old, new, rsync} paths, old major). The record's, taken when the upgrade
    began: once Patroni's configuration names the new cluster (the step before the start), the
    old paths can no longer be read from it, and a rollback needs them."""
    rec = record()
    if rec.get("paths") and str(rec.get("to")) == str(to):
        old = dict(_old(), **rec["paths"]["old"])
        return old, rec["paths"], rec.get("from")
    return _computed_paths(to)


def _run(argv, runas="postgres", cwd=None, timeout=None, what=None):
    res = __salt__["cmd.run_all"](argv, runas=runas, cwd=cwd or _home(), python_shell=False,
                                  ignore_retcode=True, timeout=timeout)
    if res["retcode"] != 0:
        raise CommandExecutionError(f"{what or argv[0]} failed ({res['retcode']}): "
                                    f"{(res.get('stderr') or res.get('stdout') or '').strip()[-2000:]}")
    return res.get("stdout") or ""


def _home(user="postgres"):
    return pwd.getpwnam(user).pw_dir

# The options check: the new server (started on pg_upgrade's port, its socket in a 0700
# directory, no TCP) tries each option on a temporary table, in a transaction it rolls back.
PROBE = r"""
import json, sys
import psycopg2
from psycopg2 import sql
req = json.load(sys.stdin)
conn = psycopg2.connect(connect_timeout=5, application_name="pgha-upgrade", **req["conn"])
refused = []
with conn.cursor() as cur:
    cur.execute("CREATE TEMP TABLE pgha_option_probe (a int)")
    for kind, name, value in req["options"]:
        statement = sql.SQL("ALTER TABLE pgha_option_probe ALTER COLUMN a SET ({} = {})" if kind == "column"
                            else "ALTER TABLE pgha_option_probe SET ({} = {})")
        cur.execute("SAVEPOINT probe")
        try:
            cur.execute(statement.format(sql.SQL(".").join(map(sql.Identifier, name.split("."))), sql.Literal(value)))
        except psycopg2.Error as exc:
            refused.append([kind, name, str(exc).strip().splitlines()[0]])
        cur.execute("ROLLBACK TO SAVEPOINT probe")
conn.rollback()
conn.close()
json.dump(refused, sys.stdout)
"""
# The options pg_dump --binary-upgrade restores (not the system catalogs'): name, a value, count.
OPTIONS = {
    "column": "SELECT split_part(o, '=', 1), min(substr(o, strpos(o, '=') + 1)), count(DISTINCT a.attrelid) "
              "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid, unnest(a.attoptions) o "
              "WHERE a.attnum > 0 AND c.relnamespace::regnamespace::text NOT IN "
              "('pg_catalog', 'information_schema', 'pg_toast') GROUP BY 1",
    "table": "SELECT split_part(o, '=', 1), min(substr(o, strpos(o, '=') + 1)), count(*) "
             "FROM pg_class c, unnest(c.reloptions) o WHERE c.relkind IN ('r', 'm') AND "
             "c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema', 'pg_toast') GROUP BY 1",
}


def _query(queries, dbname="postgres"):
    old = _old()
    request = {"conn": {"dbname": dbname, "port": old["port"], "host": old["socket_dir"]}, "queries": queries}
    res = __salt__["cmd.run_all"]([sys.executable, "-c", QUERY], runas="postgres", stdin=json.dumps(request),
                                  python_shell=False, ignore_retcode=True, output_loglevel="quiet")
    if res["retcode"] != 0:
        raise CommandExecutionError(f"PostgreSQL ({dbname}): {(res.get('stderr') or '').strip()[-500:]}")
    return json.loads(res["stdout"])


# -- the record of an upgrade ------------------------------------------------------------------

def record():
    """
    The record of the upgrade on this node (``{from, to, stage, started, dcs_reset, ...}``),
    or {} when none was made. pgha_upgrade.rollback and the highstate's version gate read it.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.record
    """
    try:
        with salt.utils.files.fopen(RECORD) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def mark(stage, to=None, **extra):
    """
    Write the stage of the upgrade to this node's record (``started`` stays true once set:
    the rollback's boundary).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.mark stage=checked to=18
    """
    if stage not in STAGES:
        raise CommandExecutionError(f"unknown upgrade stage {stage!r}")
    data = record()
    if stage == "prepared" and data.get("stage") != "prepared" or not data:
        # a new upgrade: nothing of an earlier one (its DCS copy) may be taken for this one's
        data = {"from": running_version(), "to": str(to), "started": False}
        if to is not None and data["from"]:
            data["paths"] = _computed_paths(to)[1]
        if os.path.exists(DCS_COPY):
            os.remove(DCS_COPY)
    data.update(extra, stage=stage)
    if stage == "started":
        data["started"] = True
    os.makedirs(RECORD_DIR, mode=0o700, exist_ok=True)
    with salt.utils.files.fopen(RECORD, "w") as handle:
        json.dump(data, handle)
    os.chmod(RECORD, 0o600)
    return data


# -- facts for the pre-checks ------------------------------------------------------------------

def _catalog_bytes(data_dir):
    """The old catalog's size: global/ and the relations below FirstNormalObjectId."""
    total = 0
    for root, _dirs, files in os.walk(data_dir):
        rel = posixpath.relpath(root, data_dir)
        if not (rel == "global" or rel.startswith("base/")):
            continue
        for name in files:
            head = name.split("_")[0].split(".")[0]
            if rel == "global" or (head.isdigit() and int(head) < FIRST_NORMAL_OID):
                try:
                    total += os.lstat(posixpath.join(root, name)).st_size
                except OSError:
                    pass
    return total


def facts(to, package=None):
    """
    This member's facts for the pre-checks: its running major, the new major's package and
    the version the package sources offer (``candidate``, '' when none), the free space next
    to the data directory and the old catalog's size.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.facts to=18
    """
    old = _old()
    major = _pg_version(old["data_dir"])
    pg = _settings().get("postgresql") or {}
    if not package:
        server = ((_settings().get("pkgs") or {}).get("postgresql") or [f"postgresql-{major}"])[0]
        package = __utils__["pgha_upgrade.new_packages"]([server], [], major, to)[0]
    offered = lambda name: __salt__["pkg.version"](name) or __salt__["pkg.latest_version"](name, refresh=False) or ""  # noqa: E731
    candidate = offered(package)
    # the extensions' packages of pillar too (postgresql-18-postgis-3, ...): none may be missing
    missing = [name for name in packages(to, old=major)[1:] if name != package and not offered(name)]
    parent = posixpath.dirname(posixpath.dirname(old["data_dir"])) if old["data_dir"] else "/"
    stat = os.statvfs(parent if os.path.isdir(parent) else "/")
    return {"pg_version": major, "package": package, "candidate": candidate, "data_dir": old["data_dir"],
            "available_versions": pg.get("available_versions") or [], "missing_packages": missing,
            "free_bytes": stat.f_bavail * stat.f_frsize,
            "catalog_bytes": _catalog_bytes(old["data_dir"]) if old["data_dir"] else 0}


def primary_facts(max_transaction_sec=15):
    """
    The primary's facts for the pre-checks: ``replication`` (pg_stat_replication: each
    standby's application_name, state and lag in bytes), ``long_transactions``, ``prepared``
    (pg_prepared_xacts) and ``extensions`` ({db, name, version}) of every database that
    accepts connections.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.primary_facts max_transaction_sec=15
    """
    limit = int(max_transaction_sec)
    rows = _query([
        "SELECT application_name, state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint "
        "FROM pg_stat_replication",
        "SELECT pid, datname, extract(epoch FROM clock_timestamp() - xact_start)::int FROM pg_stat_activity "
        f"WHERE xact_start IS NOT NULL AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
        f"AND clock_timestamp() - xact_start > interval '{limit} seconds'",
        "SELECT gid FROM pg_prepared_xacts",
        "SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname",
    ])
    extensions = []
    for (db,) in rows[3]:
        for name, version in _query(["SELECT extname, extversion FROM pg_extension"], dbname=db)[0]:
            extensions.append({"db": db, "name": name, "version": version})
    return {"replication": [{"application_name": a, "state": s, "lag_bytes": lag} for a, s, lag in rows[0]],
            "long_transactions": [{"pid": p, "datname": d, "seconds": s} for p, d, s in rows[1]],
            "prepared": [g for (g,) in rows[2]], "extensions": extensions,
            "databases": [d for (d,) in rows[3]]}


def packages(to, old=None, which="new"):
    """
    The packages of the new major (``which=new``: the server's and the extensions' of pillar,
    their major swapped) or of the old one (``which=old``), whichever major pillar names now.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.packages to=18
    """
    pgha = _settings()
    old = str(old or record().get("from") or running_version())
    names = list((pgha.get("pkgs") or {}).get("postgresql") or [])
    extensions = list((pgha.get("postgresql") or {}).get("extension_packages") or [])
    named = str((pgha.get("postgresql") or {}).get("version"))
    swap = __utils__["pgha_upgrade.new_packages"]
    if which == "old":
        return swap(names, extensions, named, old) if named != old else names + extensions
    return swap(names, extensions, named, to) if named != str(to) else names + extensions


# -- the new cluster --------------------------------------------------------------------------

def initdb(to):
    """
    Initialise the new major's cluster next to the running one, with its encoding, locale and
    checksums (a WAL directory outside the data directory gets its new versioned path:
    ``initdb -X`` needs an empty one). Does nothing when the new data directory holds a
    cluster of ``to`` already.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.initdb to=18
    """
    old, paths, _major = _paths(to)
    new = paths["new"]
    if _pg_version(new["data_dir"]) == str(to):
        return {"initdb": "exists", "data_dir": new["data_dir"]}
    (encoding, collate, ctype, checksums), = _query([
        "SELECT pg_encoding_to_char(encoding), datcollate, datctype, "
        "current_setting('data_checksums') = 'on' FROM pg_database WHERE datname = 'template1'"])[0]
    (superuser,), = _query(["SELECT rolname FROM pg_authid WHERE oid = 10"])[0]
    argv = [posixpath.join(new["bin_dir"], "initdb"), "--pgdata", new["data_dir"], "--encoding", encoding,
            "--lc-collate", collate, "--lc-ctype", ctype, "--username", superuser,
            "--auth-local=peer", "--auth-host=reject",
            "--data-checksums" if checksums else "--no-data-checksums"]
    if new["wal_dir"]:
        argv += ["--waldir", new["wal_dir"]]
    if int(to) < 18 and not checksums:
        argv.remove("--no-data-checksums")   # before 18 off is initdb's default and the flag is unknown
    for path in (new["data_dir"], new["wal_dir"]):
        if path:
            __salt__["file.makedirs_perms"](path, user="postgres", group="postgres", mode="0700")
    _run(argv, what="initdb")
    # pg_upgrade runs as the cluster's install user (OID 10), which may not be Patroni's superuser
    mark("prepared", to=to, install_user=superuser)
    return {"initdb": "created", "data_dir": new["data_dir"], "wal_dir": new["wal_dir"],
            "encoding": encoding, "lc_collate": collate, "lc_ctype": ctype, "checksums": checksums}


def _pg_upgrade(to, check):
    old, paths, _major = _paths(to)
    new = paths["new"]
    work = posixpath.join(_home(), ".pgha-upgrade")
    __salt__["file.mkdir"](work, user="postgres", group="postgres", mode="0700")
    argv = [posixpath.join(new["bin_dir"], "pg_upgrade"), "--link", "--old-bindir", old["bin_dir"],
            "--new-bindir", new["bin_dir"], "--old-datadir", old["data_dir"], "--new-datadir", new["data_dir"],
            "--username", record().get("install_user") or old["superuser"], "--new-port", str(UPGRADE_PORT)]
    if check:
        # a live old server: pg_upgrade connects to it on its own port and socket
        argv += ["--check", "--old-port", str(old["port"]), "--socketdir", old["socket_dir"]]
    else:
        argv += ["--old-port", str(UPGRADE_PORT), "--socketdir", work]
    try:
        return _run(argv, cwd=work, what="pg_upgrade" + (" --check" if check else ""))
    except CommandExecutionError as exc:
        # pg_upgrade's stdout names the log that holds the reason, which a rollback removes
        # with the new data directory: carry that log's error lines in the error
        raise CommandExecutionError(f"{exc}{_pg_upgrade_errors(str(exc), new['data_dir'])}") from None


# the log pg_upgrade names when a step fails, and the lines of it worth showing: errors, not the
# dumped SQL (global objects' dumps hold password hashes)
_CONSULT = re.compile(r'Consult the last few lines of "([^"]+\.log)"')
_ERROR_LINE = re.compile(r"\b(ERROR|FATAL|DETAIL|HINT|error):")
_PASSWORD = re.compile(r"PASSWORD\s+'[^']*'", re.IGNORECASE)


def _pg_upgrade_errors(output, data_dir, lines=8):
    """The error lines of the log pg_upgrade's output names (under the new data directory, where
    pg_upgrade writes them), secrets masked."""
    found = []
    for path in _CONSULT.findall(output):
        if not posixpath.normpath(path).startswith(data_dir.rstrip("/") + "/"):
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                errors = [line for line in handle.read().splitlines() if _ERROR_LINE.search(line)]
        except OSError:
            continue
        if errors:
            found.append(f"\n--- {posixpath.basename(path)} ---\n"
                         + "\n".join(_PASSWORD.sub("PASSWORD '***'", line)[:500] for line in errors[-lines:]))
    return "".join(found)


def check(to):
    """
    ``pg_upgrade --check --link`` against the running old cluster: refuses what pg_upgrade
    would refuse, before anything stops.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.check to=18
    """
    out = _pg_upgrade(to, check=True)
    problems = _option_problems(to)
    if problems:
        raise CommandExecutionError("\n".join(problems))
    mark("checked", to=to)
    return {"pg_upgrade --check": "passed", "options": "accepted", "output": out.strip().splitlines()[-3:]}


def _stored_options():
    """{(kind, name): [a value, objects, [databases]]} over every database that takes connections."""
    found = {}
    for (dbname,) in _query(["SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1"])[0]:
        for kind, rows in zip(OPTIONS, _query(list(OPTIONS.values()), dbname=dbname)):
            for name, value, objects in rows:
                entry = found.setdefault((kind, name), [value, 0, []])
                entry[1] += int(objects)
                entry[2].append(dbname)
    return found


def _option_problems(to):
    """Start the new (empty) cluster, have it try every option the old one stores, stop it."""
    stored = _stored_options()
    if not stored:
        return []
    old, paths, _major = _paths(to)
    new = paths["new"]
    work = posixpath.join(_home(), ".pgha-upgrade")
    pg_ctl = posixpath.join(new["bin_dir"], "pg_ctl")
    # pg_ctl hands -o to a shell: the port is ours, the socket directory quoted
    options = f"-p {UPGRADE_PORT} -c listen_addresses= -k {shlex.quote(work)}"
    _run([pg_ctl, "-D", new["data_dir"], "-w", "-t", "60", "-l", posixpath.join(work, "option-probe.log"),
          "-o", options, "start"], what="starting the new cluster for the options check")
    try:
        request = {"conn": {"dbname": "postgres", "port": UPGRADE_PORT, "host": work,
                            "user": record().get("install_user") or old["superuser"]},
                   "options": [[kind, name, value] for (kind, name), (value, _n, _d) in sorted(stored.items())]}
        res = __salt__["cmd.run_all"]([sys.executable, "-c", PROBE], runas="postgres", stdin=json.dumps(request),
                                      python_shell=False, ignore_retcode=True, output_loglevel="quiet")
        if res["retcode"] != 0:
            raise CommandExecutionError(f"the options check: {(res.get('stderr') or '').strip()[-500:]}")
        refused = json.loads(res["stdout"])
    finally:
        _run([pg_ctl, "-D", new["data_dir"], "-w", "-t", "60", "-m", "fast", "stop"],
             what="stopping the new cluster after the options check")
    old_version = str(_query(["SHOW server_version"])[0][0][0]).split()[0]
    found = re.search(r"PostgreSQL\)\s+(\S+)", _run([posixpath.join(new["bin_dir"], "postgres"), "--version"]))
    new_version = found.group(1) if found else str(to)
    return __utils__["pgha_upgrade.option_problems"](
        [[kind, name, stored[(kind, name)][1], stored[(kind, name)][2], error] for kind, name, error in refused],
        old_version, new_version)


def _replayed(timeout, settle=2.0):
    """On a standby: wait until it replayed all it received (the primary's shutdown checkpoint
    among it; ``settle`` seconds first, for the last WAL to arrive). A standby's fast shutdown
    does not replay what it received, and its restart point, the "Latest checkpoint location"
    compared afterwards, would be an older one. Nothing to wait for on a primary."""
    query = ("SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn() IS NULL OR "
             "pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()")
    try:
        if not _query([query])[0][0][0]:
            return
    except CommandExecutionError:
        return
    time.sleep(settle)
    deadline = time.monotonic() + timeout
    while not _query([query])[0][0][1]:
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"this standby did not replay all the WAL it received within {timeout} s")
        time.sleep(0.5)


def stop(timeout=1800, replay_timeout=60):
    """
    Stop this node's PostgreSQL with a clean shutdown (``pg_ctl stop -m fast``), Patroni
    paused: Patroni does not start it again. Nothing to do when it is stopped.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.stop
    """
    old = _old()
    pg_ctl = posixpath.join(old["bin_dir"], "pg_ctl")
    status = __salt__["cmd.run_all"]([pg_ctl, "status", "-D", old["data_dir"]], runas="postgres",
                                     python_shell=False, ignore_retcode=True)
    if status["retcode"] == 3:
        return {"stopped": "already"}
    _replayed(float(replay_timeout))
    _run([pg_ctl, "stop", "-D", old["data_dir"], "-m", "fast", "-w", "-t", str(int(timeout))], what="pg_ctl stop")
    return {"stopped": True}


def checkpoint():
    """
    ``pg_controldata``'s "Latest checkpoint location" and cluster state of the stopped old
    cluster: every member must show the same location (the pg_upgrade documentation's rule
    for standbys).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.checkpoint
    """
    old = _old()
    out = _run([posixpath.join(old["bin_dir"], "pg_controldata"), old["data_dir"]], what="pg_controldata")
    found = dict(re.findall(r"^([^:\n]+):\s*(.*)$", out, re.MULTILINE))
    return {"location": found.get("Latest checkpoint location"), "state": found.get("Database cluster state")}


def link(to):
    """
    ``pg_upgrade --link`` on the stopped primary. From here the old data directory shares its
    files with the new one; it can start again only as long as the new cluster never started
    (pgha_upgrade.rollback renames global/pg_control.old back).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.link to=18
    """
    rec = record()
    if rec.get("stage") in ("linked", "synced", "configured") and rec.get("to") == str(to):
        return {"pg_upgrade --link": "done already"}
    out = _pg_upgrade(to, check=False)
    mark("linked", to=to)
    return {"pg_upgrade --link": "done", "output": out.strip().splitlines()[-3:]}


# -- Patroni's DCS state ---------------------------------------------------------------------
DCS_COPY = posixpath.join(RECORD_DIR, "dcs-config.json")


def save_dcs():
    """
    Keep a copy of the cluster's dynamic configuration (root only) before pgha.upgrade
    resets the cluster's DCS state: pg_upgrade gives the cluster a new system identifier and
    Patroni refuses to start against a DCS holding the old one. pgha_upgrade.restore_dcs
    re-applies it to the new cluster, and a rollback to the old one.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.save_dcs
    """
    if os.path.exists(DCS_COPY):
        return {"saved": "already", "path": DCS_COPY}
    config = __salt__["pgha_patroni.show_config"]()
    os.makedirs(RECORD_DIR, mode=0o700, exist_ok=True)
    with salt.utils.files.fopen(DCS_COPY, "w") as handle:
        json.dump(config, handle)
    os.chmod(DCS_COPY, 0o600)
    mark(record().get("stage") or "checked", primary=True)
    return {"saved": True, "path": DCS_COPY}


def restore_dcs(old=None, new=None):
    """
    Re-apply the saved dynamic configuration (pgha_upgrade.save_dcs) to the running cluster,
    without the maintenance flag, the parameters renamed or dropped between ``old`` and
    ``new`` majors (pgha_upgrade.parameters; both given for an upgrade, none for a rollback).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.restore_dcs old=17 new=18
    """
    try:
        with salt.utils.files.fopen(DCS_COPY) as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return {"restored": False, "comment": f"no saved configuration ({DCS_COPY})"}
    config.pop("pause", None)
    notes = []
    if old and new:
        pg = config.get("postgresql") or {}
        params, notes = __utils__["pgha_upgrade.parameters"](pg.get("parameters") or {}, old, new)
        if pg.get("parameters"):
            dropped = {name: None for name in pg["parameters"] if name not in params}
            pg["parameters"] = dict(params, **dropped)
    __salt__["pgha_patroni.show_config"](wait=60)      # the new leader's first loops write it
    result = __salt__["pgha_patroni.edit_config"](config, timeout=60)
    return dict(result, notes=notes)


def resume(wait=60):
    """
    Turn Patroni's maintenance mode off if the cluster's DCS still holds it (a rollback
    before the DCS reset); nothing to do otherwise. Patroni must run here; its REST API is
    waited for up to ``wait`` seconds (the rollback starts Patroni just before: asked too early,
    the API refused, the pause was taken for absent, and the paused Patroni never started
    PostgreSQL).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.resume
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            paused = bool((__salt__["pgha_patroni.show_config"]() or {}).get("pause"))
            break
        except CommandExecutionError as exc:
            if time.monotonic() >= deadline:
                return {"resumed": False, "comment": f"no dynamic configuration to resume ({exc})"}
            time.sleep(2)
    if not paused:
        return {"resumed": False, "comment": "not paused"}
    __salt__["pgha_patroni.resume"](wait=False)
    return {"resumed": True}


def dcs_reset(cluster, patronictl="patronictl"):
    """
    Remove the cluster from the DCS (``patronictl remove``) with Patroni stopped on every
    member: pg_upgrade gave the cluster a new system identifier, and Patroni refuses to start
    against a DCS holding the old one. A paused leader's key may still be there until its TTL:
    patronictl then asks for the leader's name, this node's (the primary's).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.dcs_reset cluster=main
    """
    config = _patroni_config()
    scope = __utils__["pgha_patroni_config.require_confirm"](config, cluster, "dcs_reset")
    # a paused leader's key (this node's, the primary's) may be left until its TTL
    __utils__["pgha_patroni_config.remove_from_dcs"](__salt__["cmd.run_all"], patronictl, _patroni_config_path(),
                                                    scope, leader=config.get("name", ""))
    mark(record().get("stage") or "configured", dcs_reset=True)
    return {"removed": scope}


def stanza_upgrade(stanza=None, user=None):
    """
    ``pgbackrest stanza-upgrade`` after the major upgrade (pgBackRest keeps one history per
    system identifier), from this node (the repository host, else the primary).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.stanza_upgrade
    """
    pillar = __pillar__.get("pgha", {}) if isinstance(__pillar__.get("pgha"), dict) else {}
    stanza = stanza or (pillar.get("pgbackrest") or {}).get("stanza") or pillar.get("cluster_name")
    if user is None:
        user = ((pillar.get("pgbackrest") or {}).get("repo_host_user") or "pgbackrest") \
            if "pgbackrest" in (pillar.get("roles") or []) else "postgres"
    _run(["pgbackrest", f"--stanza={stanza}", "stanza-upgrade"], runas=user, cwd="/", what="pgbackrest stanza-upgrade")
    return {"stanza-upgrade": stanza}


# -- replicas: the rsync (over the temporary SSH trust of pgha_upgrade_ssh) ---------------------

def sync_replica(to, host, timeout=86400):
    """
    Bring the replica at ``host`` (its address) to the new major without copying the data
    again: the pg_upgrade documentation's rsync of the old and new directories (and the WAL
    directories outside them), run here on the primary as postgres over the temporary SSH
    trust. The replica's old cluster must have stopped at the same checkpoint.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.sync_replica to=18 host=10.0.0.12
    """
    _old_paths, paths, _major = _paths(to)
    home = _home()
    ssh = (f"ssh -i {posixpath.join(home, SSH_KEY)} -o UserKnownHostsFile={posixpath.join(home, SSH_KNOWN)} "
           "-o StrictHostKeyChecking=yes -o BatchMode=yes")
    stats = []
    for top in paths["rsync"]:
        argv = __utils__["pgha_upgrade.rsync_argv"](top, host)
        argv[1:1] = ["-e", ssh, "--stats"]
        out = _run(argv, cwd=top["parent"], timeout=timeout, what=f"rsync to {host}")
        sent = re.search(r"Total bytes sent:\s*([\d,.]+)", out)
        stats.append({"parent": top["parent"], "bytes_sent": int(re.sub(r"[,.]", "", sent.group(1))) if sent else None})
    return {"synced": host, "rsync": stats}


# -- after the start -------------------------------------------------------------------------

def statistics(to, jobs=1, timeout=86400):
    """
    Planner statistics for the new cluster: ``vacuumdb --all --analyze-in-stages``, or from 18
    on only what pg_upgrade did not carry over (pgha_upgrade.statistics_argv).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.statistics to=18
    """
    old = _old()
    done = []
    for argv in __utils__["pgha_upgrade.statistics_argv"](old["bin_dir"], to, jobs):
        argv += ["--host", old["socket_dir"], "--port", str(old["port"])]
        _run(argv, timeout=timeout, what="vacuumdb")
        done.append(" ".join(argv[1:]))
    return {"statistics": done}


def extensions_update():
    """
    ``ALTER EXTENSION ... UPDATE`` in every database for the extensions whose installed
    version is older than the new major's default version.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.extensions_update
    """
    updated = []
    (dbs,) = _query(["SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname"])
    for (db,) in dbs:
        (rows,) = _query(["SELECT e.extname FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname "
                          "WHERE a.default_version IS DISTINCT FROM e.extversion"], dbname=db)
        if rows:
            # format('%I'): the server quotes the name (no identifier is built here)
            _query(["DO $$DECLARE r record; BEGIN FOR r IN SELECT e.extname FROM pg_extension e JOIN "
                    "pg_available_extensions a ON a.name = e.extname WHERE a.default_version IS DISTINCT FROM "
                    "e.extversion LOOP EXECUTE format('ALTER EXTENSION %I UPDATE', r.extname); END LOOP; END$$"],
                   dbname=db)
            updated += [f"{db}.{name}" for (name,) in rows]
    return {"updated": updated}


# -- rollback and cleaning up ----------------------------------------------------------------

def _delete(path):
    problem = __utils__["pgha_paths.system_dir_problem"](os.path.realpath(path)) if path else "empty path"
    if problem:
        raise CommandExecutionError(f"refused to delete {path}: {problem}")
    if os.path.lexists(path):
        shutil.rmtree(path)
        return True
    return False


def remove_new(to):
    """
    Remove the new major's data (and WAL) directory, while the new cluster never started: what
    pgha.upgrade does when ``pg_upgrade --check`` or a later step before the start fails.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.remove_new to=18
    """
    possible, reason = __utils__["pgha_upgrade.rollback_decision"](record() or {"stage": "prepared"})
    if not possible:
        raise CommandExecutionError(f"remove_new refused: {reason}")
    _old_paths, paths, _major = _paths(to)
    removed = [p for p in (paths["new"]["data_dir"], paths["new"]["wal_dir"]) if p and _delete(p)]
    return {"removed": removed}


def remove_old(frm):
    """
    Remove the old major's data (and WAL) directory after a finished upgrade (pillar
    pgha:upgrade:remove_old_data): the new cluster runs, the old one can never start again.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.remove_old frm=17
    """
    rec = record()
    if rec.get("stage") != "finished" or str(rec.get("from")) != str(frm):
        raise CommandExecutionError(f"remove_old refused: the upgrade from {frm} is not finished on this node")
    if running_version() == str(frm):
        raise CommandExecutionError(f"remove_old refused: Patroni still runs PostgreSQL {frm} here")
    old = _old()
    paths, problems = __utils__["pgha_upgrade.new_paths"](running_version(), frm, old["data_dir"], old["wal_dir"], "")
    if problems:
        raise CommandExecutionError("\n".join(problems))
    return {"removed": [p for p in (paths["new"]["data_dir"], paths["new"]["wal_dir"]) if p and _delete(p)]}


def rollback(to=None):
    """
    Bring this node's old cluster back while the new one never started: the old control file
    back in place (pg_upgrade --link renamed it global/pg_control.old), the new directories
    removed, the record marked rolled back. Refused with the reason once the new cluster has
    started (pgha_upgrade.rollback_decision). Patroni's configuration is the orchestration's.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.rollback
    """
    rec = record()
    if rec.get("stage") == "rolled_back":
        return {"rollback": "done already"}
    possible, reason = __utils__["pgha_upgrade.rollback_decision"](rec)
    if not possible and rec:
        raise CommandExecutionError(f"pgha.upgrade_rollback refused: {reason}")
    to = to or rec.get("to")
    done = []
    if not rec:
        return {"rollback": "nothing to do: " + reason}
    old = _paths(to)[0] if to else _old()
    control = posixpath.join(old["data_dir"], "global", "pg_control")
    if not os.path.exists(control) and os.path.exists(control + ".old"):
        os.rename(control + ".old", control)
        done.append("global/pg_control.old renamed back")
    if to:
        _old_paths, paths, _major = _paths(to)
        done += [f"{p} removed" for p in (paths["new"]["data_dir"], paths["new"]["wal_dir"]) if p and _delete(p)]
    mark("rolled_back")
    return {"rollback": done}


def version_problem(pillar_version):
    """
    Why a highstate must stop on this node (None when it may go on): pillar's
    postgresql:version is not the major of the cluster here, or an upgrade is in progress.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade.version_problem 18
    """
    return __utils__["pgha_upgrade.version_gate"](pillar_version, running_version(), record())
