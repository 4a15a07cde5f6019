"""
pgBackRest workflows for pgha: repository information, checks, backups and restores of the
cluster's stanza. Commands run as the postgres user with an argument list (no shell); the
repository settings come from /etc/pgbackrest/pgbackrest.conf, which pgha manages.
"""
import json
import logging

import salt.utils.data
import salt.utils.path
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha_pgbackrest"
BACKUP_TYPES = ("full", "diff", "incr")
TARGET_TYPES = ("time", "lsn", "name", "xid", "immediate", "default")


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


def _run(*args, stanza=None, user="postgres", timeout=None):
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
    replays all archived WAL (latest).

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
        if target:
            args.append(f"--target={target}")
        args.append(f"--target-action={target_action}")
    _run(*args, "restore", stanza=stanza, timeout=timeout)
    return {"restored": _stanza(stanza), "target_type": target_type, "target": target}
