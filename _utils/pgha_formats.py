"""
One escaper per file format pgha writes: a value from pillar goes into a file only through
the function of that file's format, which quotes it so the format's own parser reads back
exactly that value, or refuses it (ValueError naming the key) when the format cannot carry it.

Every function refuses control characters (a newline above all: in a line-based format it
starts a new line, a new directive). A refusal names the key and the reason, never the value
where a secret may pass (``_text``, ``ini``, ``haproxy``, ``pgbouncer_userlist``, ``yaml``). Values that need no quoting come back unchanged, so an
ordinary pillar renders the same file as before quoting existed.

The execution module ``pgha_formats`` hands these to templates
(``salt['pgha_formats.haproxy'](value, 'pgha:haproxy:stats_password')``).
"""
import json
import re
import unicodedata

# Unquoted, these characters mean nothing special to any format below.
_PLAIN = re.compile(r"[A-Za-z0-9_.,:/@+=-]+")


_CONTROL_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL byte"}


def _text(value, what):
    """The value as a string, refused when it holds a character no line-based file carries."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{what}: must be a string (got {type(value).__name__})")
    text = str(value)
    for char in text:
        # C*: controls (newline, tab, NUL, NEL), format characters, surrogates, unassigned;
        # Zl/Zp: U+2028/U+2029, line breaks to YAML 1.1 and to some editors.
        if unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp"):
            name = _CONTROL_NAMES.get(char) or unicodedata.name(char, f"U+{ord(char):04X}")
            raise ValueError(f"{what}: contains a control character ({name}), which no "
                             "configuration file can carry on one line")
    return text


def yaml(value, what="value"):
    """A YAML scalar (Patroni's config): JSON's string syntax is valid YAML and read back
    exactly by PyYAML, whatever the value holds (``: ``, ``#``, a leading ``*``, ``yes``)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return json.dumps(_text(value, what) if isinstance(value, str) else value, ensure_ascii=False)


def haproxy(value, what="value"):
    """One word of haproxy.cfg (section 2.2, "Quoting and escaping"): strong quoting,
    ``'...'``, in which nothing is interpreted (no ``#`` comment, no ``$`` variable, no
    backslash); a ``'`` closes it, is written escaped (``\\'``) and quoting opens again."""
    text = _text(value, what)
    if _PLAIN.fullmatch(text.replace("*", "x")):     # '*' (any address) is no special char
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def haproxy_auth(user, password, what="value"):
    """``user:password`` of ``stats auth``: HAProxy splits the word at its first colon, so a
    user name must not hold one; the password may hold anything printable."""
    user = _text(user, f"{what} (user)")
    if ":" in user or not user:
        raise ValueError(f"{what}: the user name must be non-empty and hold no ':' (got {user!r})")
    return haproxy(user + ":" + _text(password, what), what)


def go_template(text, what="value"):
    """Text in a Go template (confd's haproxy.tmpl): ``{{`` would open an action, so it is
    written as the action that prints it."""
    return _text(text, what).replace("{{", '{{"{{"}}')


def pgbouncer_userlist(name, password, what="value"):
    """One line of PgBouncer's auth_file: ``"name" "password"``, a ``"`` inside written
    twice (PgBouncer's documented userlist format)."""
    fields = [_text(name, f"{what} (name)"), _text(password, f"{what} (password)")]
    return " ".join('"' + field.replace('"', '""') + '"' for field in fields)


def ini(value, what="value"):
    """A value of pgbouncer.ini (and pip.conf, pgbackrest.conf): the value runs from after
    ``=`` to the end of the line, its outer blanks stripped, with no escape. Refused: what
    that would change (leading or trailing blanks) and a leading quote (PgBouncer's parser
    would read it as the start of a quoted value)."""
    text = _text(value, what)
    # no "got ...": the value may be a secret (a repository key, a password in a URL)
    if text != text.strip():
        raise ValueError(f"{what}: an INI value cannot begin or end with a blank")
    if text[:1] in ("'", '"'):
        raise ValueError(f"{what}: an INI value cannot begin with a quote")
    return text


def ini_key(value, what="value"):
    """A key of an INI file (a pool name in pgbouncer.ini's [databases], a pgBackRest option
    name): letters, digits and ``_.-`` only, which need no quoting anywhere."""
    text = _text(value, what)
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", text):
        raise ValueError(f"{what}: must be letters, digits, '_', '.' or '-' (got {text!r})")
    return text


def libpq_value(value, what="value"):
    """A value of a ``key=value`` list on a pgbouncer.ini [databases] line: PgBouncer's
    connection-string parser (loader.c) ends a plain value at a blank and reads a value in
    single quotes with ``''`` for a quote; empty values are an error to it."""
    text = _text(value, what)
    if not text:
        raise ValueError(f"{what}: must not be empty")
    if _PLAIN.fullmatch(text) and "=" not in text:
        return text
    return "'" + text.replace("'", "''") + "'"


def conninfo_value(value, what="value"):
    """A value of a libpq ``key=value`` connection string (libpq's and Go's lib/pq parser, e.g.
    PgBouncer's exporter's PGBOUNCER_EXPORTER_CONNECTION_STRING): plain when it is one safe
    word, else in single quotes with ``\\`` and ``'`` escaped by a backslash (unlike
    PgBouncer's own ``''``). Empty values are refused."""
    text = _text(value, what)
    if not text:
        raise ValueError(f"{what}: must not be empty")
    if re.fullmatch(r"[A-Za-z0-9_./@:+-]+", text):
        return text
    return "'" + re.sub(r"([\\'])", r"\\\1", text) + "'"


def libpq_params(value, what="value"):
    """A free ``key=value key=value`` list from pillar (a pool's pool_parameters): each key
    a plain word, each value plain (no quote, blank or ``=``), so nothing but these pairs
    can come out of it."""
    text = _text(value, what)
    pairs = text.split()
    for pair in pairs:
        if not re.fullmatch(r"[a-z_]+=[A-Za-z0-9_.,:/@+-]+", pair):
            raise ValueError(f"{what}: must be key=value pairs separated by blanks, "
                             f"a plain word on each side (got {pair!r})")
    return " ".join(pairs)


def line(value, what="value"):
    """Free text that a line-based file takes as it is (an nftables rule of pillar, a
    comment): only kept to one line."""
    return _text(value, what)


def word(value, what="value"):
    """One plain word of a line-based file with no quoting (chrony's ``server`` name, a unit's
    ``User=``): no blank, quote, backslash, ``#``, ``;``, ``!`` or brace."""
    text = _text(value, what)
    if not re.fullmatch(r'[^\s"#;!{}\\\']+', text):
        raise ValueError(f"{what}: must be one word without blanks, quotes, '#', ';', '!', "
                         f"braces or backslashes (got {text!r})")
    return text


def apt_string(value, what="value"):
    """A string of apt.conf: double-quoted, with no escape for a ``"`` inside (apt's
    configuration parser ends the string there), so such a value is refused."""
    text = _text(value, what)
    if '"' in text:
        raise ValueError(f"{what}: apt.conf cannot carry a '\"' in a value")
    return '"' + text + '"'


def keepalived(value, what="value"):
    """One word of keepalived.conf: keepalived splits a line at blanks, and ``#``, ``!``,
    braces and quotes mean something to it, with no escape: such a value is refused."""
    text = _text(value, what)
    if not re.fullmatch(r'[^\s"#!{}\\\']+', text):
        raise ValueError(f"{what}: keepalived.conf cannot carry blanks, quotes, '#', '!', "
                         f"braces or backslashes in a value (got {text!r})")
    return text


def interface(value, what="value"):
    """A network interface name as Linux allows it (1 to 15 bytes, no '/', ':' or blank),
    kept to letters, digits and ``_.@-`` so it is one word in every file it reaches."""
    text = _text(value, what)
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,15}", text) or text in (".", ".."):
        raise ValueError(f"{what}: not an interface name (1-15 letters, digits, '_', '.', "
                         f"'@' or '-'; got {text!r})")
    return text


def systemd_arg(value, what="value"):
    """One argument of a systemd command line (ExecStart=, systemd.service "Command lines"):
    ``%`` starts a specifier and ``$`` a variable everywhere, so they are doubled; other
    values are double-quoted, ``\\`` and ``"`` escaped by a backslash."""
    text = _text(value, what).replace("%", "%%").replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_.,:/@+=%$-]+", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def env_value(value, what="value"):
    """A value of an environment file (etcd.env; systemd's EnvironmentFile=, which a shell
    may also source): double-quoted, ``\\``, ``"``, ``$`` and backquote escaped by a
    backslash, which both read back alike."""
    text = _text(value, what)
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def pg_hba(value, what="value"):
    """One field of a pg_hba.conf line (PostgreSQL's documented syntax): plain words as they
    are, anything else double-quoted with ``"`` doubled; a quoted word loses any special
    meaning (``all``, ``+group``, ``@file``). A list (``a,b``) is given as a list."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{what}: an empty list")
        return ",".join(pg_hba(item, what) for item in value)
    text = _text(value, what)
    if re.fullmatch(r"[A-Za-z0-9_:.][A-Za-z0-9_.:/-]*", text):
        return text
    return '"' + text.replace('"', '""') + '"'


# a name in pg_hba's quotes, as pillar may give it: nothing inside that would end or split it
_HBA_QUOTED = re.compile(r'"[^",\x00-\x1f\x7f]+"')


def pg_hba_names(value, what="value"):
    """The database or user field of a pg_hba line: a YAML list or a comma-separated string
    is a list (pg_hba's own meaning of a comma); each name is quoted as it needs, a leading
    ``+`` (a group) or ``@`` (a file of names) kept outside the quotes, where it keeps its
    meaning. A name the pillar already gives in pg_hba's own quotes (``"Mixed Case"``, the
    validator's grammar: no quote or comma inside) is written as given, not quoted again
    (that would make the quotes part of the name)."""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names:
        raise ValueError(f"{what}: must be a name or a list of names")
    out = []
    for name in names:
        text = _text(name, what).strip()
        if not text:
            raise ValueError(f"{what}: an empty name")
        mark = text[0] if text[0] in "+@" and len(text) > 1 else ""
        name = text[len(mark):]
        out.append(mark + (name if _HBA_QUOTED.fullmatch(name) else pg_hba(name, what)))
    return ",".join(out)


# pg_hba's authentication options: name=value, the value a word or a "quoted string" (no
# newline, no quote inside), separated by single spaces. The validator checks pillar with it.
HBA_OPTIONS_RE = re.compile(r'^[a-zA-Z_]+=("[^"\n]*"|[^\s"]+)( [a-zA-Z_]+=("[^"\n]*"|[^\s"]+))*$')


def pg_hba_line(entry, what="value"):
    """One pg_hba.conf line from a pillar entry {type, database, user, address, method}:
    type and method keywords, the names quoted, the address as one field or as an address
    and a netmask (two fields); a local line has no address."""
    if not isinstance(entry, dict):
        raise ValueError(f"{what}: must be a mapping of type, database, user, address, method")
    fields = [pg_hba_keyword(entry.get("type"), f"{what}:type"),
              pg_hba_names(entry.get("database"), f"{what}:database"),
              pg_hba_names(entry.get("user"), f"{what}:user")]
    if fields[0] != "local":
        address = _text(entry.get("address"), f"{what}:address").split()
        if len(address) not in (1, 2):
            raise ValueError(f"{what}:address: an address, or an address and a netmask")
        fields += [pg_hba(part, f"{what}:address") for part in address]
    fields.append(pg_hba_keyword(entry.get("method"), f"{what}:method"))
    options = entry.get("options")
    if options not in (None, ""):
        # The method's options as written (clientcert=verify-full map="omicron"): words of
        # name=value, a value quoted when it has spaces; the grammar keeps them one line.
        if not isinstance(options, str) or not HBA_OPTIONS_RE.fullmatch(options):
            raise ValueError(f"{what}:options: must be name=value options separated by spaces")
        fields.append(options)
    return " ".join(fields)


def pg_hba_keyword(value, what="value"):
    """A pg_hba field that must be one of PostgreSQL's keywords (type, method): a plain
    lower-case word, never quoted (a quoted method is no method)."""
    text = _text(value, what)
    if not re.fullmatch(r"[a-z][a-z0-9-]*", text):
        raise ValueError(f"{what}: must be a lower-case keyword (got {text!r})")
    return text


# -- pg_ident.conf (issue 22) ---------------------------------------------------------------------

def pg_ident_line(entry, what="value"):
    """One pg_ident.conf line from a pillar entry {mapname, system_username, pg_username}:
    the map name and the PostgreSQL user quoted as pg_hba's fields are; a system user name
    starting with '/' is a regular expression, written as it is (quoted it would be a plain
    name from PostgreSQL 16 on), so it may hold no space, comma, quote or '#'."""
    if not isinstance(entry, dict):
        raise ValueError(f"{what}: must be a mapping of mapname, system_username, pg_username")
    system = _text(entry.get("system_username"), f"{what}:system_username")
    if system.startswith("/"):
        if re.search(r'[\s,"#]', system):
            raise ValueError(f"{what}:system_username: a regular expression must not contain spaces, "
                             "commas, quotes or '#'")
    else:
        system = pg_hba(system, f"{what}:system_username")
    return " ".join((pg_hba(entry.get("mapname"), f"{what}:mapname"), system,
                     pg_hba(entry.get("pg_username"), f"{what}:pg_username")))


def pgpass_line(host, port, database, user, password, what="value"):
    """One line of a libpq password file (.pgpass, PGPASSFILE): ``host:port:db:user:password``,
    ``:`` and ``\\`` in a field escaped by a backslash (libpq's rule); ``*`` as a whole field
    matches anything. Issue 24: the pgbouncer exporter's password file."""
    fields = [_text(field, what) for field in (host, port, database, user, password)]
    return ":".join(field if field == "*" else re.sub(r"([\\:])", r"\\\1", field) for field in fields)
