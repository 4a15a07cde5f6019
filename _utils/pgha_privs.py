"""
``postgresql:privs`` entries (autobase's ``postgresql_privs``, the shape of Ansible's
``community.postgresql.postgresql_privs``): what each may say, and its canonical form.

An entry: ``role`` (one role or several: a YAML list, or names separated by commas; ``PUBLIC``
is every role), ``privs`` (``SELECT,INSERT`` or a list; ``ALL``), ``type`` (database, schema,
table, sequence, function, default_privs), ``db``, ``objs`` (names separated by commas, functions by ':', or a list; ``ALL_IN_SCHEMA`` for
every table, sequence or function of ``schema``; for default_privs the kinds TABLES,
SEQUENCES, FUNCTIONS, TYPES, SCHEMAS), ``schema`` (public), ``target_roles`` (default_privs:
whose new objects; the superuser when left out), ``state`` (present, absent: revoked),
``grant_option``, and pgha's ``exact`` (privileges not listed are revoked from the listed roles
on the listed objects).

The privilege keywords become SQL text: only those in PRIVILEGES are ever used. The execution
module ``pgha_postgres.privileges_present`` takes the canonical form (:py:func:`canonical`).
"""
import re

# type -> every privilege it has (what ALL means), in PostgreSQL's order
PRIVILEGES = {
    "database": ("CREATE", "TEMPORARY", "CONNECT"),
    "schema": ("USAGE", "CREATE"),
    "table": ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"),
    "sequence": ("USAGE", "SELECT", "UPDATE"),
    "function": ("EXECUTE",),
}
# default_privs: the kind of object (objs) -> the type whose privileges it takes
DEFAULT_KINDS = {"TABLES": "table", "SEQUENCES": "sequence", "FUNCTIONS": "function",
                 "TYPES": "type", "SCHEMAS": "schema"}
TYPE_PRIVILEGES = ("USAGE",)
ALIASES = {"TEMP": "TEMPORARY", "ALL PRIVILEGES": "ALL"}
ALL_IN_SCHEMA = "ALL_IN_SCHEMA"
TYPES = tuple(PRIVILEGES) + ("default_privs",)
PUBLIC = "PUBLIC"
# A function in objs: its name, then optionally its argument types in parentheses
# ("pg_ls_waldir()", "add(integer, integer)"); the types only find it (pgha grants on the name).
FUNCTION_RE = re.compile(r"^([^()]+?)\s*(\(([^()]*)\))?$")


