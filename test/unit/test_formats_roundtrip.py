"""
Round trips of pgha_formats (``_utils/pgha_formats.py``): a corpus of nasty values is written
through each format's escaper, and through the templates that use it, then read back with that
format's parser (written here from the format's documented grammar, as no real program runs in
unit tests): each value must come back exactly, or be refused with a ValueError naming its key.
Property tests (hypothesis, fixed seed, capped examples) do the same over generated strings.

Templates that import the map render with a stub ``map.jinja`` exporting the same names
(``pgha``, ``members``, ``tls_files``) from the test's data, and pgha_formats' escapers as
``salt``, the way Salt's loader hands them to templates.
"""
import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import importlib.util

import jinja2
import salt.utils.dictupdate
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from salt.exceptions import CommandExecutionError
from salt.utils.jinja import SerializerExtension

REPO = Path(__file__).resolve().parents[2]


def _load(name, path):
    # by path: _modules/ and _utils/ both hold a pgha_formats.py
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pgha_formats = _load("pgha_formats_utils", "_utils/pgha_formats.py")
pgha_formats_module = _load("pgha_formats_module", "_modules/pgha_formats.py")

# quotes of both kinds, backslash, '#', '$', '%', blanks, a leading '*', ': ', non-ASCII
# letters, a 63- and a 64-byte string, Go's and Jinja's braces
CORPUS = [
    "plain", "it's", 'say "hi"', "back\\slash", "hash#tag", "#lead", "dollar$HOME", "${X}",
    "100%", "%n", "two words", " lead", "trail ", "*star", "key: value", "pässwörd #1; --",
    "Ünïcødé", "a" * 63, "b" * 64, "'\"\\$%#`;", "{{ x }}", "a=b", "'", '"', "\\", "x'\\''y",
    "semi;colon", "-dash", "@at", "+plus", "comma,list", "tab\tin", "new\nline", "cr\rhere",
    "nul\x00", "nel\x85", "ls\u2028",
]
CONTROL = {"tab\tin", "new\nline", "cr\rhere", "nul\x00", "nel\x85", "ls\u2028"}
TEXT = st.text(st.characters(codec="utf-8"), max_size=70)
PROPERTY = settings(derandomize=True, max_examples=200, deadline=None)


def _accepts(fn, *args):
    try:
        return fn(*args)
    except ValueError as exc:
        assert str(exc).startswith("KEY"), f"refusal names no key: {exc}"
        return None


# -- the formats' parsers, after their documented grammars -----------------------------------

def haproxy_words(line):
    """HAProxy's configuration tokenizer (configuration.txt, 2.2 "Quoting and escaping"):
    blanks separate words, '#' starts a comment, a backslash escapes the next character,
    '...' is literal, "..." takes backslash escapes and expands $VARs (refused here)."""
    words, cur, i = [], None, 0
    while i < len(line):
        c = line[i]
        if c in " \t":
            if cur is not None:
                words.append(cur)
                cur = None
            i += 1
            continue
        if c == "#":
            break
        cur = cur or ""
        if c == "\\":
            cur += line[i + 1]
            i += 2
        elif c == "'":
            j = line.index("'", i + 1)
            cur += line[i + 1:j]
            i = j + 1
        elif c == '"':
            i += 1
            while line[i] != '"':
                if line[i] == "\\":
                    i += 1
                elif line[i] == "$":
                    raise AssertionError("an environment variable in weak quotes")
                cur += line[i]
                i += 1
            i += 1
        else:
            cur += c
            i += 1
    if cur is not None:
        words.append(cur)
    return words


def pgbouncer_userlist(line):
    """PgBouncer's auth_file line: fields in double quotes, a doubled quote is one quote."""
    fields, i = [], 0
    while i < len(line):
        if line[i] in " \t":
            i += 1
            continue
        assert line[i] == '"', f"unquoted field at {i}: {line!r}"
        i, value = i + 1, ""
        while True:
            if line[i] == '"':
                if i + 1 < len(line) and line[i + 1] == '"':
                    value, i = value + '"', i + 2
                    continue
                break
            value, i = value + line[i], i + 1
        fields.append(value)
        i += 1
    return fields


