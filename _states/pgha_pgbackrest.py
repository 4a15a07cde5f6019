"""pgBackRest states for pgha: the stanza exists in the repository."""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_pgbackrest"


def __virtual__():
    if "pgha_pgbackrest.stanza_exists" in __salt__:
        return __virtualname__
    return (False, "the pgha_pgbackrest execution module is not loaded")


def stanza_created(name):
    """
    Create stanza ``name`` when the repository lacks it, then check that WAL reaches the
    archive. Run on the primary.

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
        ret["comment"] = __salt__["pgha_pgbackrest.check"](name)
    except CommandExecutionError as exc:
        ret.update(result=False, comment=str(exc))
        return ret
    ret["changes"] = {"stanza": name}
    return ret
