"""
Roles, databases, extensions and PgBouncer's auth function on the PostgreSQL running here,
with every name quoted by ``psycopg2.sql.Identifier`` and every value by ``sql.Literal``.

Salt's ``postgres_*`` modules build ``CREATE ROLE "{name}"`` as text (a ``"`` in a name ends
the identifier) and take passwords as arguments (they show in ``state.show_sls`` and the job
cache). Here a name is never SQL text, and a password is read from pillar on the minion by the
key the caller names (``password_pillar``), turned into a SCRAM-SHA-256 verifier here, and
never returned, logged or put on a command line.

How it connects: as the ``postgres`` OS user over the local socket (pg_hba's ``local ...
peer`` line), which works before any password is right (a restored backup, a standalone
instance being adopted). The minion runs as root, so a small constant Python program
(``RUNNER``) runs as that user with the minion's own Python and psycopg2; the statements reach
it on stdin as templates, identifiers and literals, and it composes them with ``psycopg2.sql``.
Its argv holds no data at all.
"""
import base64
import hashlib
import hmac
import json
import logging
import os
import stringprep
import sys
import unicodedata

import salt.utils.data
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha_postgres"

MAX_IDENTIFIER_BYTES = 63        # NAMEDATALEN - 1: PostgreSQL cuts longer names silently
SCRAM_ITERATIONS = 4096          # PostgreSQL's scram_iterations default
ROLE_FLAGS = {                   # argument: (pg_authid column, keyword when true)
    "superuser": ("rolsuper", "SUPERUSER"),
    "createdb": ("rolcreatedb", "CREATEDB"),
    "createrole": ("rolcreaterole", "CREATEROLE"),
    "login": ("rolcanlogin", "LOGIN"),
    "replication": ("rolreplication", "REPLICATION"),
}
AUTH_SCHEMA = "pgbouncer"
AUTH_FUNCTION_BODY = " SELECT usename, passwd FROM pg_shadow WHERE usename = p_usename "

# Runs as the postgres OS user. Reads {"conn": {...}, "ops": [[template, [arg, ...]], ...]}
# from stdin: each arg is {"i": [part, ...]} (an identifier, schema-qualified when two parts)
# or {"l": value} (a literal). No query parameters: with them psycopg2 would also read a `%`
# inside a quoted identifier as a placeholder. On an error it prints the server's primary
# message only: the statement (with a password verifier) stays out of the error.
RUNNER = r"""
import json, sys
import psycopg2
from psycopg2 import sql
req = json.load(sys.stdin)
def arg(a):
    return sql.Identifier(*a["i"]) if "i" in a else sql.Literal(a["l"])
try:
    conn = psycopg2.connect(connect_timeout=5, application_name="pgha", client_encoding="UTF8", **req["conn"])
except psycopg2.Error as exc:
    sys.exit("cannot connect: %s" % (str(exc).strip().splitlines() or ["?"])[0])
conn.autocommit = True
out = []
with conn.cursor() as cur:
    for n, (template, args) in enumerate(req["ops"]):
        try:
            cur.execute(sql.SQL(template).format(*[arg(a) for a in args]))
        except psycopg2.Error as exc:
            sys.exit("statement %d (%s ...): %s" % (n, template.split("{")[0].strip(),
                     exc.diag.message_primary or exc.pgcode))
        out.append([list(r) for r in cur.fetchall()] if cur.description else None)
conn.close()
json.dump(out, sys.stdout)
"""


def __virtual__():
    # RUNNER runs with this same Python: psycopg2 must be importable here
    try:
        import psycopg2  # pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return (False, "pgha_postgres: psycopg2 is not installed in the minion's Python "
                       "(requirements-node.txt)")
    return __virtualname__


# -- values ----------------------------------------------------------------------------------

def check_identifier(name, what="name"):
    """
    Raise ``CommandExecutionError`` unless ``name`` can be a PostgreSQL identifier as it is:
    a non-empty string of at most 63 bytes in UTF-8, without a NUL. Any other character is
    fine (it is quoted). Returns ``name``.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha_postgres.check_identifier 'My App'
    """
    if not isinstance(name, str) or not name:
        raise CommandExecutionError(f"{what} must be a non-empty string, got {name!r}")
    if "\x00" in name:
        raise CommandExecutionError(f"{what} {name!r} contains a NUL character")
    size = len(name.encode("utf-8"))
    if size > MAX_IDENTIFIER_BYTES:
        raise CommandExecutionError(
            f"{what} {name!r} is {size} bytes in UTF-8; PostgreSQL keeps {MAX_IDENTIFIER_BYTES} "
            "and would cut the rest, so it is refused")
    return name


def _pillar(key):
    # Read __pillar__ directly: pillar.get masks values outside templates (Salt >= 3008).
    return salt.utils.data.traverse_dict_and_list(__pillar__, key, None, delimiter=":")


