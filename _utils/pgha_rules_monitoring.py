"""
pgha's rules for monitoring (issue 24, pgha:monitoring): what crosses keys. The exporters'
role needs a password; the monitor role needs monitoring on; the exporters' and the monitor's
ports must not collide with each other nor with what else listens on the minion; the
exporters' role is not one of the roles pgha manages for other purposes. Each function
returns problems as (key, message); ``cfg`` is the merged pgha settings.
"""
import os.path
import runpy

# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]

_get = _sibling("pgha_cluster").get
_rules = _sibling("pgha_rules")
_net = _sibling("pgha_rules_net")
_mon = _sibling("pgha_monitoring")

EXPORTER_PORTS = ("node_exporter", "postgres_exporter", "pgbouncer_exporter", "etcd_metrics", "haproxy_exporter")
MONITOR_PORTS = ("prometheus", "alertmanager")


def _port(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535 else None


def _listening(cfg):
    """The monitoring port keys that listen on this minion, by its roles."""
    roles, keys = _rules._roles(cfg), []
    if _get(cfg, "monitoring:enabled") is not True:
        return keys
    points = _mon.endpoints(cfg)
    names = {"node": "node_exporter", "postgres": "postgres_exporter", "pgbouncer": "pgbouncer_exporter",
             "etcd": "etcd_metrics", "haproxy": "haproxy_exporter"}
    keys += [f"monitoring:ports:{names[kind]}" for kind in points if kind in names]
    if "monitor" in roles:
        keys += [f"monitoring:ports:{name}" for name in MONITOR_PORTS]
    return keys


def check(cfg, context=None):
    """Problems as (key, message) with pgha:monitoring. ``context`` may name the minion's
    ``os_family``: the Prometheus chain is packaged by Debian only."""
    problems = []
    roles = _rules._roles(cfg)
    enabled = _get(cfg, "monitoring:enabled") is True
    if "monitor" in roles and not enabled:
        problems.append(("roles", "has monitor but monitoring:enabled is false: set it for the whole cluster "
                         "(the exporters and the monitor go together)"))
    if not enabled:
        return problems
    family = (context or {}).get("os_family")
    if family and family != "Debian":
        problems.append(("monitoring:enabled", f"is not supported on {family}: pgha installs Prometheus, "
                         "Alertmanager and the exporters from Debian's packages (docs/monitoring.md)"))
    # h9-mon: Debian 12's prometheus-pgbouncer-exporter (1.7) reads SHOW STATS columns PgBouncer
    # renamed in 1.8 and dies at start with any PgBouncer Debian 12 has; pgha configures the
    # Go exporter (Debian 13's) only. parameters/osfinger/Debian-12.yaml says false.
    if _get(cfg, "monitoring:pgbouncer_exporter") is True and (context or {}).get("os") == "Debian-12":
        problems.append(("monitoring:pgbouncer_exporter", "is true on Debian-12: its prometheus-pgbouncer-exporter "
                         "(1.7) cannot read PgBouncer >= 1.8 and restarts forever; pgha-metrics gives the "
                         "waiting-clients signal without it (docs/monitoring.md)"))
    password = _get(cfg, "monitoring:user:password")
    if roles & {"postgresql"} and (password is None or (isinstance(password, str) and not password.strip())):
        problems.append(("monitoring:user:password", "is missing or empty: monitoring:enabled needs a password "
                         "for the exporters' PostgreSQL role (monitoring:user:name)"))
    name = _get(cfg, "monitoring:user:name")
    taken = {_get(cfg, "postgresql:superuser:name"): "postgresql:superuser:name",
             _get(cfg, "postgresql:replication_user:name"): "postgresql:replication_user:name",
             _get(cfg, "pgbouncer:auth_user:name"): "pgbouncer:auth_user:name"}
    if isinstance(name, str) and name in taken:
        problems.append(("monitoring:user:name", f"is {name!r}, also {taken[name]}: the exporters need a role "
                         "of their own with pg_monitor only"))
    users = _get(cfg, "postgresql:users")
    if isinstance(users, list) and any(isinstance(u, dict) and u.get("name") == name for u in users):
        problems.append(("monitoring:user:name", f"is {name!r}, also in postgresql:users: pgha manages the "
                         "exporters' role itself"))
    seen = {}
    for key in list(_net._listening(cfg)) + _listening(cfg):
        port = _port(_get(cfg, key))
        if port is None:
            continue
        if port in seen and key.startswith("monitoring:"):
            problems.append((key, f"port {port} is also {seen[port]}"))
        elif port in seen and seen[port].startswith("monitoring:"):
            problems.append((seen[port], f"port {port} is also {key}"))
        else:
            seen.setdefault(port, key)
    return problems
