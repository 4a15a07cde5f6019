"""
etcd authentication switched on for Patroni's user (pgha:patroni:etcd:username, issue 23).
The passwords come from pillar inside the execution module (``pgha_etcd_auth``), never
through this state's arguments.
"""

__virtualname__ = "pgha_etcd_auth"


def __virtual__():
    if "pgha_etcd_auth.enable" in __salt__:
        return __virtualname__
    return (False, "pgha_etcd_auth execution module not available")


def enabled(name, endpoint, api, prefix):
    """
    etcd's authentication is on for ``api`` (``etcd`` = the v2 API, ``etcd3`` = v3), with
    Patroni's user allowed to read and write ``prefix`` only.

    name
        a label
    endpoint
        an etcd client URL
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    which = "v2" if api == "etcd" else "v3"
    try:
        if __salt__["pgha_etcd_auth.status"](endpoint, api):
            ret["comment"] = f"etcd {which} authentication is on"
            return ret
        if __opts__["test"]:
            ret.update(result=None, changes={"auth": f"{which} on"},
                       comment=f"etcd {which} authentication would be switched on for {prefix}")
            return ret
        result = __salt__["pgha_etcd_auth.enable"](endpoint, api, prefix)
    except Exception as exc:  # pylint: disable=broad-except
        ret.update(result=False, comment=str(exc))
        return ret
    if result["changed"]:
        ret["changes"] = {"auth": f"{which} on"}
    ret["comment"] = f"etcd {which} authentication is on, Patroni's user limited to {prefix}"
    return ret