def _pillar_password(key, role):
    """The password at pillar ``key``, for ``role``: when the key's parent entry names a role
    (``pgha:postgresql:users:3:password`` next to ``...:3:name``), it must be this one, so a
    list that changed under a rendered state cannot give a role another role's password."""
    parent, _, _ = key.rpartition(":")
    entry = _pillar(parent) if parent else None
    if isinstance(entry, dict) and "name" in entry and entry["name"] != role:
        raise CommandExecutionError(f"pillar {parent} is role {entry['name']!r}, not {role!r}")
    value = _pillar(key)
    if not isinstance(value, str) or not value:
        kind = "missing or empty" if value in (None, "") else f"a {type(value).__name__}, not a string"
        raise CommandExecutionError(f"pillar {key} (a password) is {kind}; quote it in YAML")
    return value


def _saslprep(password):
    """RFC 4013 SASLprep as PostgreSQL applies it to a SCRAM password (``pg_saslprep``):
    ASCII stays as it is; otherwise map, NFKC-normalise and check; a string that fails a check
    is used as it is. libpq does the same on login, so both sides derive the same key."""
    if password.isascii():
        return password
    chars = [" " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c)]
    text = unicodedata.ucd_3_2_0.normalize("NFKC", "".join(chars))
    prohibited = (stringprep.in_table_a1, stringprep.in_table_c12, stringprep.in_table_c21_c22,
                  stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
                  stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
                  stringprep.in_table_c9)
    if not text or any(check(c) for c in text for check in prohibited):
        return password
    if any(stringprep.in_table_d1(c) for c in text):
        if any(stringprep.in_table_d2(c) for c in text) or not (
                stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1])):
            return password
    return text


def _scram_keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password).encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def _scram_verifier(password, salt=None, iterations=SCRAM_ITERATIONS):
    """PostgreSQL's stored form: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>."""
    salt = salt if salt is not None else os.urandom(16)
    stored_key, server_key = _scram_keys(password, salt, iterations)
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _scram_matches(password, verifier):
    """Whether the stored ``verifier`` is of ``password``: recomputed with its salt and
    iteration count (an md5 hash or no password does not match)."""
    try:
        method, rest = verifier.split("$", 1)
        head, keys = rest.split("$", 1)
        iterations, salt = head.split(":", 1)
        stored_b64, server_b64 = keys.split(":", 1)
        if method != "SCRAM-SHA-256":
            return False
        stored_key, server_key = _scram_keys(password, base64.b64decode(salt), int(iterations))
    except (AttributeError, ValueError, TypeError):
        return False
    return (hmac.compare_digest(stored_key, base64.b64decode(stored_b64))
            and hmac.compare_digest(server_key, base64.b64decode(server_b64)))


# -- plumbing --------------------------------------------------------------------------------

def _i(*parts):
    return {"i": [check_identifier(p) for p in parts]}


def _l(value):
    return {"l": value}


def _execute(ops, dbname="postgres", runas="postgres", port=5432, host="/var/run/postgresql"):
    """Run ``ops`` (``[(template, [arg, ...]), ...]``) in one autocommit session of ``dbname``
    as the OS user ``runas``; return each statement's rows (``None`` for no result)."""
    request = {"conn": {"dbname": dbname, "port": int(port), "host": host},
               "ops": [[template, list(args)] for template, args in ops]}
    # quiet: stdout holds stored password verifiers; stdin (verifiers to set) is never logged
    res = __salt__["cmd.run_all"]([sys.executable, "-c", RUNNER], runas=runas, stdin=json.dumps(request),
                                  python_shell=False, ignore_retcode=True, output_loglevel="quiet",
                                  env={"PGAPPNAME": "pgha"})
    if res.get("retcode") != 0:
        raise CommandExecutionError(f"PostgreSQL ({dbname}): {(res.get('stderr') or '').strip()}")
    return json.loads(res["stdout"])


def _conn(kwargs):
    return {k: kwargs[k] for k in ("runas", "port", "host") if kwargs.get(k) is not None}


def _missing_database(db, conn, test):
    """In test mode a database that a state before would create does not exist yet: tell
    that instead of failing to connect to it."""
    if not test:
        return False
    rows = _execute([("SELECT 1 FROM pg_catalog.pg_database WHERE datname = {}", [_l(db)])],
                    **{k: v for k, v in conn.items() if k != "dbname"})[0]
    return not rows


# -- roles -----------------------------------------------------------------------------------

def _role(name, conn):
    rows = _execute([("SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolreplication, "
                      "rolpassword FROM pg_catalog.pg_authid WHERE rolname = {}", [_l(name)])], **conn)[0]
    if not rows:
        return None
    flags = dict(zip([column for column, _ in ROLE_FLAGS.values()], rows[0][:5]))
    return {"flags": {arg: flags[column] for arg, (column, _) in ROLE_FLAGS.items()},
            "verifier": rows[0][5]}


