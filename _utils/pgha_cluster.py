"""
pgha's cluster-wide checks, pure Python (no ``__salt__``): what no single minion's pillar
shows. Used by the ``pgha`` runner on the master (``pgha.plan``) and by the ``pgha.check_cluster``
execution module on a minion. Synced with ``saltutil.sync_utils`` (``salt-run
saltutil.sync_utils`` for the master: the orchestrations do it first).
"""
import os.path
import re
import runpy

import salt.utils.dictupdate

_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]

# pgha:cluster_name, and the orchestrations' `cluster` argument: no glob character, ever.
CLUSTER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Settings of the whole cluster: every minion's pillar must agree (check_cluster).
# Patroni's timings are too: they live in the DCS, and minions that disagree would patch them
# back and forth (pgha_patroni.dynamic_config). Compared as resolved from the failover preset.
CLUSTER_KEYS = ("with_haproxy_load_balancing", "dcs_exists", "cluster_vip", "postgresql:version",
                "patroni:synchronous_mode", "patroni:synchronous_mode_strict",
                "patroni:synchronous_node_count", "patroni:rto_profile", "patroni:ttl",
                "patroni:loop_wait", "patroni:retry_timeout", "patroni:primary_start_timeout",
                # standby clusters (issue 20): the DCS holds one standby_cluster per cluster
                "standby_cluster", "standby_clusters")
# What the check reads of each minion's pgha pillar: never a password.
CHECKED_KEYS = ("roles",) + CLUSTER_KEYS


def cluster_name_problem(name):
    """Why ``name`` is not a cluster name (None when it is one)."""
    if not isinstance(name, str) or not CLUSTER_NAME_RE.match(name):
        return (f"must be a name of letters, digits, '.', '_' or '-' that starts with a letter or a "
                f"digit, and no glob (got {name!r})")
    return None


def case_twins(name, names):
    """The other names in ``names`` that equal ``name`` when case is ignored."""
    return sorted(n for n in names if n != name and isinstance(n, str) and n.lower() == name.lower())


