"""
Patroni health gates for orchestrations. They wait and report; they never change a node, so
they report no changes and keep a re-run of an orchestration quiet. With ``test=True`` they
look once and do not wait (result ``None`` when not healthy yet).
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_patroni"


def __virtual__():
    if "pgha_patroni.wait_healthy" in __salt__:
        return __virtualname__
    return (False, "the pgha_patroni execution module is not loaded")


def _gate(name, func, *args, timeout, **kwargs):
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    # test=True looks once instead of waiting: in a dry run nothing was deployed to wait for.
    wait = 0 if __opts__.get("test") else timeout
    try:
        ret["comment"] = func(*args, timeout=wait, **kwargs)
    except CommandExecutionError as exc:
        if __opts__.get("test"):
            ret.update(result=None, comment=f"would wait up to {timeout}s: {exc}")
        else:
            ret.update(result=False, comment=str(exc))
    return ret


def healthy(name, role="member", timeout=120):
    """
    Wait until this node is healthy as ``leader``, ``replica`` or ``member``
    (see ``pgha_patroni.wait_healthy``).

    .. code-block:: yaml

        pgha-patroni-healthy:
          pgha_patroni.healthy:
            - role: replica
    """
    return _gate(name, __salt__["pgha_patroni.wait_healthy"], role=role, timeout=timeout)


def vip_ready(name, timeout=60):
    """
    Wait until the VIP ``name`` is on this node exactly when it is the leader.

    .. code-block:: yaml

        10.0.0.100:
          pgha_patroni.vip_ready: []
    """
    return _gate(name, __salt__["pgha_patroni.wait_vip"], name, timeout=timeout)