def _role_plan(name, password_pillar, wanted, conn):
    """(changes without secrets, statements) that make role ``name`` as wanted."""
    check_identifier(name, "role name")
    unknown = set(wanted) - set(ROLE_FLAGS)
    if unknown:
        raise CommandExecutionError(f"unknown role attributes: {sorted(unknown)}")
    wanted = {k: v for k, v in wanted.items() if v is not None}
    for key, value in wanted.items():
        if not isinstance(value, bool):   # 'no' from YAML would be true
            raise CommandExecutionError(f"role {name!r}: {key} must be true or false, got {value!r}")
    password = _pillar_password(password_pillar, name) if password_pillar else None
    current = _role(name, conn)
    keywords = lambda flags: " ".join(  # noqa: E731  constant keywords chosen by booleans only
        ROLE_FLAGS[k][1] if v else "NO" + ROLE_FLAGS[k][1] for k, v in sorted(flags.items()))
    if current is None:
        changes = {"role": "created", **{k: v for k, v in sorted(wanted.items())}}
        template, args = "CREATE ROLE {}", [_i(name)]
        if wanted:
            template += " WITH " + keywords(wanted)
        if password is not None:
            changes["password"] = "set"
            template += " PASSWORD {}"
            args.append(_l(_scram_verifier(password)))
        return changes, [(template, args)]
    changes, ops = {}, []
    differ = {k: v for k, v in wanted.items() if current["flags"][k] != v}
    if differ:
        changes.update({k: {"old": current["flags"][k], "new": v} for k, v in sorted(differ.items())})
        ops.append(("ALTER ROLE {} WITH " + keywords(differ), [_i(name)]))
    if password is not None and not _scram_matches(password, current["verifier"]):
        changes["password"] = "changed"
        ops.append(("ALTER ROLE {} PASSWORD {}", [_i(name), _l(_scram_verifier(password))]))
    return changes, ops


def role_present(name, password_pillar=None, login=None, superuser=None, createdb=None,
                 createrole=None, replication=None, test=False, **kwargs):
    """
    Make the role ``name`` exist with the given attributes (``None``: left as it is, or
    PostgreSQL's default on creation) and, with ``password_pillar`` (a pillar key such as
    ``pgha:postgresql:users:0:password``), the password found there, stored as SCRAM-SHA-256.
    Returns the changes (``{}``: none), never the password. ``test=True`` changes nothing.
    Connection: ``runas`` (OS user, ``postgres``), ``port`` (5432), ``host`` (socket dir).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.role_present 'My App' password_pillar=pgha:postgresql:users:0:password login=True
    """
    conn = _conn(kwargs)
    wanted = {"login": login, "superuser": superuser, "createdb": createdb,
              "createrole": createrole, "replication": replication}
    changes, ops = _role_plan(name, password_pillar, wanted, conn)
    if ops and not test:
        _execute(ops, **conn)
    return changes


# -- databases -------------------------------------------------------------------------------

def database_present(name, owner=None, encoding=None, lc_collate=None, lc_ctype=None, test=False, **kwargs):
    """
    Make the database ``name`` exist, created from template0 with ``owner``, ``encoding``,
    ``lc_collate`` and ``lc_ctype``. An existing database gets its owner set; its encoding and
    locale are never changed (that needs a dump and restore): a difference raises. Returns the
    changes (``{}``: none); ``test=True`` changes nothing.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.database_present appdb owner=app encoding=UTF8 lc_collate=C.UTF-8 lc_ctype=C.UTF-8
    """
    conn = _conn(kwargs)
    check_identifier(name, "database name")
    if owner is not None:
        check_identifier(owner, "owner")
    rows = _execute([("SELECT pg_catalog.pg_encoding_to_char(encoding), datcollate, datctype, "
                      "pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = {}",
                      [_l(name)])], **conn)[0]
    if not rows:
        template, args = "CREATE DATABASE {}", [_i(name)]
        changes = {"database": "created"}
        for keyword, value, key in (("OWNER", owner, "owner"), ("ENCODING", encoding, "encoding"),
                                    ("LC_COLLATE", lc_collate, "lc_collate"), ("LC_CTYPE", lc_ctype, "lc_ctype")):
            if value is not None:
                template += f" {keyword} {{}}"
                args.append(_i(value) if key == "owner" else _l(str(value)))
                changes[key] = value
        template += " TEMPLATE template0"
        if not test:
            _execute([(template, args)], **conn)
        return changes
    current = dict(zip(("encoding", "lc_collate", "lc_ctype", "owner"), rows[0]))
    fixed = [f"{key} is {current[key]!r}, pillar says {value!r}"
             for key, value in (("encoding", encoding), ("lc_collate", lc_collate), ("lc_ctype", lc_ctype))
             if value is not None and str(value).lower() != str(current[key]).lower()]
    if fixed:
        raise CommandExecutionError(f"database {name!r} exists and " + "; ".join(fixed)
                                    + ": pgha does not change that (it needs a dump and restore)")
    if owner is None or current["owner"] == owner:
        return {}
    if not test:
        _execute([("ALTER DATABASE {} OWNER TO {}", [_i(name), _i(owner)])], **conn)
    return {"owner": {"old": current["owner"], "new": owner}}


# -- extensions ------------------------------------------------------------------------------

