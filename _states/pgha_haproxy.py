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


def fd_limits(name, maxconn):
    """
    Fail before HAProxy's configuration or service change when this host cannot give HAProxy
    the open files ``maxconn`` needs (``pgha_limits.haproxy_check``): HAProxy 3.0 and later
    would refuse to start, and the deploy would only see that as an unreachable stats page.
    Before 3.0 HAProxy starts with fewer connections: the state succeeds and warns. Changes
    nothing, so a dry run reports the same (``None`` when HAProxy's version is not known yet).

    .. code-block:: yaml

        pgha-haproxy-fd-limits-checked:
          pgha_haproxy.fd_limits:
            - maxconn: 10000
            - failhard: true
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    if "pgha_limits.haproxy_check" not in __salt__:
        ret.update(result=False, comment="the pgha_limits execution module is not loaded")
        return ret
    verdict = __salt__["pgha_limits.haproxy_check"](maxconn)
    ret["comment"] = verdict["message"]
    if verdict["level"] == "warn":
        ret["comment"] = "Warning: " + verdict["message"]
    elif verdict["level"] == "error":
        # a dry run before HAProxy is installed cannot know whether it would refuse
        unsure = __opts__["test"] and verdict.get("strict") is None
        ret["result"] = None if unsure else False
    return ret