def names(value, separator=","):
    """A list of names from a YAML list or a comma-separated string (autobase's 'a, b')."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(separator) if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item for item in value if item != ""]
    return None


def objects(entry):
    """An entry's objs as a list: functions are separated by ':' in a string (as in
    community.postgresql: their argument lists hold commas), other names by ','."""
    return names(entry.get("objs"), ":" if entry.get("type", "table") == "function" else ",")


def all_of(kind, objs=None):
    """Every privilege of ``kind`` (for default_privs: of each kind of object in ``objs``)."""
    if kind == "default_privs":
        kinds = {DEFAULT_KINDS.get(o) for o in objs or []}
        return TYPE_PRIVILEGES if kinds == {"type"} else PRIVILEGES.get(kinds.pop(), ()) if len(kinds) == 1 else ()
    return PRIVILEGES.get(kind, ())


def problems(entry):
    """(field, why) for one entry; empty when :py:func:`canonical` can take it."""
    if not isinstance(entry, dict):
        return [("", "must be a mapping of role, privs, type, db, objs")]
    found = []
    kind = entry.get("type", "table")
    if kind not in TYPES:
        return [("type", f"must be one of {', '.join(TYPES)} (got {kind!r})")]
    roles = names(entry.get("role"))
    if not roles:
        found.append(("role", "must name a role, several separated by commas, or a list of names"))
    else:
        found += [("role", f"{role!r} is longer than 63 bytes") for role in roles if len(role.encode()) > 63]
    if not entry.get("db"):
        found.append(("db", "must name the database to connect to"))
    objs = objects(entry)
    if kind == "database" and objs is None and entry.get("objs") is None:
        objs = [entry.get("db")] if entry.get("db") else []
    if not objs:
        found.append(("objs", f"must name the {kind.replace('_', ' ')} objects (names separated by commas, or a list)"))
        objs = []
    if kind == "default_privs":
        bad = [o for o in objs if o not in DEFAULT_KINDS]
        if bad:
            found.append(("objs", f"{bad[0]!r}: default_privs objs are {', '.join(DEFAULT_KINDS)}"))
        elif len({DEFAULT_KINDS[o] for o in objs}) > 1:
            found.append(("objs", "one kind of object per default_privs entry (their privileges differ)"))
        if "SCHEMAS" in objs and entry.get("schema"):
            found.append(("schema", "must be left out for SCHEMAS: default privileges on schemas are global"))
        target = entry.get("target_roles")
        if target is not None and not names(target):
            found.append(("target_roles", "must name roles, separated by commas, or be a list of names"))
    elif entry.get("target_roles") is not None:
        found.append(("target_roles", "is for type default_privs only"))
    if ALL_IN_SCHEMA in objs and (kind not in ("table", "sequence", "function") or len(objs) > 1):
        found.append(("objs", f"{ALL_IN_SCHEMA} is alone, for a table, sequence or function entry"))
    if kind == "function":
        found += [("objs", f"{o!r} is not a function such as name or name(integer, text)")
                  for o in objs if o != ALL_IN_SCHEMA and not FUNCTION_RE.match(o)]
    privs = names(entry.get("privs"))
    allowed = all_of(kind, objs) if kind != "default_privs" or not found else ()
    if not privs:
        found.append(("privs", "must list privileges such as SELECT,INSERT or ALL"))
    elif allowed:
        for priv in privs:
            word = ALIASES.get(priv.upper(), priv.upper())
            if word != "ALL" and word not in allowed:
                found.append(("privs", f"{priv!r} is not a privilege of a {kind.replace('_', ' ')}; "
                                       f"those are {', '.join(allowed)} or ALL"))
                break
    if entry.get("exact") and entry.get("state") == "absent":
        found.append(("exact", "goes with state: present (the privileges to keep)"))
    return found


def canonical(entry):
    """The entry in the form ``pgha_postgres.privileges_present`` takes (``problems`` empty):
    ``{db, type, roles, privs, objs, schema, target_roles, grant_option, state, exact}`` with
    privileges as PostgreSQL's keywords (ALL expanded), functions as names."""
    kind = entry.get("type", "table")
    objs = objects(entry) or ([entry["db"]] if kind == "database" else [])
    privs = []
    for priv in names(entry.get("privs")):
        word = ALIASES.get(priv.upper(), priv.upper())
        for one in (all_of(kind, objs) if word == "ALL" else (word,)):
            if one not in privs:
                privs.append(one)
    if kind == "function":
        objs = [o if o == ALL_IN_SCHEMA else FUNCTION_RE.match(o).group(1).strip() for o in objs]
    schema = entry.get("schema") or (None if kind in ("database", "schema")
                                     or (kind == "default_privs") else "public")
    return {"db": entry["db"], "type": kind, "roles": names(entry.get("role")), "privs": privs, "objs": objs,
            "schema": schema, "target_roles": names(entry.get("target_roles")) or [],
            "grant_option": bool(entry.get("grant_option")), "state": entry.get("state", "present"),
            "exact": bool(entry.get("exact"))}


def derive(cfg):
    """In place: ``postgresql:privileges``, the canonical form of each valid
    ``postgresql:privs`` entry with its index (``key``: ``postgresql:privs:<i>``). An invalid
    entry is left out here: the validator refuses it, naming its key, before anything runs."""
    pg = cfg["postgresql"]
    pg["privileges"] = [dict(canonical(entry), key=f"postgresql:privs:{i}")
                        for i, entry in enumerate(pg.get("privs") or []) if not problems(entry)]
    return cfg
