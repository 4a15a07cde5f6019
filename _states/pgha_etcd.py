"""
etcd health gate for orchestrations: waits, reports, never changes anything. With
``test=True`` it looks once and does not wait (result ``None`` when not healthy yet).
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_etcd"


def __virtual__():
    if "pgha_etcd.wait_healthy" in __salt__:
        return __virtualname__
    return (False, "the pgha_etcd execution module is not loaded")


def healthy(name, endpoints, timeout=90):
    """
    Succeed once every etcd endpoint reports healthy; fail with each member's answer after
    ``timeout`` seconds. With ``test=True`` it looks once and does not wait.

    .. code-block:: yaml

        pgha-etcd-healthy:
          pgha_etcd.healthy:
            - endpoints: ['http://10.0.0.11:2379', 'http://10.0.0.12:2379']
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    # test=True looks once instead of waiting: in a dry run nothing was deployed to wait for.
    wait = 0 if __opts__.get("test") else timeout
    try:
        __salt__["pgha_etcd.wait_healthy"](endpoints, timeout=wait)
        ret["comment"] = f"etcd healthy: {len(endpoints)} member(s)"
    except CommandExecutionError as exc:
        if __opts__.get("test"):
            ret.update(result=None, comment=f"would wait up to {timeout}s for etcd: {exc}")
        else:
            ret.update(result=False, comment=str(exc))
    return ret


def _membership(name, endpoints, func, verb):
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        current = __salt__["pgha_etcd.members"](endpoints)
        present = any(name in m["peer_urls"] or m["name"] == name for m in current)
        if present == (verb == "add"):
            ret["comment"] = f"{name} is {'already' if present else 'not'} an etcd member"
            return ret
        if __opts__.get("test"):
            ret.update(result=None, changes={verb: name}, comment=f"would {verb} etcd member {name}")
            return ret
        __salt__[func](endpoints, name)
    except CommandExecutionError as exc:
        ret.update(result=False, comment=str(exc))
        return ret
    ret.update(changes={verb: name}, comment=f"etcd member {name}: {verb} done")
    return ret


def member_added(name, endpoints):
    """
    Make the member with peer URL ``name`` part of the running etcd cluster (``member add``),
    before it starts with ``initial-cluster-state: existing``.

    .. code-block:: yaml

        pgha-etcd-member-added:
          pgha_etcd.member_added:
            - name: http://10.0.0.14:2380
            - endpoints: ['http://10.0.0.11:2379']
    """
    return _membership(name, endpoints, "pgha_etcd.member_add", "add")


def member_removed(name, endpoints):
    """
    Take member ``name`` (etcd name or peer URL) out of the etcd cluster; refused when the
    members left would have no quorum.

    .. code-block:: yaml

        pgha-etcd-member-removed:
          pgha_etcd.member_removed:
            - name: pg4
            - endpoints: ['http://10.0.0.11:2379']
    """
    return _membership(name, endpoints, "pgha_etcd.member_remove", "remove")
