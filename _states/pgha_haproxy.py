"""
HAProxy gate for orchestrations: waits and reports, never changes anything.
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_haproxy"


def __virtual__():
    if "pgha_haproxy.wait_ready" in __salt__:
        return __virtualname__
    return (False, "the pgha_haproxy execution module is not loaded")


def ready(name, vip=None, master_port=5000, timeout=60, **stats):
    """
    Succeed once HAProxy routes ``master_port`` to exactly one primary (and the VIP answers).

    .. code-block:: yaml

        pgha-haproxy-ready:
          pgha_haproxy.ready:
            - vip: 10.0.0.100
            - port: 7000
            - user: admin
            - password: secret
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        ret["comment"] = __salt__["pgha_haproxy.wait_ready"](
            vip=vip, master_port=master_port, timeout=0 if __opts__["test"] else timeout, **stats)
    except CommandExecutionError as exc:
        ret.update(result=None if __opts__["test"] else False, comment=str(exc))
    return ret
