"""
The temporary SSH trust of pgha.upgrade (issue 19): postgres on the primary logs in as
postgres on each replica for the rsync of pg_upgrade's documented standby procedure. pgBackRest's
own trust exists only with a repository host, and in the other direction; so the upgrade makes
a key of its own, accepted only from the primary's address, pins the replicas' host keys in a
known_hosts file of its own, and removes all of it afterwards. The runner ``pgha.upgrade_ssh``
carries the public keys between the nodes; no private key leaves the primary.
"""
import os
import posixpath
import pwd
import re

import salt.utils.files
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_upgrade_ssh"

SSH_KEY = ".ssh/pgha_upgrade_ed25519"          # below postgres's home, removed after the upgrade
SSH_KNOWN = ".ssh/pgha_upgrade_known_hosts"
SSH_MARK = "pgha-upgrade-temporary"             # the comment of the authorized key line


def __virtual__():
    return __virtualname__


def _home(user="postgres"):
    return pwd.getpwnam(user).pw_dir


def _run(argv):
    res = __salt__["cmd.run_all"](argv, runas="postgres", cwd=_home(), python_shell=False, ignore_retcode=True)
    if res["retcode"] != 0:
        raise CommandExecutionError(f"{argv[0]} failed ({res['retcode']}): {(res.get('stderr') or '').strip()[-500:]}")


def key():
    """
    The temporary key postgres uses to reach the replicas during the upgrade (created when
    missing): its public half. Removed by pgha_upgrade_ssh.revoke.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade_ssh.key
    """
    path = posixpath.join(_home(), SSH_KEY)
    if not os.path.exists(path):
        __salt__["file.mkdir"](posixpath.dirname(path), user="postgres", group="postgres", mode="0700")
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", SSH_MARK, "-f", path])
    with salt.utils.files.fopen(path + ".pub") as handle:
        return handle.read().strip()


def host_key():
    """
    This host's ed25519 SSH host key (public), for the primary's known_hosts.

    CLI Example:

    .. code-block:: bash

        salt pg2 pgha_upgrade_ssh.host_key
    """
    with salt.utils.files.fopen("/etc/ssh/ssh_host_ed25519_key.pub") as handle:
        return " ".join(handle.read().split()[:2])


def _authorized_path():
    return posixpath.join(_home(), ".ssh", "authorized_keys")


def authorize(key, source):
    """
    Let the primary's temporary key log in as postgres here, from its address only
    (``restrict,from=``): the rsync of the upgrade. Removed by pgha_upgrade_ssh.revoke.

    CLI Example:

    .. code-block:: bash

        salt pg2 pgha_upgrade_ssh.authorize key='ssh-ed25519 AAAA... pgha-upgrade-temporary' source=10.0.0.11
    """
    parts = str(key).split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519" or not re.fullmatch(r"[A-Za-z0-9+/=]+", parts[1]):
        raise CommandExecutionError("authorize: not an ed25519 public key")
    if not re.fullmatch(r"[0-9A-Fa-f.:]+", str(source)):
        raise CommandExecutionError(f"authorize: source must be an IP address (got {source!r})")
    line = f'restrict,from="{source}" {parts[0]} {parts[1]} {SSH_MARK}'
    path = _authorized_path()
    __salt__["file.mkdir"](posixpath.dirname(path), user="postgres", group="postgres", mode="0700")
    __salt__["file.touch"](path)
    __salt__["file.chown"](path, "postgres", "postgres")
    __salt__["file.set_mode"](path, "0600")
    return {"added": __salt__["file.append"](path, line) if line not in _lines(path) else "present"}


def _lines(path):
    try:
        with salt.utils.files.fopen(path) as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def known(hosts):
    """
    Pin the replicas' host keys (``{address: "ssh-ed25519 AAAA..."}``) in the upgrade's own
    known_hosts file of postgres.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade_ssh.known hosts='{"10.0.0.12": "ssh-ed25519 AAAA..."}'
    """
    path = posixpath.join(_home(), SSH_KNOWN)
    text = "".join(f"{address} {key}\n" for address, key in sorted(hosts.items()))
    __salt__["file.write"](path, text)
    __salt__["file.chown"](path, "postgres", "postgres")
    __salt__["file.set_mode"](path, "0600")
    return {"known": sorted(hosts)}


def revoke():
    """
    Remove the upgrade's temporary SSH trust from this node: its key, its known_hosts file
    and the authorized key line.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_upgrade_ssh.revoke
    """
    home = _home()
    removed = []
    for rel in (SSH_KEY, SSH_KEY + ".pub", SSH_KNOWN):
        path = posixpath.join(home, rel)
        if os.path.exists(path):
            os.remove(path)
            removed.append(path)
    path = _authorized_path()
    lines = _lines(path)
    kept = [line for line in lines if not line.endswith(" " + SSH_MARK)]
    if kept != lines:
        __salt__["file.write"](path, "\n".join(kept) + ("\n" if kept else ""))
        removed.append(f"{path}: {SSH_MARK}")
    return {"removed": removed}