def extension_present(name, db, schema=None, test=False, **kwargs):
    """
    Make the extension ``name`` exist in database ``db`` (in ``schema`` when given: moved there
    if it is elsewhere). Returns the changes (``{}``: none); ``test=True`` changes nothing.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.extension_present pg_trgm appdb schema=public
    """
    conn = {**_conn(kwargs), "dbname": check_identifier(db, "database name")}
    check_identifier(name, "extension name")
    if schema is not None:
        check_identifier(schema, "schema")
    if _missing_database(db, conn, test):
        return {"extension": "created", **({"schema": schema} if schema is not None else {})}
    rows = _execute([("SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
                      "ON n.oid = e.extnamespace WHERE e.extname = {}", [_l(name)])], **conn)[0]
    if not rows:
        template, args = "CREATE EXTENSION IF NOT EXISTS {}", [_i(name)]
        changes = {"extension": "created"}
        if schema is not None:
            template += " SCHEMA {}"
            args.append(_i(schema))
            changes["schema"] = schema
        ops = [(template, args)]
    elif schema is not None and rows[0][0] != schema:
        changes = {"schema": {"old": rows[0][0], "new": schema}}
        ops = [("ALTER EXTENSION {} SET SCHEMA {}", [_i(name), _i(schema)])]
    else:
        return {}
    if not test:
        _execute(ops, **conn)
    return changes


# -- PgBouncer's auth_query function ---------------------------------------------------------

AUTH_FUNCTION_OPS = [
    ("CREATE SCHEMA IF NOT EXISTS {}", "schema"),
    ("CREATE OR REPLACE FUNCTION {}(p_usename text) RETURNS TABLE(usename name, passwd text) "
     "LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS {}", "function"),
    ("REVOKE ALL ON FUNCTION {}(text) FROM PUBLIC", "function"),
    ("GRANT USAGE ON SCHEMA {} TO {}", "schema"),
    ("GRANT EXECUTE ON FUNCTION {}(text) TO {}", "function"),
]


def auth_function_present(auth_user, db, test=False, **kwargs):
    """
    Make PgBouncer's auth_query function ``pgbouncer.get_auth(text)`` exist in database ``db``:
    SECURITY DEFINER (it reads pg_shadow for ``auth_user``, who needs no other right), not
    callable by PUBLIC, callable by ``auth_user`` (an existing role, exact case). Returns the
    changes (``{}``: none); ``test=True`` changes nothing.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.auth_function_present pgbouncer template1
    """
    conn = {**_conn(kwargs), "dbname": check_identifier(db, "database name")}
    check_identifier(auth_user, "auth_user")
    if _missing_database(db, conn, test):
        return {"auth_function": f"{AUTH_SCHEMA}.get_auth(text) for {auth_user}", "fixed": ["function"]}
    # The role by OID: a role name as text is exact, but the OID also tells a missing role.
    rows = _execute([(
        "SELECT p.prosrc, p.prosecdef, "
        "pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE'), "
        "pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE'), "
        "pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') "
        "FROM pg_catalog.pg_roles r "
        "LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = {} "
        "LEFT JOIN pg_catalog.pg_proc p ON p.pronamespace = n.oid AND p.proname = 'get_auth' "
        "AND p.proargtypes = '25'::pg_catalog.oidvector "
        "WHERE r.rolname = {}", [_l(AUTH_SCHEMA), _l(auth_user)])], **conn)[0]
    if not rows and not test:
        raise CommandExecutionError(f"role {auth_user!r} (pgha:pgbouncer:auth_user:name) does not exist")
    src, secdef, usage, execute, public = rows[0] if rows else (None, None, False, False, False)
    wrong = []
    if src != AUTH_FUNCTION_BODY or not secdef:
        wrong.append("function")
    if public:
        wrong.append("public execute")
    if not (usage and execute):
        wrong.append(f"grants to {auth_user}")
    if not wrong:
        return {}
    ops = []
    for template, target in AUTH_FUNCTION_OPS:
        first = _i(AUTH_SCHEMA) if target == "schema" else _i(AUTH_SCHEMA, "get_auth")
        args = [first]
        if template.endswith("AS {}"):
            args.append(_l(AUTH_FUNCTION_BODY))
        elif template.endswith("TO {}"):
            args.append(_i(auth_user))
        ops.append((template, args))
    if not test:
        _execute(ops, **conn)
    return {"auth_function": f"{AUTH_SCHEMA}.get_auth(text) for {auth_user}", "fixed": wrong}


# -- issue 21: PgBouncer's userlist mode ------------------------------------------------------

def scram_verifiers(names, runas="postgres", port=5432, host="/var/run/postgresql"):
    """
    ``{role: stored password}`` (``pg_authid.rolpassword``: a SCRAM verifier, an md5 hash or
    None) of the roles ``names`` that exist. For PgBouncer's userlist mode only: the template
    of its auth_file calls it (through ``pgha_pgbouncer.userlist``); the values are secrets, so
    do not call it where its return is shown.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.scram_verifiers '[app]' --out=quiet
    """
    names = [str(name) for name in names]
    for name in names:
        check_identifier(name)
    rows = _execute([("SELECT rolname, rolpassword FROM pg_catalog.pg_authid WHERE rolname = ANY({})",
                      [_l(names)])], runas=runas, port=port, host=host)[0]
    return {row[0]: row[1] for row in rows}


