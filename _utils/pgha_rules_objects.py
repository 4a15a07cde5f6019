"""
Cross-key rules for the application's roles and objects (issue 22): role membership and
removal, a database's removal, schemas, privileges (``pgha_privs``), extensions that need a
package (``pgha_extensions``) and pg_ident lines. Each function returns problems as
(key, message); ``pgha_validate.check`` calls :py:func:`objects`.
"""
import os.path
import runpy
import re


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


_get = _sibling("pgha_cluster").get
_privs = _sibling("pgha_privs")
_ext = _sibling("pgha_extensions")

# Databases pgha and PostgreSQL need: never dropped from pillar.
KEPT_DATABASES = ("postgres", "template0", "template1")
# pg_ident.conf: a map name is a plain word; a user name any name (quoted when written); a
# system user name starting with '/' is a regular expression, written unquoted, so it must
# hold no character that would end or split its field.
IDENT_MAP_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
IDENT_REGEX_BAD = re.compile(r'[\s,"#]')


def _listed(cfg, key):
    value = _get(cfg, key)
    return value if isinstance(value, list) else []


def _name(entry, field="name"):
    value = entry.get(field) if isinstance(entry, dict) else None
    return value if isinstance(value, str) and value else None


def objects(cfg):
    """Problems as (key, message) with users' membership and removal, databases' removal,
    schemas, privileges, extensions (by the package names of the node's source,
    postgresql:extension_packages_from) and pg_ident."""
    return _users(cfg) + _databases(cfg) + _schemas(cfg) + _privileges(cfg) + _extensions(cfg) + _pg_ident(cfg)


def _absent_users(cfg):
    return {_name(u): i for i, u in enumerate(_listed(cfg, "postgresql:users"))
            if _name(u) and u.get("state") == "absent"}


def _users(cfg):
    problems, absent = [], _absent_users(cfg)
    for i, user in enumerate(_listed(cfg, "postgresql:users")):
        name, key = _name(user), f"postgresql:users:{i}"
        if not name:
            continue
        role = user.get("role")
        if role not in (None, ""):
            groups = _privs.names(role)
            if groups is None:
                problems.append((f"{key}:role", "must be a role name, names separated by commas, or a list of names"))
            elif name in groups:
                problems.append((f"{key}:role", f"{name!r} cannot be a member of itself"))
            elif any(len(g.encode()) > 63 for g in groups):
                problems.append((f"{key}:role", "a role name is at most 63 bytes"))
            elif any(g in absent for g in groups):
                gone = next(g for g in groups if g in absent)
                problems.append((f"{key}:role", f"{gone!r} is removed (postgresql:users:{absent[gone]}: state absent)"))
        target = user.get("reassign_owned_to")
        if target is not None and user.get("state") != "absent":
            problems.append((f"{key}:reassign_owned_to", "goes with state: absent (where the role's objects go)"))
        elif target == name:
            problems.append((f"{key}:reassign_owned_to", f"must be another role than {name!r}"))
        elif target in absent:
            problems.append((f"{key}:reassign_owned_to", f"{target!r} is removed too (postgresql:users:{absent[target]})"))
    return problems


def _databases(cfg):
    problems, absent_users = [], _absent_users(cfg)
    pools = {_name(p, "dbname") or _name(p) for p in _listed(cfg, "pgbouncer:pools")} - {None}
    for i, db in enumerate(_listed(cfg, "postgresql:databases")):
        name, key = _name(db), f"postgresql:databases:{i}"
        if not name:
            continue
        if db.get("owner") in absent_users:
            problems.append((f"{key}:owner", f"{db['owner']!r} is removed (postgresql:users:{absent_users[db['owner']]})"))
        if db.get("drop") is True and db.get("state") != "absent":
            problems.append((f"{key}:drop", "goes with state: absent"))
        if db.get("state") != "absent":
            continue
        if name in KEPT_DATABASES:
            problems.append((f"{key}:state", f"{name!r} is a database PostgreSQL and pgha need: it is never dropped"))
        elif db.get("drop") is not True:
            problems.append((f"{key}:drop", f"must be true to drop database {name!r} with its data "
                                            "(state: absent alone drops nothing)"))
        elif name in pools:
            problems.append((f"{key}:state", f"{name!r} is a PgBouncer pool's database (pgbouncer:pools)"))
    return problems


def _dropped(cfg):
    return {_name(d): i for i, d in enumerate(_listed(cfg, "postgresql:databases"))
            if _name(d) and d.get("state") == "absent"}


