"""
pgBackRest workflows for pgha: repository information, checks, backups and restores of the
cluster's stanza. Commands run as the postgres user with an argument list (no shell); the
repository settings come from /etc/pgbackrest/pgbackrest.conf, which pgha manages.
"""
import datetime
import json
import logging
import time

import salt.utils.data
import salt.utils.files
import salt.utils.path
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha_pgbackrest"
BACKUP_TYPES = ("full", "diff", "incr")
TARGET_TYPES = ("time", "lsn", "name", "xid", "immediate", "default", "standby")
# What pgBackRest's restore writes to postgresql.auto.conf; Patroni manages recovery itself.
RECOVERY_SETTINGS = ("restore_command", "recovery_target", "recovery_target_time",
                     "recovery_target_lsn", "recovery_target_name", "recovery_target_xid",
                     "recovery_target_action", "recovery_target_timeline",
                     "recovery_target_inclusive")


def __virtual__():
    if salt.utils.path.which("pgbackrest"):
        return __virtualname__
    return (False, "pgbackrest is not installed")


def _stanza(stanza):
    if stanza:
        return stanza
    # __pillar__, not pillar.get: Salt 3008 masks values that pillar.get returns to modules
    configured = (salt.utils.data.traverse_dict_and_list(__pillar__, "pgha:pgbackrest:stanza")
                  or salt.utils.data.traverse_dict_and_list(__pillar__, "pgha:cluster_name"))
    if not configured:
        raise CommandExecutionError("no stanza given and none in pillar (pgha:pgbackrest:stanza)")
    return configured


def _user():
    """Who runs pgbackrest here: the repository host's own user, else postgres."""
    if "pgbackrest" in (salt.utils.data.traverse_dict_and_list(__pillar__, "pgha:roles") or []):
        return salt.utils.data.traverse_dict_and_list(__pillar__, "pgha:pgbackrest:repo_host_user") or "pgbackrest"
    return "postgres"


def _run(*args, stanza=None, user=None, timeout=None):
    user = user or _user()
    cmd = ["pgbackrest", f"--stanza={_stanza(stanza)}", *args]
    res = __salt__["cmd.run_all"](cmd, runas=user, python_shell=False, ignore_retcode=True,
                                  timeout=timeout)
    if res["retcode"] != 0:
        raise CommandExecutionError(f"{' '.join(cmd[:1] + cmd[2:])} failed ({res['retcode']}): "
                                    f"{(res.get('stderr') or res.get('stdout') or '').strip()[-2000:]}")
    return res["stdout"]


def info(stanza=None):
    """
    The stanza's backups and archive (``pgbackrest info --output=json``): status, backup
    sets with type, start/stop time and LSNs, and the WAL range of the archive.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.info
    """
    data = json.loads(_run("--log-level-console=warn", "info", "--output=json", stanza=stanza) or "[]")
    return data[0] if data else {}


def stanza_exists(stanza=None):
    """
    True when the repository has the stanza (``info`` status other than 1, "missing stanza
    path"; 2, "no valid backups", means it exists).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.stanza_exists
    """
    return info(stanza).get("status", {}).get("code", 1) != 1


def stanza_create(stanza=None):
    """
    Create the stanza in the repository (on the primary).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.stanza_create
    """
    _run("stanza-create", stanza=stanza)
    return f"stanza {_stanza(stanza)} created"


def check(stanza=None):
    """
    ``pgbackrest check``: the configuration is valid and WAL reaches the archive (it forces a
    WAL switch and waits for the segment).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.check
    """
    _run("check", stanza=stanza)
    return f"stanza {_stanza(stanza)}: archiving and configuration checked"


def backup(type="full", stanza=None, timeout=None):  # pylint: disable=redefined-builtin
    """
    Take a backup (``full``, ``diff`` or ``incr``) from this node, which must be the primary;
    returns the new backup's label and LSN range.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.backup type=diff
    """
    if type not in BACKUP_TYPES:
        raise CommandExecutionError(f"backup type must be one of {', '.join(BACKUP_TYPES)}, not {type!r}")
    _run(f"--type={type}", "backup", stanza=stanza, timeout=timeout)
    latest = (info(stanza).get("backup") or [{}])[-1]
    return {"label": latest.get("label"), "type": latest.get("type"),
            "lsn": latest.get("lsn"), "timestamp": latest.get("timestamp")}


