"""pgBackRest states for pgha: the stanza exists in the repository; a data directory restored
from it (pgha.restore)."""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_pgbackrest"


def __virtual__():
    if "pgha_pgbackrest.stanza_exists" in __salt__:
        return __virtualname__
    return (False, "the pgha_pgbackrest execution module is not loaded")


def stanza_created(name, paused_archive_command=None):
    """
    Create stanza ``name`` when the repository lacks it, then check that WAL reaches the
    archive (unless archiving is paused after a restore: archive_command is
    ``paused_archive_command``). Run on the primary.

    .. code-block:: yaml

        pgha-pgbackrest-stanza-created:
          pgha_pgbackrest.stanza_created:
            - name: main
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        if __salt__["pgha_pgbackrest.stanza_exists"](name):
            ret["comment"] = f"stanza {name} exists"
            return ret
        if __opts__.get("test"):
            ret.update(result=None, changes={"stanza": name}, comment=f"would create stanza {name}")
            return ret
        __salt__["pgha_pgbackrest.stanza_create"](name)
        if paused_archive_command and __salt__["pgha_patroni.show_config"]().get(
                "postgresql", {}).get("parameters", {}).get("archive_command") == paused_archive_command:
            ret["comment"] = f"stanza {name} created; not checked: WAL archiving is paused after a restore"
        else:
            ret["comment"] = __salt__["pgha_pgbackrest.check"](name)
    except CommandExecutionError as exc:
        ret.update(result=False, comment=str(exc))
        return ret
    ret["changes"] = {"stanza": name}
    return ret


def restored(name, data_dir, bin_dir, target_type="default", target=None, backup_set=None,
             standby=False, port=5432, socket_dir="/var/run/postgresql", timeout=86400):
    """
    Restore stanza ``name`` into ``data_dir`` (``--delta``: only files that differ are
    copied); PostgreSQL must be stopped. Then recovery runs to the target and promotes, and
    PostgreSQL stops again for Patroni to start (the primary of pgha.restore). With
    ``standby``, the backup the target restores from is restored as a standby instead, which
    follows the archive to the primary's new timeline when Patroni starts it as a replica.

    .. code-block:: yaml

        pgha-restore-primary-restored:
          pgha_pgbackrest.restored:
            - name: main
            - data_dir: /var/lib/postgresql/15/main
            - bin_dir: /usr/lib/postgresql/15/bin
            - target_type: time
            - target: '2026-11-26 04:00:00+00'
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    what = f"{target_type} {target}" if target else target_type
    if __opts__.get("test"):
        ret.update(result=None, changes={"restored": what},
                   comment=f"would restore stanza {name} into {data_dir} ("
                           + (f"a standby from the backup for {what})" if standby else f"{what}), recover and promote"))
        return ret
    try:
        if standby:
            label = __salt__["pgha_pgbackrest.restorable"](target_type, target, backup_set, stanza=name)["label"]
            __salt__["pgha_pgbackrest.restore"](target_type="standby", backup_set=label, stanza=name,
                                                timeout=timeout)
            ret.update(changes={"restored": f"standby from {label}"},
                       comment=f"stanza {name} backup {label} restored into {data_dir} as a standby")
            return ret
        __salt__["pgha_pgbackrest.restore"](target_type=target_type, target=target,
                                            backup_set=backup_set, stanza=name, timeout=timeout)
        changes = {"restored": what}
        changes.update(__salt__["pgha_pgbackrest.recover"](data_dir, bin_dir, port=port,
                                                          socket_dir=socket_dir, timeout=timeout))
    except CommandExecutionError as exc:
        ret.update(result=False, comment=str(exc))
        return ret
    ret.update(changes=changes, comment=f"stanza {name} restored into {data_dir} ({what}), "
                                        f"promoted on timeline {changes['timeline']}")
    return ret


MINE_KEY = "pgha_ssh"


def ssh_published(name):
    """
    Make sure the mine (``pgha_ssh``) holds user ``name``'s SSH public key and this host's
    key (``pgha_pgbackrest.ssh_identity``), for the other side of a repository host to trust.

    .. code-block:: yaml

        postgres:
          pgha_pgbackrest.ssh_published: []
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        identity = __salt__["pgha_pgbackrest.ssh_identity"](name)
    except CommandExecutionError as exc:
        ret.update(result=False, comment=str(exc))
        return ret
    current = __salt__["mine.get"](__opts__["id"], MINE_KEY).get(__opts__["id"])
    if current == identity:
        ret["comment"] = f"mine {MINE_KEY} holds {name}'s key"
        return ret
    ret["changes"] = {"key": identity["key"]}
    if __opts__.get("test"):
        ret.update(result=None, comment=f"would publish {name}'s key to mine {MINE_KEY}")
        return ret
    if __salt__["mine.send"](MINE_KEY, mine_function="pgha_pgbackrest.ssh_identity", user=name) is False:
        ret.update(result=False, changes={}, comment=f"mine.send {MINE_KEY} failed")
        return ret
    ret["comment"] = f"published {name}'s key to mine {MINE_KEY}"
    return ret