# -- application roles and objects (issue 22) ------------------------------------------------
# Membership and connection limits (role_present), a role's removal, a database's limit and
# removal, schemas, privileges and default privileges. Privilege keywords become SQL text: only
# these words, checked here whatever the caller passes.
PRIVILEGE_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER",
                   "USAGE", "CREATE", "CONNECT", "TEMPORARY", "EXECUTE")
KEPT_DATABASES = ("postgres", "template0", "template1")
ALL_IN_SCHEMA = "ALL_IN_SCHEMA"
# privileges' type -> (SQL keyword of GRANT ... ON, acldefault's object type)
PRIVILEGE_TARGETS = {"database": ("DATABASE", "d"), "schema": ("SCHEMA", "n"), "table": ("TABLE", "r"),
                     "sequence": ("SEQUENCE", "s"), "function": ("ROUTINE", "f")}
# default_privs objs -> (keyword, pg_default_acl's objtype, acldefault's object type)
DEFAULT_OBJECTS = {"TABLES": ("TABLES", "r", "r"), "SEQUENCES": ("SEQUENCES", "S", "s"),
                   "FUNCTIONS": ("FUNCTIONS", "f", "f"), "TYPES": ("TYPES", "T", "T"),
                   "SCHEMAS": ("SCHEMAS", "n", "n")}
# the grantee column of aclexplode as a name ('PUBLIC' for 0)
GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END"


def _names_list(value, what):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise CommandExecutionError(f"{what} must be a list of names, got {value!r}")
    return [check_identifier(v, what) for v in value]


def _grantee(role):
    # PUBLIC is a keyword, not a role: every other name is quoted
    return ("PUBLIC", []) if role == "PUBLIC" else ("{}", [_i(role)])


def _privilege_words(privs):
    words = [str(p).upper() for p in privs]
    bad = [w for w in words if w not in PRIVILEGE_WORDS]
    if bad or not words:
        raise CommandExecutionError(f"unknown privileges {bad or privs!r}; known: {', '.join(PRIVILEGE_WORDS)}")
    return words


def role_groups(name, **kwargs):
    """
    The roles ``name`` is a member of (directly), sorted.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.role_groups app
    """
    rows = _execute([("SELECT g.rolname FROM pg_catalog.pg_auth_members m "
                      "JOIN pg_catalog.pg_roles g ON g.oid = m.roleid "
                      "JOIN pg_catalog.pg_roles r ON r.oid = m.member WHERE r.rolname = {} ORDER BY 1",
                      [_l(check_identifier(name, "role name"))])], **_conn(kwargs))[0]
    return [row[0] for row in rows]


def _membership_plan(name, groups, conn_limit, exists, conn):
    """(changes, statements) for the groups ``name`` must be in (added, never removed: a
    membership granted by hand stays) and its connection limit."""
    changes, ops = {}, []
    if groups:
        have = set(role_groups(name, **conn)) if exists else set()
        missing = [g for g in _names_list(groups, "role") if g not in have]
        if missing:
            changes["groups"] = {"added": missing}
            ops += [("GRANT {} TO {}", [_i(g), _i(name)]) for g in missing]
    if conn_limit is not None:
        limit = int(conn_limit)
        current = None
        if exists:
            current = _execute([("SELECT rolconnlimit FROM pg_catalog.pg_roles WHERE rolname = {}",
                                 [_l(name)])], **conn)[0][0][0]
        if current != limit:
            changes["conn_limit"] = {"old": current, "new": limit}
            ops.append(("ALTER ROLE {} CONNECTION LIMIT {}", [_i(name), _l(limit)]))
    return changes, ops


def role_membership(name, groups=None, conn_limit=None, test=False, **kwargs):
    """
    Make the role ``name`` a member of each role in ``groups`` (autobase's
    ``postgresql_users[].role``; other memberships are left as they are) and set its
    ``conn_limit`` (-1: no limit; None: left as it is). Returns the changes; ``test=True``
    changes nothing. A role that does not exist yet (test mode) gets them all.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.role_membership app groups='[pg_monitor]' conn_limit=20
    """
    conn = _conn(kwargs)
    check_identifier(name, "role name")
    exists = _role(name, conn) is not None
    if not exists and not test:
        raise CommandExecutionError(f"role {name!r} does not exist")
    changes, ops = _membership_plan(name, groups, conn_limit, exists, conn)
    if ops and not test:
        _execute(ops, **conn)
    return changes


