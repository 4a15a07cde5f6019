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