def restore(target_type="default", target=None, delta=True, target_action="promote",
            backup_set=None, stanza=None, timeout=None):
    """
    Restore the stanza into this node's data directory (PostgreSQL must be stopped). With
    ``target_type`` time, lsn, name or xid and a ``target``, recovery stops there and then
    takes ``target_action``; ``immediate`` stops at the end of the backup; ``default``
    replays all archived WAL (latest); ``standby`` makes a replica that follows the archive.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.restore target_type=time target='2026-11-26 01:00:00+00'
    """
    if target_type not in TARGET_TYPES:
        raise CommandExecutionError(f"target_type must be one of {', '.join(TARGET_TYPES)}, not {target_type!r}")
    if target_type in ("time", "lsn", "name", "xid") and not target:
        raise CommandExecutionError(f"target_type {target_type} needs a target")
    args = ["--delta"] if delta else []
    if backup_set:
        args.append(f"--set={backup_set}")
    if target_type != "default":
        args.append(f"--type={target_type}")
    if target_type not in ("default", "standby"):
        if target:
            args.append(f"--target={target}")
        args.append(f"--target-action={target_action}")
    _run(*args, "restore", stanza=stanza, timeout=timeout)
    return {"restored": _stanza(stanza), "target_type": target_type, "target": target}


def stanza_delete(stanza=None):
    """
    Delete the stanza and everything in it from the repository (``pgbackrest stop``, then
    ``stanza-delete``). PostgreSQL must be stopped; pgha.remove runs it only when asked.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.stanza_delete stanza=main
    """
    if not stanza_exists(stanza):
        return f"stanza {_stanza(stanza)} does not exist"
    _run("stop", stanza=stanza)
    _run("stanza-delete", stanza=stanza)
    return f"stanza {_stanza(stanza)} deleted"


def _lsn(value):
    high, low = str(value).split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _epoch(text):
    try:
        moment = datetime.datetime.fromisoformat(str(text).strip().replace(" ", "T", 1))
    except ValueError:
        return None  # a form only PostgreSQL reads (a zone name): no pre-check, it decides
    return moment.timestamp() if moment.tzinfo else None


def restorable(target_type="default", target=None, backup_set=None, stanza=None):
    """
    Check, before anything stops, that the repository has a backup to restore to the target
    from: ``backup_set`` exists, and for a time or lsn target a backup ended before it.
    Returns the backup pgBackRest will start from.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.restorable target_type=time target='2026-11-26 04:00:00+00'
    """
    problems = __salt__["pgha.check_restore_target"](
        {"type": target_type, "target": target, "set": backup_set, "stanza": stanza})
    if problems:
        raise CommandExecutionError("; ".join(f"{key}: {msg}" for key, msg in problems))
    data = info(stanza)
    backups = data.get("backup") or []
    if not backups:
        status = data.get("status") or {}
        # 0 ok and 2 "no valid backups" mean the repository answered; any other status (an
        # unreachable repository host, a missing stanza) is the reason to show instead
        reason = f": {status.get('message')}" if status.get("code") not in (0, 2, None) else ""
        raise CommandExecutionError(f"stanza {_stanza(stanza)} has no backup to restore from{reason}")
    if backup_set:
        backups = [b for b in backups if b.get("label") == backup_set]
        if not backups:
            raise CommandExecutionError(f"stanza {_stanza(stanza)} has no backup {backup_set}")
    if target_type == "time" and _epoch(target) is not None:
        backups = [b for b in backups if b["timestamp"]["stop"] <= _epoch(target)]
        if not backups:
            raise CommandExecutionError(f"no backup of stanza {_stanza(stanza)} ended before {target}: "
                                        "a point in time needs a backup taken before it")
    elif target_type == "lsn":
        backups = [b for b in backups if _lsn(b["lsn"]["stop"]) <= _lsn(target)]
        if not backups:
            raise CommandExecutionError(f"no backup of stanza {_stanza(stanza)} ended before LSN {target}")
    return {"label": backups[-1]["label"], "type": backups[-1]["type"],
            "stop": backups[-1]["timestamp"]["stop"]}