def role_dependencies(name, **kwargs):
    """
    ``{database: count}`` of what the role ``name`` owns or holds privileges on (pg_shdepend;
    ``""`` for shared objects: databases, tablespaces). ``{}``: nothing, DROP ROLE works.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.role_dependencies old_app
    """
    rows = _execute([("SELECT coalesce(d.datname, ''), count(*) FROM pg_catalog.pg_shdepend s "
                      "JOIN pg_catalog.pg_roles r ON r.oid = s.refobjid "
                      "LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid "
                      "WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND r.rolname = {} "
                      "AND s.deptype IN ('o', 'a', 'r', 'i') GROUP BY 1 ORDER BY 1",
                      [_l(check_identifier(name, "role name"))])], **_conn(kwargs))[0]
    return {db: count for db, count in rows}


def role_absent(name, reassign_owned_to=None, test=False, **kwargs):
    """
    Drop the role ``name``. While it owns objects or holds privileges in any database the drop
    is refused, unless ``reassign_owned_to`` names the role that gets them: then in each such
    database ``REASSIGN OWNED BY name TO reassign_owned_to`` and ``DROP OWNED BY name`` (its
    remaining privileges; ownership is per database), then ``DROP ROLE``. Returns the changes
    (``{}``: no such role); ``test=True`` changes nothing.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.role_absent old_app reassign_owned_to=app
    """
    conn = _conn(kwargs)
    check_identifier(name, "role name")
    if _role(name, conn) is None:
        return {}
    deps = role_dependencies(name, **conn)
    if deps and reassign_owned_to is None:
        where = ", ".join(f"{db!r}" if db else "shared objects (databases)" for db in deps)
        raise CommandExecutionError(
            f"role {name!r} owns objects or holds privileges in {where}: it is not dropped; set "
            "reassign_owned_to in its postgresql:users entry to the role that gets them")
    changes = {"role": "dropped"}
    databases = []
    if deps:
        check_identifier(reassign_owned_to, "reassign_owned_to")
        if _role(reassign_owned_to, conn) is None and not test:
            raise CommandExecutionError(f"role {reassign_owned_to!r} (reassign_owned_to) does not exist")
        # shared objects (a database it owns) are reassigned from any database: postgres
        databases = sorted({db for db in deps if db} | ({"postgres"} if "" in deps else set()))
        changes.update(reassigned_to=reassign_owned_to, databases=databases)
    if test:
        return changes
    for db in databases:
        _execute([("REASSIGN OWNED BY {} TO {}", [_i(name), _i(reassign_owned_to)]),
                  ("DROP OWNED BY {}", [_i(name)])], **{**conn, "dbname": db})
    _execute([("DROP ROLE {}", [_i(name)])], **conn)
    return changes


def database_conn_limit(name, conn_limit, test=False, **kwargs):
    """
    Set the connection limit of database ``name`` (-1: none). Returns the changes.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.database_conn_limit appdb 50
    """
    conn = _conn(kwargs)
    rows = _execute([("SELECT datconnlimit FROM pg_catalog.pg_database WHERE datname = {}",
                      [_l(check_identifier(name, "database name"))])], **conn)[0]
    current, limit = (rows[0][0] if rows else None), int(conn_limit)
    if current == limit:
        return {}
    if not test:
        _execute([("ALTER DATABASE {} CONNECTION LIMIT {}", [_i(name), _l(limit)])], **conn)
    return {"conn_limit": {"old": current, "new": limit}}


def database_absent(name, test=False, **kwargs):
    """
    Drop the database ``name`` and everything in it (``WITH (FORCE)``: its sessions are
    ended). postgres, template0 and template1 are never dropped. Returns the changes (``{}``:
    no such database); ``test=True`` changes nothing.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.database_absent old_appdb
    """
    conn = _conn(kwargs)
    check_identifier(name, "database name")
    if name in KEPT_DATABASES:
        raise CommandExecutionError(f"database {name!r} is one PostgreSQL and pgha need: never dropped")
    rows = _execute([("SELECT 1 FROM pg_catalog.pg_database WHERE datname = {}", [_l(name)])], **conn)[0]
    if not rows:
        return {}
    if not test:
        _execute([("DROP DATABASE {} WITH (FORCE)", [_i(name)])], **conn)
    return {"database": "dropped"}


def schema_present(name, db, owner=None, test=False, **kwargs):
    """
    Make the schema ``name`` exist in database ``db``, owned by ``owner`` when given (an
    existing schema gets that owner). Returns the changes; ``test=True`` changes nothing.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.schema_present app_schema appdb owner=app
    """
    conn = {**_conn(kwargs), "dbname": check_identifier(db, "database name")}
    check_identifier(name, "schema")
    if owner is not None:
        check_identifier(owner, "owner")
    if _missing_database(db, conn, test):
        return {"schema": "created", **({"owner": owner} if owner else {})}
    rows = _execute([("SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace "
                      "WHERE nspname = {}", [_l(name)])], **conn)[0]
    if not rows:
        template, args, changes = "CREATE SCHEMA {}", [_i(name)], {"schema": "created"}
        if owner:
            template += " AUTHORIZATION {}"
            args.append(_i(owner))
            changes["owner"] = owner
        ops = [(template, args)]
    elif owner and rows[0][0] != owner:
        changes = {"owner": {"old": rows[0][0], "new": owner}}
        ops = [("ALTER SCHEMA {} OWNER TO {}", [_i(name), _i(owner)])]
    else:
        return {}
    if not test:
        _execute(ops, **conn)
    return changes