def ini_pairs(text):
    """PgBouncer's INI parser (libusual cfparser.c): sections, ``key = value`` with the value
    to the end of the line, outer blanks stripped; '#' or ';' comments at a line's start."""
    pairs, section = [], None
    for line in text.split("\n"):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line[1:line.index("]")]
            continue
        key, value = re.fullmatch(r"([A-Za-z0-9_.*-]+)\s*=\s*(.*)", line).groups()
        pairs.append((section, key, value.strip()))
    return pairs


def libpq_pairs(text):
    """PgBouncer's connection-string parser (loader.c cstr_get_pair): key=value separated by
    blanks, a value in single quotes with '' for a quote."""
    pairs, i = [], 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        j = text.index("=", i)
        key, i = text[i:j].strip(), j + 1
        if text[i] == "'":
            i, value = i + 1, ""
            while True:
                if text[i] == "'":
                    if i + 1 < len(text) and text[i + 1] == "'":
                        value, i = value + "'", i + 2
                        continue
                    break
                value, i = value + text[i], i + 1
            i += 1
        else:
            j = text.find(" ", i)
            j = len(text) if j < 0 else j
            value, i = text[i:j], j
        assert value, "empty value"
        pairs.append((key, value))
    return pairs


def systemd_words(line):
    """A systemd command line (systemd.service "Command lines", systemd.syntax): '%'
    specifiers first ('%%' is '%'), then words split at blanks with double quotes and C
    escapes, then '$$' is '$' ($VAR expansion refused here)."""
    assert not re.search(r"%[^%]", line.replace("%%", "")), "a specifier"
    line = line.replace("%%", "%")
    words, cur, i, quoted = [], None, 0, False
    while i < len(line):
        c = line[i]
        if c == " " and not quoted:
            if cur is not None:
                words.append(cur)
                cur = None
            i += 1
            continue
        cur = cur or ""
        if c == '"':
            quoted = not quoted
        elif c == "\\":
            cur += {"n": "\n", "t": "\t"}.get(line[i + 1], line[i + 1])
            i += 1
        else:
            cur += c
        i += 1
    assert not quoted
    if cur is not None:
        words.append(cur)
    out = []
    for word in words:
        assert not re.search(r"\$[^$]", word.replace("$$", "")), "a variable"
        out.append(word.replace("$$", "$"))
    return out


def env_file(text):
    """``KEY="value"`` lines of an environment file as systemd reads them (EnvironmentFile=,
    double quotes: a backslash escapes '"', '\\', '$' and '`')."""
    values = {}
    for line in text.splitlines():
        if not line or line[0] in "#;":
            continue
        key, raw = line.split("=", 1)
        assert raw[0] == '"' and raw[-1] == '"', line
        values[key] = re.sub(r'\\([\\"$`])', r"\1", raw[1:-1])
    return values


def pg_hba_fields(line):
    """PostgreSQL's pg_hba tokenizer (hba.c next_token): blanks separate fields, commas the
    items of a list, '"' quotes (a doubled '"' inside is one), '#' outside quotes a comment.
    Fields as lists of (text, quoted)."""
    fields, items, cur, quoted, initial, in_quote, i = [], [], "", False, False, False, 0
    while i <= len(line):
        c = line[i] if i < len(line) else " "
        if in_quote:
            if c == '"' and line[i + 1:i + 2] == '"':
                cur, i = cur + '"', i + 2
                continue
            if c == '"':
                in_quote = False
            else:
                cur += c
            i += 1
            continue
        if c == '"':
            in_quote, quoted = True, True
            initial = initial or cur == ""
        elif c in " \t,#":
            if cur or quoted:
                items.append((cur, initial))
            cur, quoted, initial = "", False, False
            if c != ",":
                if items:
                    fields.append(items)
                items = []
            if c == "#":
                break
        else:
            cur += c
        i += 1
    return fields


# -- the escapers, value by value --------------------------------------------------------------

@pytest.mark.parametrize("value", CORPUS)
def test_yaml(value):
    out = _accepts(pgha_formats.yaml, value, "KEY")
    assert (out is None) == (value in CONTROL)
    if out is not None:
        assert yaml.safe_load(f"k: {out}\n") == {"k": value}


@pytest.mark.parametrize("value", CORPUS)
def test_haproxy(value):
    out = _accepts(pgha_formats.haproxy, value, "KEY")
    assert (out is None) == (value in CONTROL)
    if out is not None:
        assert haproxy_words(f"    stats auth {out} # comment") == ["stats", "auth", value]


