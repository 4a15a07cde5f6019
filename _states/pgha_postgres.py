"""
Roles, databases, extensions and PgBouncer's auth function on the local PostgreSQL, by
``pgha_postgres`` (every name quoted as an identifier, every value as a literal).

No state here takes a password: a role's password is read on the minion from the pillar key
``password_pillar`` names, so it never shows in ``state.show_sls``, the job cache or a return.

.. code-block:: yaml

    "pgha-postgresql-user-My \"App\"-present":
      pgha_postgres.role_present:
        - name: "My \"App\""
        - password_pillar: pgha:postgresql:users:0:password
        - login: true
        - createdb: false
        - runas: postgres
        - port: 5432
        - host: /var/run/postgresql
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_postgres"
CONNECTION = ("runas", "port", "host")


def __virtual__():
    return __virtualname__


def _apply(name, what, function, *args, **kwargs):
    """Ask ``function`` what would change (always), then change it unless in test mode."""
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    test = bool(__opts__.get("test"))
    try:
        changes = __salt__[function](*args, test=True, **kwargs)
        if not changes:
            ret["comment"] = f"{what} is as wanted"
            return ret
        if test:
            ret.update(result=None, changes=changes, comment=f"{what} would change")
            return ret
        ret["changes"] = __salt__[function](*args, **kwargs)
        ret["comment"] = f"{what} changed" if ret["changes"] else f"{what} is as wanted"
    except CommandExecutionError as exc:
        ret.update(result=False, changes={}, comment=f"{what}: {exc}")
    return ret


def _conn(kwargs):
    unknown = set(kwargs) - set(CONNECTION) - {k for k in kwargs if k.startswith("__")}
    if unknown:
        raise CommandExecutionError(f"unknown arguments {sorted(unknown)} (a password is never "
                                    "an argument: name its pillar key in password_pillar)")
    return {k: kwargs[k] for k in CONNECTION if k in kwargs}


def role_present(name, password_pillar=None, login=None, superuser=None, createdb=None,
                 createrole=None, replication=None, **kwargs):
    """
    Ensure the role ``name`` (exact case, any characters, at most 63 bytes) exists with the
    given attributes (an attribute left out is not changed) and, when ``password_pillar`` names
    a pillar key, the password found there (SCRAM-SHA-256; compared by recomputing the stored
    verifier, so an unchanged password is no change). Connection: ``runas`` (the OS user that
    owns PostgreSQL, peer authentication over the socket), ``port``, ``host`` (socket dir).
    """
    try:
        conn = _conn(kwargs)
    except CommandExecutionError as exc:
        return {"name": name, "result": False, "changes": {}, "comment": str(exc)}
    return _apply(name, f"role {name!r}", "pgha_postgres.role_present", name,
                  password_pillar=password_pillar, login=login, superuser=superuser,
                  createdb=createdb, createrole=createrole, replication=replication, **conn)


def database_present(name, owner=None, encoding=None, lc_collate=None, lc_ctype=None, **kwargs):
    """
    Ensure the database ``name`` exists (created from template0); an existing one gets
    ``owner``, and fails the state if its encoding or locale differ (never changed here).
    """
    try:
        conn = _conn(kwargs)
    except CommandExecutionError as exc:
        return {"name": name, "result": False, "changes": {}, "comment": str(exc)}
    return _apply(name, f"database {name!r}", "pgha_postgres.database_present", name, owner=owner,
                  encoding=encoding, lc_collate=lc_collate, lc_ctype=lc_ctype, **conn)


def extension_present(name, db, schema=None, preload=None, **kwargs):
    """Ensure the extension ``name`` exists in database ``db`` (in ``schema`` when given).
    ``preload``: the library it needs in shared_preload_libraries. pgha put it in Patroni's
    configuration; until PostgreSQL restarts with it (Patroni: pending_restart) the extension
    waits, with a warning that says so: the restart is the user's to ask for (pgha.config's
    rolling restart, patronictl restart), never done here."""
    try:
        conn = _conn(kwargs)
        if preload and __salt__["pgha_postgres.preload_missing"](preload, **conn):
            return {"name": name, "result": True, "changes": {},
                    "comment": f"extension {name!r} in {db!r} waits for a restart: {preload!r} is not loaded yet",
                    "warnings": [f"extension {name!r} needs {preload!r} in shared_preload_libraries: it is in "
                                 "Patroni's configuration and PostgreSQL must restart to load it (Patroni shows "
                                 "pending_restart). pgha restarts nothing by itself: run the pgha.config "
                                 "orchestration or `patronictl restart`, then apply again."]}
    except CommandExecutionError as exc:
        return {"name": name, "result": False, "changes": {}, "comment": str(exc)}
    return _apply(name, f"extension {name!r} in {db!r}", "pgha_postgres.extension_present",
                  name, db, schema=schema, **conn)


def auth_function_present(name, auth_user, **kwargs):
    """
    Ensure PgBouncer's auth_query function ``pgbouncer.get_auth(text)`` in database ``name``,
    callable by the role ``auth_user`` only.
    """
    try:
        conn = _conn(kwargs)
    except CommandExecutionError as exc:
        return {"name": name, "result": False, "changes": {}, "comment": str(exc)}
    return _apply(name, f"PgBouncer's auth function in {name!r}", "pgha_postgres.auth_function_present",
                  auth_user, name, **conn)


# -- application roles and objects (issue 22) ------------------------------------------------

def _state(name, what, function, *args, **kwargs):
    """_apply with the connection arguments checked (a password is never an argument)."""
    conn_keys = {k: kwargs.pop(k) for k in list(kwargs) if k in CONNECTION or k.startswith("__")}
    try:
        conn = _conn(conn_keys)
    except CommandExecutionError as exc:
        return {"name": name, "result": False, "changes": {}, "comment": str(exc)}
    return _apply(name, what, function, *args, **kwargs, **conn)


def role_membership(name, groups=None, conn_limit=None, **kwargs):
    """Ensure the role ``name`` is a member of each of ``groups`` (others stay) and has the
    connection limit ``conn_limit`` (-1: none; left out: not changed)."""
    return _state(name, f"role {name!r}'s membership", "pgha_postgres.role_membership", name,
                  groups=groups, conn_limit=conn_limit, **kwargs)


def role_absent(name, reassign_owned_to=None, **kwargs):
    """Ensure the role ``name`` does not exist. Refused while it owns objects or holds
    privileges, unless ``reassign_owned_to`` names who gets them (REASSIGN OWNED and DROP
    OWNED in every database where it has some)."""
    return _state(name, f"role {name!r}", "pgha_postgres.role_absent", name,
                  reassign_owned_to=reassign_owned_to, **kwargs)


def database_conn_limit(name, conn_limit, **kwargs):
    """Ensure the database ``name`` has the connection limit ``conn_limit`` (-1: none)."""
    return _state(name, f"database {name!r}'s connection limit", "pgha_postgres.database_conn_limit", name,
                  conn_limit, **kwargs)


def database_absent(name, **kwargs):
    """Ensure the database ``name`` does not exist (dropped with its data; postgres and the
    templates never are)."""
    return _state(name, f"database {name!r}", "pgha_postgres.database_absent", name, **kwargs)


def schema_present(name, db, owner=None, **kwargs):
    """Ensure the schema ``name`` exists in database ``db``, owned by ``owner`` when given."""
    return _state(name, f"schema {name!r} in {db!r}", "pgha_postgres.schema_present", name, db,
                  owner=owner, **kwargs)


def privileges_present(name, db, type, roles, privs, objs, schema=None, target_roles=None,  # pylint: disable=redefined-builtin
                       grant_option=False, ensure="present", exact=False, **kwargs):
    """Ensure the privileges of one ``postgresql:privs`` entry (its canonical form, see
    ``pgha_privs.canonical``): granted (the entry's ``state: present``, and with ``exact`` nothing
    more for these roles on these objects) or revoked (``state: absent``). The entry's ``state``
    arrives as ``ensure``: ``state`` is a key of Salt's own in every state's data (the module's
    name), so an argument of that name never reaches the function."""
    return _state(name, f"privileges {name}", "pgha_postgres.privileges_present", db, type, roles, privs, objs,
                  schema=schema, target_roles=target_roles, grant_option=grant_option, state=ensure,
                  exact=exact, **kwargs)