def _objects_acl(kind, objs, schema, conn):
    """{object label: (identifier parts, {grantee: {privilege: grantable}})} of the objects."""
    every = objs == [ALL_IN_SCHEMA]
    if kind == "database":
        query = ("SELECT d.datname, NULL, {}, a.privilege_type, a.is_grantable FROM pg_catalog.pg_database d "
                 "LEFT JOIN LATERAL pg_catalog.aclexplode(coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba))) a "
                 "ON true WHERE d.datname = ANY({})")
        args = [_l(objs)]
    elif kind == "schema":
        query = ("SELECT n.nspname, NULL, {}, a.privilege_type, a.is_grantable FROM pg_catalog.pg_namespace n "
                 "LEFT JOIN LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a "
                 "ON true WHERE n.nspname = ANY({})")
        args = [_l(objs)]
    elif kind in ("table", "sequence"):
        kinds = "('r', 'p', 'v', 'm', 'f')" if kind == "table" else "('S')"
        acl = "'r'" if kind == "table" else "'s'"
        query = ("SELECT c.relname, n.nspname, {}, a.privilege_type, a.is_grantable FROM pg_catalog.pg_class c "
                 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                 f"LEFT JOIN LATERAL pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault({acl}, c.relowner))) a "
                 f"ON true WHERE c.relkind IN {kinds} AND n.nspname = {{}}"
                 + ("" if every else " AND c.relname = ANY({})"))
        args = [_l(schema)] + ([] if every else [_l(objs)])
    else:   # function: by name (one function of that name: GRANT without argument types)
        query = ("SELECT p.proname, n.nspname, {}, a.privilege_type, a.is_grantable, p.oid FROM pg_catalog.pg_proc p "
                 "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                 "LEFT JOIN LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a "
                 "ON true WHERE n.nspname = {}" + ("" if every else " AND p.proname = ANY({})"))
        args = [_l(schema)] + ([] if every else [_l(objs)])
    query = query.replace("{}", GRANTEE, 1)
    rows = _execute([(query, args)], **conn)[0]
    found, oids = {}, {}
    for row in rows:
        name, nsp, grantee, priv, grantable = row[:5]
        if kind == "function":
            oids.setdefault(name, set()).add(row[5])
        parts = (nsp, name) if nsp is not None else (name,)
        acl = found.setdefault(name, (parts, {}))[1]
        if grantee is not None:
            acl.setdefault(grantee, {})[priv] = grantable
    overloaded = sorted(name for name, ids in oids.items() if len(ids) > 1 and not every)
    if overloaded:
        raise CommandExecutionError(f"function {overloaded[0]!r} in schema {schema!r} has several argument lists: "
                                    "pgha grants on a function by its name, so it must be the only one of that name")
    missing = [o for o in objs if o != ALL_IN_SCHEMA and o not in found]
    if missing:
        where = f" in schema {schema!r}" if schema else ""
        raise CommandExecutionError(f"{kind} {missing[0]!r}{where} does not exist (database {conn.get('dbname')!r})")
    return found


def _default_acl(objs, schema, owner, conn):
    """{grantee: {privilege: grantable}} of the default privileges of ``owner``'s new ``objs``."""
    _, objtype, acltype = DEFAULT_OBJECTS[objs]
    fallback = f"pg_catalog.acldefault('{acltype}', r.oid)" if schema is None else "NULL"
    query = (f"SELECT {GRANTEE}, a.privilege_type, a.is_grantable FROM pg_catalog.pg_roles r "
             "LEFT JOIN pg_catalog.pg_default_acl d ON d.defaclrole = r.oid AND d.defaclobjtype = {} "
             "AND d.defaclnamespace = coalesce((SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = {}), 0) "
             f"CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(d.defaclacl, {fallback})) a "
             "WHERE r.rolname = {}")
    acl = {}
    for grantee, priv, grantable in _execute([(query, [_l(objtype), _l(schema), _l(owner)])], **conn)[0]:
        acl.setdefault(grantee, {})[priv] = grantable
    return acl


def _privilege_ops(want, have, grant_option, state, exact):
    """(grant, revoke): privilege lists for one object and grantee."""
    if state == "absent":
        return [], [p for p in want if p in have]
    grant = [p for p in want if p not in have or (grant_option and not have[p])]
    revoke = [p for p in sorted(have) if p not in want] if exact else []
    return grant, revoke