@pytest.mark.parametrize("value", CORPUS)
def test_haproxy_auth(value):
    out = _accepts(pgha_formats.haproxy_auth, "admin", value, "KEY")
    assert (out is None) == (value in CONTROL)
    if out is not None:
        (_, _, word) = haproxy_words(f"stats auth {out}")
        assert word.split(":", 1) == ["admin", value]
    assert _accepts(pgha_formats.haproxy_auth, "ad:min", "x", "KEY") is None


@pytest.mark.parametrize("value", CORPUS)
def test_pgbouncer_userlist(value):
    out = _accepts(pgha_formats.pgbouncer_userlist, value, value, "KEY")
    assert (out is None) == (value in CONTROL)
    if out is not None:
        assert pgbouncer_userlist(out) == [value, value]


@pytest.mark.parametrize("value", CORPUS)
def test_ini(value):
    out = _accepts(pgha_formats.ini, value, "KEY")
    if out is not None:
        assert ini_pairs(f"[s]\nkey = {out}\n") == [("s", "key", value)]
        parser = configparser.RawConfigParser()      # pip.conf's reader
        parser.read_string(f"[global]\nkey = {out}\n")
        assert parser.get("global", "key") == value
    else:
        assert value in CONTROL or value != value.strip() or value[:1] in "'\""


@pytest.mark.parametrize("value", CORPUS)
def test_libpq_value(value):
    out = _accepts(pgha_formats.libpq_value, value, "KEY")
    assert (out is None) == (value in CONTROL)
    if out is not None:
        assert libpq_pairs(f"host=127.0.0.1 dbname={out} pool_size=10") == [
            ("host", "127.0.0.1"), ("dbname", value), ("pool_size", "10")]


@pytest.mark.parametrize("value", CORPUS)
def test_libpq_params_take_only_plain_pairs(value):
    """A pool's free parameters never smuggle anything but plain key=value pairs."""
    out = _accepts(pgha_formats.libpq_params, f"pool_size={value}", "KEY")
    if out is not None:
        assert libpq_pairs(out) == [("pool_size", value.strip())]     # blanks separate pairs
    assert pgha_formats.libpq_params("pool_size=10  pool_mode=transaction") == \
        "pool_size=10 pool_mode=transaction"


@pytest.mark.parametrize("value", CORPUS)
def test_systemd_arg(value):
    out = _accepts(pgha_formats.systemd_arg, value, "KEY")
    assert (out is None) == (value in CONTROL)
    if out is not None:
        assert systemd_words(f"/usr/bin/x {out} --flag") == ["/usr/bin/x", value, "--flag"]
        assert systemd_words(f"/usr/bin/x --opt={out}") == ["/usr/bin/x", f"--opt={value}"]


@pytest.mark.parametrize("value", CORPUS)
def test_env_value(value):
    out = _accepts(pgha_formats.env_value, value, "KEY")
    assert (out is None) == (value in CONTROL)
    if out is not None:
        assert env_file(f"ETCD_X={out}\n") == {"ETCD_X": value}
        # a POSIX shell sourcing the file reads the same
        shell = subprocess.run(["sh", "-c", 'eval "$1"; printf %s "$ETCD_X"', "sh", f"ETCD_X={out}"],
                               capture_output=True, check=True, env={})
        assert shell.stdout.decode() == value


@pytest.mark.parametrize("value", CORPUS)
def test_pg_hba(value):
    out = _accepts(pgha_formats.pg_hba, value, "KEY")
    assert (out is None) == (value in CONTROL)
    if out is not None:
        (fields) = pg_hba_fields(f"host {out} all 10.0.0.0/24 scram-sha-256 # x")
        assert len(fields) == 5
        ((text, quoted),) = fields[1]
        assert text == value
        # a word that means something unquoted (all, +group, @file, a list) is quoted
        assert quoted or re.fullmatch(r"[A-Za-z0-9_:.][A-Za-z0-9_.:/-]*", value)


@pytest.mark.parametrize("value", CORPUS)
def test_keepalived_and_interface_refuse_what_they_cannot_carry(value):
    out = _accepts(pgha_formats.keepalived, value, "KEY")
    if out is not None:
        assert out.split() == [value] and not set(value) & set("#!\"'{}\\")
    name = _accepts(pgha_formats.interface, value, "KEY")
    if name is not None:
        assert re.fullmatch(r"[A-Za-z0-9_.@-]{1,15}", name)


