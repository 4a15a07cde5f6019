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
    ``port`` and ``user`` are the stats page's; its password is read from pillar on the minion
    (``pgha:haproxy:stats_password``), never taken as an argument: a state's arguments show in
    ``state.show_sls`` and in the job cache.

    .. code-block:: yaml

        pgha-haproxy-ready:
          pgha_haproxy.ready:
            - vip: 10.0.0.100
            - port: 7000
            - user: admin
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    if "password" in stats:
        ret.update(result=False, comment="pgha_haproxy.ready takes no password: it reads "
                                         "pgha:haproxy:stats_password from pillar on the minion")
        return ret
    try:
        ret["comment"] = __salt__["pgha_haproxy.wait_ready"](
            vip=vip, master_port=master_port, timeout=0 if __opts__["test"] else timeout, **stats)
    except CommandExecutionError as exc:
        ret.update(result=None if __opts__["test"] else False, comment=str(exc))
    return ret
