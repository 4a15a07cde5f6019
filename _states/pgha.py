"""
States for pgha's orchestration: pillar validation and the address published to the mine.
Neither changes the node; both report no changes when all is well, so a re-run is quiet.
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha"
MINE_KEY = "pgha_address"


def __virtual__():
    if "pgha.validate" in __salt__:
        return __virtualname__
    return (False, "the pgha execution module is not loaded (run saltutil.sync_all)")


def pillar_valid(name):
    """
    Fail, naming every bad pillar key, when this minion's ``pgha`` pillar is invalid.

    .. code-block:: yaml

        pgha-pillar-valid:
          pgha.pillar_valid: []
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": "pgha pillar is valid"}
    problems = __salt__["pgha.validate"]()
    if problems:
        ret["result"] = False
        ret["comment"] = "invalid pillar, nothing was changed:\n" + "\n".join(problems)
    return ret


def address_published(name, mine_key=MINE_KEY):
    """
    Make sure the mine holds this node's cluster address (``pgha.address``) under ``mine_key``,
    which the other nodes' states read for peers, pg_hba and etcd members.

    .. code-block:: yaml

        pgha-address-published:
          pgha.address_published: []
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    address = __salt__["pgha.address"]()
    if not address:
        ret["result"] = False
        ret["comment"] = "no IPv4 address found; set pgha:address in this minion's pillar"
        return ret
    current = __salt__["mine.get"](__opts__["id"], mine_key).get(__opts__["id"])
    if current == address:
        ret["comment"] = f"mine {mine_key} is {address}"
        return ret
    ret["changes"] = {"old": current, "new": address}
    if __opts__["test"]:
        ret["result"] = None
        ret["comment"] = f"mine {mine_key} would be set to {address}"
        return ret
    try:
        sent = __salt__["mine.send"](mine_key, mine_function="pgha.address")
    except CommandExecutionError as exc:
        ret.update(result=False, changes={}, comment=f"mine.send failed: {exc}")
        return ret
    if sent is False:
        # mine.send reports a failed call or store by returning False, not by raising.
        ret.update(result=False, changes={}, comment=f"mine.send {mine_key} failed (see the minion log)")
        return ret
    ret["comment"] = f"mine {mine_key} set to {address}"
    return ret