def test_pg_hba_line():
    line = pgha_formats.pg_hba_line(
        {"type": "host", "database": ["app db", "all"], "user": "+ops team,bob",
         "address": "10.0.0.0 255.255.255.0", "method": "scram-sha-256"}, "KEY")
    assert line == 'host "app db",all +"ops team",bob 10.0.0.0 255.255.255.0 scram-sha-256'
    fields = pg_hba_fields(line)
    assert fields[1] == [("app db", True), ("all", False)]
    assert fields[2] == [("+ops team", False), ("bob", False)]      # a group, then a user
    assert pgha_formats.pg_hba_line({"type": "local", "database": "all", "user": "all",
                                     "method": "peer"}) == "local all all peer"
    for bad in ({"type": "host", "database": "all", "user": "all", "address": "x",
                 "method": "trust\nhost all all 0.0.0.0/0 trust"},
                {"type": "Host", "database": "all", "user": "all", "address": "x", "method": "md5"},
                {"type": "host", "database": "", "user": "all", "address": "x", "method": "md5"}):
        with pytest.raises(ValueError, match="^KEY"):
            pgha_formats.pg_hba_line(bad, "KEY")


def test_pg_hba_line_keeps_names_quoted_in_pillar():
    """pg_hba's own "quoted name" in pillar (what the validator takes for a name with spaces or
    a keyword's spelling) is the name without its quotes, as PostgreSQL reads it."""
    line = pgha_formats.pg_hba_line(
        {"type": "host", "database": '"Db of Mixed",appdb', "user": '"Mixed Case $u",+"ops team","all"',
         "address": "10.0.0.0/24", "method": "scram-sha-256"}, "KEY")
    assert line == 'host "Db of Mixed",appdb "Mixed Case $u",+"ops team","all" 10.0.0.0/24 scram-sha-256'
    fields = pg_hba_fields(line)
    assert fields[1] == [("Db of Mixed", True), ("appdb", False)]
    assert fields[2] == [("Mixed Case $u", True), ("+ops team", False), ("all", True)]


def test_pg_hba_line_options():
    """The method's options end the line as written; anything that is not name=value words
    (a newline, a bare word) is refused."""
    entry = {"type": "hostssl", "database": "all", "user": "all", "address": "10.0.0.0/8",
             "method": "cert", "options": 'clientcert=verify-full map="my map"'}
    line = pgha_formats.pg_hba_line(entry, "KEY")
    assert line.endswith(' cert clientcert=verify-full map="my map"')
    for bad in ("clientcert", "a=b\nhost all all 0.0.0.0/0 trust", "a=b\n", 'map="x', 7):
        with pytest.raises(ValueError, match="^KEY:options"):
            pgha_formats.pg_hba_line(dict(entry, options=bad), "KEY")


@pytest.mark.parametrize("fn,args", [
    (pgha_formats.ini, (" S3cret",)), (pgha_formats.ini, ("'S3cret",)), (pgha_formats.haproxy, ("S3cret\n",)),
    (pgha_formats.pgbouncer_userlist, ("u", "S3cret\r")), (pgha_formats.yaml, ("S3cret\x00",)),
    (pgha_formats.env_value, ("S3cret\n",)), (pgha_formats.libpq_value, ("S3cret\n",))])
def test_refusals_never_show_a_secret(fn, args):
    """What may be a password is named by its key, never shown (the message reaches logs)."""
    with pytest.raises(ValueError) as exc:
        fn(*args, "KEY")
    assert "S3cret" not in str(exc.value) and str(exc.value).startswith("KEY")


def test_refusals_name_the_key_and_the_character():
    with pytest.raises(ValueError, match=r"^pgha:haproxy:stats_password: .*a newline"):
        pgha_formats.haproxy("a\nb", "pgha:haproxy:stats_password")
    with pytest.raises(ValueError, match="must be a string"):
        pgha_formats.ini(True, "pgha:pgbouncer:pool_mode")


