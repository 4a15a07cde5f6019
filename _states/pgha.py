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


def existing_postgresql_matches(name, version, data_dir):
    """
    Before pgha stops a standalone PostgreSQL to hand it to Patroni (``postgresql_exists``):
    fail, changing nothing, unless it is the version and data directory pillar names.

    .. code-block:: yaml

        pgha-postgresql-existing-checked:
          pgha.existing_postgresql_matches:
            - version: 15
            - data_dir: /var/lib/postgresql/15/main
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    found = __salt__["pgha.existing_postgresql"](data_dir)
    problems = []
    if not found["version"]:
        problems.append(f"pgha:postgresql_exists is true, but no PostgreSQL runs here and "
                        f"{data_dir} holds no cluster")
    else:
        if str(found["version"]) != str(version):
            problems.append(f"pgha:postgresql:version is {version}, but the existing PostgreSQL "
                            f"is {found['version']}")
        if found["data_directory"] != data_dir:
            problems.append(f"pgha:postgresql:data_dir is {data_dir}, but the existing PostgreSQL "
                            f"uses {found['data_directory']}")
    if problems:
        ret.update(result=False, comment="nothing was stopped: " + "; ".join(problems))
        return ret
    ret["comment"] = (f"PostgreSQL {found['version']} in {data_dir} "
                      f"({'running' if found['running'] else 'stopped'}) can be taken over by Patroni")
    return ret
