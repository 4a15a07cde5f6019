"""
etcd health gate for orchestrations: waits, reports, never changes anything.
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
    ``timeout`` seconds.

    .. code-block:: yaml

        pgha-etcd-healthy:
          pgha_etcd.healthy:
            - endpoints: ['http://10.0.0.11:2379', 'http://10.0.0.12:2379']
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        __salt__["pgha_etcd.wait_healthy"](endpoints, timeout=timeout)
        ret["comment"] = f"etcd healthy: {len(endpoints)} member(s)"
    except CommandExecutionError as exc:
        ret.update(result=False, comment=str(exc))
    return ret