def test_ordinary_values_are_unchanged():
    """Values that need no quoting render as before: existing files stay byte-identical."""
    for fn in (pgha_formats.haproxy, pgha_formats.ini, pgha_formats.libpq_value,
               pgha_formats.systemd_arg, pgha_formats.pg_hba, pgha_formats.keepalived):
        for value in ("main", "10.0.0.11:5432", "scram-sha-256", "eth0", "10.0.0.0/24"):
            assert fn(value) == value, (fn.__name__, value)
    assert pgha_formats.haproxy("*:7000") == "*:7000"
    assert pgha_formats.env_value("etcd-main") == '"etcd-main"'


# -- property tests: any accepted string reads back, any refused one raises ValueError ------

@PROPERTY
@given(TEXT)
def test_property_haproxy(value):
    out = _accepts(pgha_formats.haproxy, value, "KEY")
    if out is not None:
        assert haproxy_words(f"x {out} y") == ["x", value, "y"]


@PROPERTY
@given(TEXT, TEXT)
def test_property_userlist(name, password):
    out = _accepts(pgha_formats.pgbouncer_userlist, name, password, "KEY")
    if out is not None:
        assert pgbouncer_userlist(out) == [name, password]


@PROPERTY
@given(TEXT)
def test_property_yaml(value):
    out = _accepts(pgha_formats.yaml, value, "KEY")
    if out is not None:
        assert yaml.safe_load(f"k: {out}") == {"k": value}


@PROPERTY
@given(TEXT)
def test_property_systemd(value):
    out = _accepts(pgha_formats.systemd_arg, value, "KEY")
    if out is not None:
        assert systemd_words(f"/bin/x {out}") == ["/bin/x", value]


@PROPERTY
@given(TEXT)
def test_property_env(value):
    out = _accepts(pgha_formats.env_value, value, "KEY")
    if out is not None:
        assert env_file(f"K={out}") == {"K": value}


@PROPERTY
@given(TEXT)
def test_property_pg_hba(value):
    out = _accepts(pgha_formats.pg_hba, value, "KEY")
    if out is not None:
        fields = pg_hba_fields(f"host {out} all all md5")
        assert [text for text, _ in fields[1]] == [value] and len(fields) == 5


@PROPERTY
@given(TEXT)
def test_property_ini_and_libpq(value):
    out = _accepts(pgha_formats.ini, value, "KEY")
    if out is not None:
        assert ini_pairs(f"[s]\nk = {out}") == [("s", "k", value)]
    out = _accepts(pgha_formats.libpq_value, value, "KEY")
    if out is not None:
        assert libpq_pairs(f"dbname={out}") == [("dbname", value)]


# -- the templates, rendered with nasty values and read back ---------------------------------

STUB_MAP = ("{%- set pgha = _pgha %}{%- set members = _members %}{%- set tls_files = _tls_files %}"
            "{%- set etcd_client_urls = [] %}")