def get(data, path, default=None):
    """``data``'s value at the colon path ``path`` (``patroni:ttl``), or ``default``."""
    cur = data
    for part in path.split(":"):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def _int(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def merged(defaults, pillar_pgha):
    """The settings map.jinja would use: defaults, then pillar pgha:lookup, then pillar pgha."""
    lookup = pillar_pgha.get("lookup")
    cfg = salt.utils.dictupdate.merge({}, defaults or {}, merge_lists=False)
    if isinstance(lookup, dict):
        cfg = salt.utils.dictupdate.merge(cfg, lookup, merge_lists=False)
    return salt.utils.dictupdate.merge(cfg, pillar_pgha, merge_lists=False)


def _roles(cfg):
    roles = cfg.get("roles")
    return set(map(str, roles)) if isinstance(roles, list) else set()


def _preset_items(preset, prefix=""):
    """(colon path, value) of every key a failover preset sets: patroni:ttl, haproxy:check:inter, ..."""
    for key, value in preset.items():
        if isinstance(value, dict):
            yield from _preset_items(value, f"{prefix}{key}:")
        else:
            yield f"{prefix}{key}", value


def resolve_rto(cfg):
    """The settings with the failover preset applied, as map.jinja applies it: each key the
    preset (``rto_profiles:<patroni:rto_profile>``) sets and the settings leave ~ (None) takes
    the preset's value. Returns (settings, the paths filled from the preset, the preset's name
    or None when patroni:rto_profile names no preset). ``cfg`` is not modified."""
    profiles, name = cfg.get("rto_profiles"), get(cfg, "patroni:rto_profile")
    preset = profiles.get(name) if isinstance(profiles, dict) and isinstance(name, str) else None
    if not isinstance(preset, dict):
        return cfg, set(), None
    fill, filled = {}, set()
    for path, value in _preset_items(preset):
        *parents, key = path.split(":")
        parent = get(cfg, ":".join(parents)) if parents else cfg
        if (parent is None or isinstance(parent, dict)) and (parent or {}).get(key) is None:
            target = fill
            for part in parents:
                target = target.setdefault(part, {})
            target[key] = value
            filled.add(path)
    return salt.utils.dictupdate.merge(cfg, fill, merge_lists=False), filled, name


def checked_part(pillar_pgha):
    """The part of one minion's pgha pillar the cluster check reads (CHECKED_KEYS): roles and
    the cluster settings, never a password."""
    shown = {}
    if not isinstance(pillar_pgha, dict):
        return shown
    for path in CHECKED_KEYS:
        section, _, key = path.partition(":")
        if not key and section in pillar_pgha:
            shown[section] = pillar_pgha[section]
        elif key and isinstance(pillar_pgha.get(section), dict) and key in pillar_pgha[section]:
            shown.setdefault(section, {})[key] = pillar_pgha[section][key]
    return shown


def check_cluster(pillars, defaults):
    """
    The cluster-wide problems and warnings: the etcd member count, synchronous replication
    with too few database nodes, Type A without balancers, and cluster settings
    (CLUSTER_KEYS) that differ between minions. ``pillars`` is ``{minion: pgha pillar}``;
    ``defaults`` pgha's parameters/defaults.yaml. Returns ``{"problems": [...], "warnings":
    [...]}``, each ``pgha:<key>: <message>``. Neither argument is modified.
    """
    problems, warnings = cluster_checks(pillars if isinstance(pillars, dict) else {}, defaults or {})
    return {"problems": [f"pgha:{key}: {msg}" for key, msg in problems],
            "warnings": [f"pgha:{key}: {msg}" for key, msg in warnings]}


def cluster_checks(pillars, defaults):
    """(problems, warnings) as (key, message) lists for :py:func:`check_cluster`."""
    problems, warnings = [], []
    settings = {str(minion): resolve_rto(merged(defaults, pillar))[0]
              for minion, pillar in sorted(pillars.items()) if isinstance(pillar, dict)}
    if not settings:
        return [("cluster_name", "no minion of the cluster has a pgha pillar")], []
    for key in CLUSTER_KEYS:
        values = {}
        for minion, cfg in settings.items():
            values.setdefault(str(get(cfg, key)), []).append(minion)
        if len(values) > 1:
            seen = "; ".join(f"{value or repr(value)} on {', '.join(names)}"
                             for value, names in sorted(values.items()))
            problems.append((key, f"differs between minions ({seen}): set it once for the cluster"))

    def having(role):
        return [minion for minion, cfg in settings.items() if role in _roles(cfg)]

    databases, members, balancers = having("postgresql"), having("etcd"), having("balancer")
    site = settings[databases[0]] if databases else next(iter(settings.values()))
    names = ", ".join(members)
    if site.get("dcs_exists"):
        pass
    elif not members:
        problems.append(("roles", "no minion has the etcd role and dcs_exists is false: give the etcd "
                         "role to 3 minions, or set dcs_exists and etcd:endpoints"))
    elif len(members) == 2:
        problems.append(("roles", f"2 minions have the etcd role ({names}): etcd needs a majority, so "
                         "2 members survive no failure (like 1) and stop when either fails; give "
                         "the role to 3 minions (or 1 for a test cluster)"))
    elif len(members) == 1:
        warnings.append(("roles", f"1 minion has the etcd role ({names}): the cluster stops when it "
                         "fails; use 3 or 5 members"))
    elif len(members) % 2 == 0:
        warnings.append(("roles", f"{len(members)} minions have the etcd role ({names}): they survive "
                         f"no more failures than {len(members) - 1}; use an odd number"))

    count = _int(get(site, "patroni:synchronous_node_count"))
    if databases and get(site, "patroni:synchronous_mode") and count and len(databases) <= count:
        have = (f"{count} synchronous replica(s) need {count + 1} database nodes, the cluster has "
                f"{len(databases)} ({', '.join(databases)})")
        if get(site, "patroni:synchronous_mode_strict"):
            problems.append(("patroni:synchronous_mode_strict", f"is true but {have}: writes would "
                             "stop without a synchronous replica"))
        else:
            warnings.append(("patroni:synchronous_node_count", f"{have}: commits wait for fewer "
                             "synchronous replicas than asked"))

    margin = get(site, "patroni:watchdog:safety_margin")
    ttl, loop_wait, retry = (get(site, f"patroni:{k}") for k in ("ttl", "loop_wait", "retry_timeout"))
    mode = get(site, "patroni:watchdog:mode")
    timed = databases and all(isinstance(v, int) and not isinstance(v, bool) for v in (ttl, loop_wait, retry, margin))
    if timed and mode == "automatic" and _sibling("pgha_watchdog").disabled_by_timing(ttl, loop_wait, margin):
        # pgha_rules.watchdog refuses the same with mode required
        warnings.append(("patroni:watchdog:safety_margin", f"ttl - safety_margin - loop_wait < 0 ({ttl} - "
                         f"{margin} - {loop_wait}): Patroni switches its watchdog off, so a hung leader "
                         "is not reset before another node is promoted"))
    elif (timed and mode in ("automatic", "required")
          and _sibling("pgha_watchdog").resets_during_dcs_retry(ttl, loop_wait, retry, margin)):
        warnings.append(("patroni:watchdog:safety_margin", f"loop_wait + retry_timeout > ttl - safety_margin "
                         f"({loop_wait} + {retry} > {ttl} - {margin}): the watchdog resets the leader's host "
                         "during an etcd or network stall that Patroni's retries would ride out; lower "
                         "safety_margin, loop_wait or retry_timeout, or raise ttl"))

    if site.get("with_haproxy_load_balancing"):
        if not balancers:
            problems.append(("with_haproxy_load_balancing", "is true but no minion of the cluster has "
                             "the balancer role (pgha:roles)"))
        elif len(balancers) == 1:
            warnings.append(("roles", f"1 minion has the balancer role ({balancers[0]}): keepalived has "
                             "no standby for cluster_vip; use 2"))
    return problems, warnings