def _psql(sql, port, socket_dir, user):
    res = __salt__["cmd.run_all"](["psql", "-XAtq", "-h", socket_dir, "-p", str(port), "-d", "postgres",
                                   "-c", sql], runas=user, python_shell=False, ignore_retcode=True)
    return res["stdout"].strip() if res["retcode"] == 0 else None


def recover(data_dir, bin_dir, port=5432, socket_dir="/var/run/postgresql", user="postgres",
            timeout=3600):
    """
    Run a restored data directory's recovery to its end (the target, then promotion) with
    PostgreSQL listening on its socket only, so that no client writes meanwhile; then clear
    the recovery settings pgBackRest wrote, let the new timeline reach the archive, and stop
    it cleanly for Patroni to take over. Fails with the server log when recovery stops short
    (e.g. a target beyond the archived WAL).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.recover /var/lib/postgresql/15/main /usr/lib/postgresql/15/bin
    """
    pg_ctl = f"{bin_dir}/pg_ctl"
    log_file = f"{data_dir}/pgha-recovery.log"
    # -w waits until it accepts (read-only) connections, or exits when recovery fails early
    start = __salt__["cmd.run_all"]([pg_ctl, "-D", data_dir, "-l", log_file, "-w", "-t", str(int(timeout)),
                                     "start", "-o", f"-c listen_addresses='' -p {port} -k {socket_dir}"],
                                    runas=user, python_shell=False, ignore_retcode=True)
    if start["retcode"] != 0:
        tail = __salt__["cmd.run"](["tail", "-n", "20", log_file], python_shell=False)
        raise CommandExecutionError(f"PostgreSQL did not start for recovery:\n{tail}")
    deadline = time.monotonic() + float(timeout)
    while _psql("SELECT pg_is_in_recovery()", port, socket_dir, user) != "f":
        running = __salt__["cmd.retcode"]([pg_ctl, "-D", data_dir, "status"], runas=user,
                                          python_shell=False, ignore_retcode=True) == 0
        if not running or time.monotonic() > deadline:
            tail = __salt__["cmd.run"](["tail", "-n", "20", log_file], python_shell=False)
            if running:
                _stop(pg_ctl, data_dir, user)
            raise CommandExecutionError(f"recovery did not reach its target and promote "
                                        f"({'timed out' if running else 'PostgreSQL stopped'}):\n{tail}")
        time.sleep(1)
    for setting in RECOVERY_SETTINGS:
        _psql(f"ALTER SYSTEM RESET {setting}", port, socket_dir, user)
    _psql("CHECKPOINT", port, socket_dir, user)
    timeline = _psql("SELECT timeline_id FROM pg_control_checkpoint()", port, socket_dir, user)
    # the new timeline's history file goes to the archive: replicas restored from the
    # repository follow it there
    archived = False
    for _ in range(60):
        ready = _psql("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'",
                      port, socket_dir, user)
        if ready == "0":
            archived = True
            break
        time.sleep(1)
    _stop(pg_ctl, data_dir, user)
    if not archived:
        log.warning("pgha: WAL of the restored timeline still waits for archive_command")
    return {"promoted": True, "timeline": timeline, "archived": archived}


def _stop(pg_ctl, data_dir, user):
    res = __salt__["cmd.run_all"]([pg_ctl, "-D", data_dir, "-m", "fast", "-w", "stop"], runas=user,
                                  python_shell=False, ignore_retcode=True)
    if res["retcode"] != 0:
        raise CommandExecutionError(f"pg_ctl stop failed: {res['stderr'] or res['stdout']}")


def ssh_identity(user="postgres"):
    """
    ``user``'s SSH public key and this host's ed25519 host key, which the other side of a
    repository-host setup trusts (published to the mine as ``pgha_ssh``).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbackrest.ssh_identity
    """
    try:
        home = __salt__["user.info"](user)["home"]
        with salt.utils.files.fopen(f"{home}/.ssh/id_ed25519.pub") as f:
            key = f.read().strip()
        with salt.utils.files.fopen("/etc/ssh/ssh_host_ed25519_key.pub") as f:
            host_key = " ".join(f.read().split()[:2])
    except (KeyError, OSError) as exc:
        raise CommandExecutionError(f"no SSH identity for {user}: {exc}") from exc
    return {"user": user, "key": key, "host_key": host_key}
