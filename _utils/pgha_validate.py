"""
pgha's validator: a pillar checked against the settings model (``pgha_model``: each key's
type and grammar), a sweep for control characters (no value may carry a line break into a
line-based file), then the cross-key rules (``pgha_rules``, ``pgha_rules_net``,
``pgha_rules_host``). Pure Python: ``_modules/pgha.py`` calls :py:func:`check` through
``__utils__``, the unit tests directly.
"""
import importlib.util
import os.path
import sys
import unicodedata


def _sibling(name):
    """A utils module next to this one: Salt loads each file on its own, without the others
    on sys.path, so the siblings are loaded here by path, once per version of the file (a
    running minion loads the new one after saltutil.sync_utils)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    key = f"pgha_utils_{name}_{os.stat(path).st_mtime_ns}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


_cluster = _sibling("pgha_cluster")
_model = _sibling("pgha_model")
_rules = _sibling("pgha_rules")
_net = _sibling("pgha_rules_net")
_host = _sibling("pgha_rules_host")
_objects = _sibling("pgha_rules_objects")

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


def typed(cfg):
    """Problems as (key, message) with each declared key's type and grammar (pgha_model)."""
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
    ``os`` (its osfinger) and ``os_family``. A key a rule refuses (with the more specific
    message) is not reported again by its type or the control character sweep.
    """
    if not isinstance(pillar_pgha, dict):
        return ["pgha: pillar key 'pgha' is missing or not a mapping"]
    context = context or {}
    cfg, from_preset, preset = _cluster.resolve_rto(_cluster.merged(defaults, pillar_pgha))
    rules = (_rules.core(pillar_pgha, cfg, context) + _rules.rto(cfg, from_preset, preset, pillar_pgha, defaults)
             + _rules.bootstrap(cfg) + _rules.wal_g(cfg) + _rules.unknown_keys(pillar_pgha, defaults)
             + _net.addresses(cfg, context) + _net.pg_hba(cfg) + _net.ports(cfg)
             + _net.version_available(cfg, context) + _net.sources(cfg, context)
             + _host.firewall(cfg) + _host.tls(cfg) + _host.system(cfg, context)
             + _objects.objects(cfg))
    ruled = {key for key, _ in rules}
    types = [(key, msg) for key, msg in _first_per_key(list(sweep(pillar_pgha)) + list(typed(cfg)))
             if key not in ruled and not any(key.startswith(f"{done}:") for done in ruled)]
    return [f"pgha:{key}: {msg}" for key, msg in rules + types]


def check_restore_target(restore, prefix="restore"):
    """Problems as (key, message) with a restore target (``pgha_rules.check_restore_target``)."""
    return _rules.check_restore_target(restore, prefix)