def privileges_present(db, type, roles, privs, objs, schema=None, target_roles=None, grant_option=False,
                       state="present", exact=False, test=False, **kwargs):  # pylint: disable=redefined-builtin
    """
    Grant ``privs`` (PostgreSQL's keywords) on ``objs`` of ``type`` (database, schema, table,
    sequence, function, default_privs) in database ``db`` to each role of ``roles`` (``PUBLIC``:
    everyone); ``state=absent`` revokes them; ``exact`` also revokes from these roles, on these
    objects, what ``privs`` does not list. ``objs`` may be ``[ALL_IN_SCHEMA]`` (every table,
    sequence or function of ``schema``); for default_privs one of TABLES, SEQUENCES, FUNCTIONS,
    TYPES, SCHEMAS, for the new objects of each of ``target_roles`` (the connecting superuser
    when empty). The current privileges are read from the catalogs (aclexplode): a second run
    changes nothing. Returns the changes; ``test=True`` changes nothing.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.privileges_present appdb table '[app]' '[SELECT, INSERT]' '[ALL_IN_SCHEMA]' schema=app_schema
    """
    conn = {**_conn(kwargs), "dbname": check_identifier(db, "database name")}
    words = _privilege_words(privs)
    roles = [r if r == "PUBLIC" else check_identifier(r, "role") for r in _names_list(roles, "role")]
    if schema is not None:
        check_identifier(schema, "schema")
    if state not in ("present", "absent"):
        raise CommandExecutionError(f"state must be present or absent, got {state!r}")
    if _missing_database(db, conn, test):
        return {"grant" if state == "present" else "revoke": f"{', '.join(words)} on {type} {', '.join(objs)}"}
    suffix = " WITH GRANT OPTION" if grant_option and state == "present" else ""
    changes, ops = [], []
    if type == "default_privs":
        if len(objs) != 1 or objs[0] not in DEFAULT_OBJECTS:
            raise CommandExecutionError(f"default_privs objs is one of {', '.join(DEFAULT_OBJECTS)}, got {objs!r}")
        keyword = DEFAULT_OBJECTS[objs[0]][0]
        owners = list(target_roles or []) or [_execute([("SELECT current_user", [])], **conn)[0][0][0]]
        for owner in _names_list(owners, "target_roles"):
            acl = _default_acl(objs[0], schema, owner, conn)
            head, head_args = "ALTER DEFAULT PRIVILEGES FOR ROLE {}", [_i(owner)]
            if schema is not None:
                head, head_args = head + " IN SCHEMA {}", head_args + [_i(schema)]
            for role in roles:
                grant, revoke = _privilege_ops(words, acl.get(role, {}), grant_option, state, exact)
                who, who_args = _grantee(role)
                where = f"new {keyword.lower()} of {owner}" + (f" in {schema}" if schema else "")
                if grant:
                    ops.append((f"{head} GRANT {', '.join(grant)} ON {keyword} TO {who}{suffix}", head_args + who_args))
                    changes.append(f"granted {', '.join(grant)} on {where} to {role}")
                if revoke:
                    ops.append((f"{head} REVOKE {', '.join(revoke)} ON {keyword} FROM {who}", head_args + who_args))
                    changes.append(f"revoked {', '.join(revoke)} on {where} from {role}")
    else:
        if type not in PRIVILEGE_TARGETS:
            raise CommandExecutionError(f"type must be one of {', '.join(PRIVILEGE_TARGETS)}, default_privs; got {type!r}")
        keyword = PRIVILEGE_TARGETS[type][0]
        for label, (parts, acl) in sorted(_objects_acl(type, list(objs), schema, conn).items()):
            for role in roles:
                grant, revoke = _privilege_ops(words, acl.get(role, {}), grant_option, state, exact)
                who, who_args = _grantee(role)
                where = f"{type} {'.'.join(parts)}"
                if grant:
                    ops.append((f"GRANT {', '.join(grant)} ON {keyword} {{}} TO {who}{suffix}", [_i(*parts)] + who_args))
                    changes.append(f"granted {', '.join(grant)} on {where} to {role}")
                if revoke:
                    ops.append((f"REVOKE {', '.join(revoke)} ON {keyword} {{}} FROM {who}", [_i(*parts)] + who_args))
                    changes.append(f"revoked {', '.join(revoke)} on {where} from {role}")
    if ops and not test:
        _execute(ops, **conn)
    return {"privileges": changes} if changes else {}


def preload_missing(library, **kwargs):
    """
    Whether the running server has not loaded ``library`` (``shared_preload_libraries``): an
    extension that needs it waits for a restart.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.preload_missing pg_cron
    """
    value = _execute([("SELECT pg_catalog.current_setting('shared_preload_libraries')", [])], **_conn(kwargs))[0][0][0]
    loaded = [part.strip().strip('"') for part in value.split(",") if part.strip()]
    return library not in loaded


def split_names(value):
    """
    Role names from autobase's shape: a YAML list, or names separated by commas
    (``'pg_monitor, readers'``); ``[]`` for none.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.split_names 'pg_monitor, readers'
    """
    if value in (None, ""):
        return []
    names = __utils__["pgha_privs.names"](value)
    if names is None:
        raise CommandExecutionError(f"not a list of names: {value!r}")
    return names


def extension_preload(entry):
    """
    The library that the extension of a ``postgresql:extensions`` entry needs in
    shared_preload_libraries (pgha_extensions), or None.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_postgres.extension_preload '{name: pg_cron, db: postgres}'
    """
    return __utils__["pgha_extensions.preload"](entry)
