"""
The membership this node publishes to the mine (``pgha_member``: cluster name, roles,
address), in which the other nodes find their cluster's members by exact name
(``pgha_settings.members``). pgha.prepare publishes it, so that pillars whose
``mine_functions`` predate it keep working; it changes nothing on the node, and reports no
changes when the mine already holds it.
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_settings"
MINE_KEY = "pgha_member"


def __virtual__():
    if "pgha_settings.member" in __salt__:
        return __virtualname__
    return (False, "the pgha_settings execution module is not loaded (run saltutil.sync_all)")


def member_published(name):
    """
    Make sure the mine holds this node's membership (``pgha_settings.member``) under
    ``pgha_member``.

    .. code-block:: yaml

        pgha-gate-member-published:
          pgha_settings.member_published: []
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    member = __salt__["pgha_settings.member"]()
    if not member.get("address"):
        ret["result"] = False
        ret["comment"] = "no IPv4 address found; set pgha:address in this minion's pillar"
        return ret
    current = __salt__["mine.get"](__opts__["id"], MINE_KEY).get(__opts__["id"])
    if current == member:
        ret["comment"] = f"mine {MINE_KEY} is {member}"
        return ret
    ret["changes"] = {"old": current, "new": member}
    if __opts__["test"]:
        ret["result"] = None
        ret["comment"] = f"mine {MINE_KEY} would be set to {member}"
        return ret
    try:
        sent = __salt__["mine.send"](MINE_KEY, mine_function="pgha_settings.member")
    except CommandExecutionError as exc:
        ret.update(result=False, changes={}, comment=f"mine.send failed: {exc}")
        return ret
    if sent is False:
        # mine.send reports a failed call or store by returning False, not by raising.
        ret.update(result=False, changes={}, comment=f"mine.send {MINE_KEY} failed (see the minion log)")
        return ret
    ret["comment"] = f"mine {MINE_KEY} set to {member}"
    return ret