def _render(template, **context):
    """A template rendered as Salt renders it (do, Salt's json/yaml filters) with the stub map
    and pgha_formats' escapers as ``salt``."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.DictLoader({"pgha/map.jinja": STUB_MAP}),
                                    jinja2.FileSystemLoader(str(REPO))]),
        extensions=["jinja2.ext.do", SerializerExtension],
        keep_trailing_newline=True)      # as Salt does
    salt = {f"pgha_formats.{name}": getattr(pgha_formats, name) for name in dir(pgha_formats)
            if not name.startswith("_") and callable(getattr(pgha_formats, name))}
    return env.get_template(template).render(salt=salt, tplroot="pgha", grains={"id": "lb1"},
                                             **context)


def _pgha(**overrides):
    pgha = salt.utils.dictupdate.merge(
        yaml.safe_load((REPO / "pgha/parameters/defaults.yaml").read_text()),
        yaml.safe_load((REPO / "pgha/parameters/os_family/Debian.yaml").read_text()), merge_lists=False)
    pgha.update(roles=["balancer"], cluster_name="main")
    pgha["haproxy"]["check"] = {"inter": "2s", "fastinter": "1s", "downinter": "2s", "rise": 2, "fall": 2}
    for path, value in overrides.items():
        node = pgha
        *parents, last = path.split(":")
        for key in parents:
            node = node[key]
        node[last] = value
    return pgha


@pytest.mark.parametrize("value", [v for v in CORPUS if v not in CONTROL])
def test_haproxy_cfg_stats_password(value):
    pgha = _pgha(**{"haproxy:stats_password": value, "haproxy:max_replication_lag": 1048576})
    text = _render("pgha/haproxy/files/haproxy.cfg.jinja", confd=False, _pgha=pgha,
                   _members={"postgresql": {"pg1": "10.0.0.11"}}, _tls_files={})
    (auth,) = [haproxy_words(line) for line in text.splitlines() if line.strip().startswith("stats auth")]
    assert auth == ["stats", "auth", f"admin:{value}"]
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if haproxy:     # the real parser, where HAProxy is installed
        proc = subprocess.run([haproxy, "-c", "-f", "/dev/stdin"], input=text, text=True,
                              capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("value", [v for v in CORPUS if v not in CONTROL])
def test_haproxy_cfg_confd_template_keeps_go_braces_literal(value):
    pgha = _pgha(**{"haproxy:stats_password": value, "haproxy:max_replication_lag": 1048576})
    text = _render("pgha/haproxy/files/haproxy.cfg.jinja", confd=True, _pgha=pgha,
                   _members={"postgresql": {}}, _tls_files={})
    (line,) = [line for line in text.splitlines() if line.strip().startswith("stats auth")]
    # what confd's Go template prints for it: {{"{{"}} is the text {{
    printed = line.replace('{{"{{"}}', "{{")
    assert haproxy_words(printed) == ["stats", "auth", f"admin:{value}"]


@pytest.mark.parametrize("value", CORPUS)
def test_userlist_file(value):
    pgha = _pgha(**{"pgbouncer:auth_user:password": value})
    try:
        text = _render("pgha/pgbouncer/files/userlist.txt.jinja", _pgha=pgha, _members={}, _tls_files={})
    except ValueError as exc:
        assert value in CONTROL and str(exc).startswith("pgha:pgbouncer:auth_user")
        return
    assert text.endswith("\n") and text.count("\n") == 1
    assert pgbouncer_userlist(text.rstrip("\n")) == ["pgbouncer", value]


@pytest.mark.parametrize("value", CORPUS)
def test_pgbouncer_ini(value):
    pgb = _pgha()["pgbouncer"]
    pgb["pools"] = [{"name": "app", "dbname": value, "pool_parameters": "pool_size=10"}]
    try:
        text = _render("pgha/pgbouncer/files/pgbouncer.ini.jinja", pgb=pgb, pg_port=5432,
                       userlist="/etc/pgbouncer/userlist.txt", run_dir="/run/postgresql")
    except ValueError as exc:
        assert value in CONTROL and str(exc).startswith("pgha:pgbouncer:pools:0:dbname")
        return
    pairs = ini_pairs(text)
    (app,) = [v for s, k, v in pairs if (s, k) == ("databases", "app")]
    assert libpq_pairs(app) == [("host", "127.0.0.1"), ("port", "5432"), ("dbname", value),
                                ("pool_size", "10")]


@pytest.mark.parametrize("value", CORPUS)
def test_pgbouncer_ini_refuses_free_text(value):
    """pool_mode and pool parameters carry no second line, no second setting."""
    pgb = _pgha()["pgbouncer"]
    pgb["pool_mode"] = value
    try:
        text = _render("pgha/pgbouncer/files/pgbouncer.ini.jinja", pgb=pgb, pg_port=5432,
                       userlist="/etc/pgbouncer/userlist.txt", run_dir="/run/postgresql")
    except ValueError:
        return
    assert [v for s, k, v in ini_pairs(text) if k == "pool_mode"] == [value]


@pytest.mark.parametrize("value", CORPUS)
def test_etcd_env(value):
    etcd = dict(_pgha()["etcd"], cluster_token=value)
    try:
        text = _render("pgha/etcd/files/etcd.env.jinja", etcd=etcd, me="10.0.0.11",
                       initial_cluster="pg1=http://10.0.0.11:2380", initial_state="new")
    except ValueError as exc:
        assert value in CONTROL and str(exc).startswith("pgha:etcd:cluster_token")
        return
    env = env_file(text)
    assert env["ETCD_INITIAL_CLUSTER_TOKEN"] == value
    assert env["ETCD_NAME"] == "lb1"


@pytest.mark.parametrize("value", CORPUS)
def test_vip_manager_exec_start(value):
    """vip_interface cannot add arguments; other values come back as one argument each."""
    context = {"bin": "/usr/bin/vip-manager", "vm": {"netmask": 24, "interval": 1000},
               "vip": "10.0.0.100", "scope": value, "prefix": f"/service/{value}",
               "endpoints": ["http://10.0.0.11:2379"]}
    try:
        text = _render("pgha/vip_manager/files/pgha.conf.jinja", interface="eth0", **context)
    except ValueError as exc:
        assert value in CONTROL and "vip-manager argument" in str(exc)
        return
    (line,) = [line for line in text.splitlines() if line.startswith("ExecStart=/")]
    words = systemd_words(line[len("ExecStart="):])
    assert f"--trigger-key=/service/{value}/leader" in words and len(words) == 9
    with pytest.raises(ValueError, match="^pgha:vip_interface"):
        _render("pgha/vip_manager/files/pgha.conf.jinja", interface="eth0 --ip=1.2.3.4",
                **dict(context, scope="main", prefix="/service/main"))


def test_keepalived_interface_refused():
    context = {"ka": {"virtual_router_id": 51, "advert_int": 1, "unicast": False},
               "vip": "10.0.0.100", "me": "10.0.0.31", "peers": {}, "priority": 150}
    text = _render("pgha/keepalived/files/keepalived.conf.jinja", interface="eth0", **context)
    assert "10.0.0.100 dev eth0" in text
    for bad in ("eth0\n}", "eth0 #", "a" * 16, 'e"'):
        with pytest.raises(ValueError, match="^pgha:keepalived:interface"):
            _render("pgha/keepalived/files/keepalived.conf.jinja", interface=bad, **context)


@pytest.mark.parametrize("value", [v for v in CORPUS if v not in CONTROL])
def test_patroni_yaml(value):
    """Patroni's config.yml is dumped by Salt's yaml filter: any password reads back."""
    env = jinja2.Environment(extensions=[SerializerExtension])
    text = env.from_string("{{ config | yaml(False) }}").render(
        config={"postgresql": {"authentication": {"superuser": {"password": value}}},
                "restapi": {"authentication": {"password": value}}})
    loaded = yaml.safe_load(text)
    assert loaded["postgresql"]["authentication"]["superuser"]["password"] == value
    assert loaded["restapi"]["authentication"]["password"] == value


@pytest.mark.parametrize("value", [v for v in CORPUS if v not in CONTROL])
def test_pgbackrest_conf(value):
    pgha = _pgha(**{"pgbackrest:repo": {"type": "s3", "s3-key-secret": value}, "roles": ["postgresql"]})
    try:
        text = _render("pgha/pgbackrest/files/pgbackrest.conf.jinja", _pgha=pgha, _members={}, _tls_files={})
    except ValueError as exc:
        assert str(exc).startswith("pgha:pgbackrest:repo:s3-key-secret")
        assert value != value.strip() or value[:1] in "'\""
        return
    assert ("global", "repo1-s3-key-secret", value) in ini_pairs(text)


@pytest.mark.parametrize("value", [v for v in CORPUS if v not in CONTROL])
def test_pip_conf(value):
    url = "https://u:" + value + "@pypi.example/simple"
    pgha = _pgha(**{"pip:index_url": url})
    try:
        text = _render("pgha/patroni/files/pip.conf.jinja", _pgha=pgha, _members={}, _tls_files={})
    except ValueError:
        assert url != url.strip()
        return
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    assert parser.get("global", "index-url") == url
    assert json.dumps(url)          # (a str, for the record)


def test_execution_module_hands_templates_the_escapers():
    """salt['pgha_formats.<name>'] is the utils function; a refusal is a CommandExecutionError
    (a failed render naming the key)."""
    pgha_formats_module.__utils__ = {f"pgha_formats.{name}": getattr(pgha_formats, name)
                                     for name in dir(pgha_formats) if not name.startswith("_")}
    assert pgha_formats_module.__virtual__() == "pgha_formats"
    assert pgha_formats_module.haproxy("a b", "KEY") == "'a b'"
    with pytest.raises(CommandExecutionError, match="^KEY: contains a control character"):
        pgha_formats_module.ini("a\nb", "KEY")
    public = {name for name in dir(pgha_formats) if not name.startswith("_")
              and callable(getattr(pgha_formats, name)) and getattr(pgha_formats, name).__module__ == pgha_formats.__name__}
    assert public <= set(dir(pgha_formats_module)), public - set(dir(pgha_formats_module))