def _schemas(cfg):
    problems, dropped, absent = [], _dropped(cfg), _absent_users(cfg)
    seen = {}
    for i, schema in enumerate(_listed(cfg, "postgresql:schemas")):
        key = f"postgresql:schemas:{i}"
        name, db = _name(schema, "schema"), _name(schema, "db")
        if not (name and db):
            if isinstance(schema, dict):
                missing = [f for f in ("schema", "db") if not schema.get(f)]
                problems += [(f"{key}:{f}", "is missing: a schema entry names its schema and its db") for f in missing]
            continue
        if db in dropped:
            problems.append((f"{key}:db", f"{db!r} is dropped (postgresql:databases:{dropped[db]})"))
        if schema.get("owner") in absent:
            problems.append((f"{key}:owner", f"{schema['owner']!r} is removed (postgresql:users:{absent[schema['owner']]})"))
        if (db, name) in seen:
            problems.append((f"{key}:schema", f"{name!r} in {db!r} is listed twice (also postgresql:schemas:{seen[(db, name)]})"))
        seen.setdefault((db, name), i)
    return problems


def _privileges(cfg):
    problems, dropped, absent = [], _dropped(cfg), _absent_users(cfg)
    for i, entry in enumerate(_listed(cfg, "postgresql:privs")):
        key = f"postgresql:privs:{i}"
        found = _privs.problems(entry)
        problems += [(f"{key}:{field}" if field else key, why) for field, why in found]
        if found:
            continue
        if entry["db"] in dropped:
            problems.append((f"{key}:db", f"{entry['db']!r} is dropped (postgresql:databases:{dropped[entry['db']]})"))
        gone = [r for r in _privs.names(entry["role"]) if r in absent]
        if gone:
            problems.append((f"{key}:role", f"{gone[0]!r} is removed (postgresql:users:{absent[gone[0]]})"))
    return problems


def _extensions(cfg):
    problems, dropped = [], _dropped(cfg)
    for i, ext in enumerate(_listed(cfg, "postgresql:extensions")):
        if not _name(ext):
            continue
        why = _ext.problem(ext, _get(cfg, "postgresql:extension_packages_from") or "debian")
        if why:
            problems.append((f"postgresql:extensions:{i}:name", why))
        if ext.get("db") in dropped:
            problems.append((f"postgresql:extensions:{i}:db", f"{ext['db']!r} is dropped "
                             f"(postgresql:databases:{dropped[ext['db']]})"))
    return problems


def _pg_ident(cfg):
    problems = []
    for i, line in enumerate(_listed(cfg, "postgresql:pg_ident")):
        key = f"postgresql:pg_ident:{i}"
        if not isinstance(line, dict):
            problems.append((key, "must be a mapping of mapname, system_username, pg_username"))
            continue
        mapname, system, pg_user = (line.get(k) for k in ("mapname", "system_username", "pg_username"))
        problems += [(f"{key}:{f}", "is missing: a pg_ident line has a mapname, a system_username and a pg_username")
                     for f in ("mapname", "system_username", "pg_username") if line.get(f) in (None, "")]
        if isinstance(mapname, str) and mapname and not IDENT_MAP_RE.match(mapname):
            problems.append((f"{key}:mapname", f"must be a word of letters, digits, '_', '.' or '-' "
                             f"(pg_hba's map= option names it; got {mapname!r})"))
        if isinstance(system, str) and system.startswith("/"):
            if IDENT_REGEX_BAD.search(system):
                problems.append((f"{key}:system_username", "a regular expression (starting with '/') must not "
                                 "contain spaces, commas, '\"' or '#': pg_ident.conf would split or end it"))
            else:
                try:
                    re.compile(system[1:])
                except re.error as exc:
                    problems.append((f"{key}:system_username", f"is not a regular expression: {exc}"))
        if isinstance(pg_user, str) and len(pg_user.encode()) > 63:
            problems.append((f"{key}:pg_username", "is longer than 63 bytes, the longest PostgreSQL role name"))
        if isinstance(pg_user, str) and "\\1" in pg_user and not (isinstance(system, str) and system.startswith("/")
                                                                  and "(" in system):
            problems.append((f"{key}:pg_username", "uses \\1, which needs a system_username regular "
                             "expression with a (group)"))
    maps = {line.get("mapname") for line in _listed(cfg, "postgresql:pg_ident") if isinstance(line, dict)}
    for i, hba in enumerate(_listed(cfg, "postgresql:pg_hba")):
        options = hba.get("options") if isinstance(hba, dict) else None
        match = re.search(r'(?:^| )map=("?)([^" ]+)\1', options) if isinstance(options, str) else None
        if match and match.group(2) not in maps:
            problems.append((f"postgresql:pg_hba:{i}:options", f"map={match.group(2)} names no map of "
                             "postgresql:pg_ident (PostgreSQL would refuse every login through this line)"))
    return problems
