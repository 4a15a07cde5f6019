"""
pgha's validator: a pillar checked against the settings model (``pgha_model``: each key's
type and grammar), a sweep for control characters (no value may carry a line break into a
line-based file), then the cross-key rules (``pgha_rules``, ``pgha_rules_net``,
``pgha_rules_host``). Pure Python: ``_modules/pgha.py`` calls :py:func:`check` through
``__utils__``, the unit tests directly.
"""
import os.path
import runpy
import unicodedata


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


_cluster = _sibling("pgha_cluster")
_t = _sibling("pgha_types")
_model = _sibling("pgha_model")
_rules = _sibling("pgha_rules")
_net = _sibling("pgha_rules_net")
_host = _sibling("pgha_rules_host")
_pgb = _sibling("pgha_rules_pgbouncer")
_patroni = _sibling("pgha_rules_patroni")
_objects = _sibling("pgha_rules_objects")
_standby = _sibling("pgha_standby")
_monitoring = _sibling("pgha_rules_monitoring")   # issue 24

# Line breaks beyond \n and \r: YAML and Python's splitlines() end a line at these too.
LINE_BREAKS = ("\u0085", "\u2028", "\u2029")


def _control(text, multiline):
    """The position and name of the first control character in ``text`` (None if none).
    ``multiline`` lets \\n and \\r through (PEM blocks)."""
    for pos, char in enumerate(text):
        if multiline and char in "\r\n":
            continue
        if unicodedata.category(char) == "Cc" or char in LINE_BREAKS:
            return pos, repr(char)
    return None


def _is(path, patterns):
    path = path[len("lookup:"):] if path.startswith("lookup:") else path
    return any(p.search(path) for p in patterns)


def sweep(value, path=""):
    """Problems as (key, message) with control characters in any string of the pillar (keys
    too): PEM keys (pgha_model.MULTILINE) may span lines, nothing else may. Values are never
    shown (a password may be among them)."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}{key}"
            found = _control(key, False) if isinstance(key, str) else None
            if found:
                yield where, (f"the key contains the control character {found[1]} at position {found[0]}: "
                              "remove it")
            yield from sweep(item, f"{where}:")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from sweep(item, f"{path}{i}:")
    elif isinstance(value, str):
        where = path.rstrip(":")
        found = _control(value, _is(where, _model.MULTILINE))
        if found:
            yield where, (f"contains the control character {found[1]} at position {found[0]}: pgha writes "
                          "this value into a line-based file or command, where it would end the line or "
                          "worse; remove it")


def _sections():
    """{section: its declared keys' last parts} for every colon path above a declared key that
    is not declared itself (``firewall``, ``system:limits``): mappings of known keys."""
    sections = {}
    for key in _model.KEYS:
        parts = key.split(":")
        for depth in range(1, len(parts)):
            section = ":".join(parts[:depth])
            if section not in _model.KEYS:
                sections.setdefault(section, []).append(parts[depth])
    return sections


def typed(cfg):
    """Problems as (key, message) with each declared key's type and grammar (pgha_model), and
    with each section that is not a mapping (its value is not shown: a section may hold a
    password, given at the wrong level)."""
    for section, names in _sections().items():
        value = _cluster.get(cfg, section)
        if value is not None and not isinstance(value, dict):
            known = ", ".join(dict.fromkeys(names))
            yield section, f"must be a mapping of {known}, not {_t.kind(value)}"
    for key, kind in _model.KEYS.items():
        yield from kind.problems(_cluster.get(cfg, key), key)


def _first_per_key(found):
    seen, kept = set(), []
    for key, msg in found:
        if key not in seen:
            seen.add(key)
            kept.append((key, msg))
    return kept


def check(pillar_pgha, defaults, context=None):
    """Problems (``pgha:<key>: <message>`` strings) with a pgha pillar dict.

    ``defaults`` are the merged parameters (defaults.yaml, os_family/, osfinger/). ``context``
    holds what only the minion knows: ``address`` (its cluster address, for the VIP's subnet),
    ``os`` (its osfinger), ``os_family``, ``container`` (its container, '' on a host of its
    own), ``pgbouncer_version`` (the installed PgBouncer, when there is one) and
    ``patroni_version`` (``patroni --version``). A key a rule refuses (with the more specific
    message) is not reported again by its type or the control character sweep.
    """
    if not isinstance(pillar_pgha, dict):
        return ["pgha: pillar key 'pgha' is missing or not a mapping"]
    context = context or {}
    cfg, from_preset, preset = _cluster.resolve_rto(_cluster.merged(defaults, pillar_pgha))
    rules = (_rules.core(pillar_pgha, cfg, context) + _rules.rto(cfg, from_preset, preset, pillar_pgha, defaults)
             + _rules.watchdog(cfg, context)
             + _rules.bootstrap(cfg) + _rules.wal_g(cfg) + _rules.unknown_keys(pillar_pgha, defaults)
             + _net.addresses(cfg, context) + _net.pg_hba(cfg) + _net.ports(cfg)
             + _net.version_available(cfg, context) + _net.sources(cfg, context)
             + _host.tls(cfg) + _host.system(cfg, context)
             + _pgb.settings(cfg) + _pgb.versions(cfg, context)
             + _patroni.check(cfg, context)
             + _objects.objects(cfg)
             + _standby.rules(dict(cfg, address=context.get("address") or cfg.get("address")))
             + _monitoring.check(cfg, context))
    ruled = {key for key, _ in rules}
    types = [(key, msg) for key, msg in _first_per_key(list(sweep(pillar_pgha)) + list(typed(cfg)))
             if key not in ruled and not any(key.startswith(f"{done}:") for done in ruled)]
    return [f"pgha:{key}: {msg}" for key, msg in rules + types]


def check_restore_target(restore, prefix="restore"):
    """Problems as (key, message) with a restore target (``pgha_rules.check_restore_target``)."""
    return _rules.check_restore_target(restore, prefix)
