"""
pgha's cross-key rules for Patroni's and etcd's own settings (issue 23): permanent slots and
the Patroni version they need, callbacks, the log directory, etcd authentication. Each
function returns problems as (key, message).
"""
import os.path
import runpy


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


_features = _sibling("pgha_patroni_features")


def slots(cfg, installed=""):
    """Each slot: a unique name, what its type needs, and a Patroni that keeps it
    (``installed``: ``patroni --version`` on the minion, when there is one)."""
    patroni = cfg.get("patroni") or {}
    entries = patroni.get("slots") or []
    if not isinstance(entries, list):
        return []
    found, seen = [], set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        key = f"patroni:slots:{i}"
        name, kind = entry.get("slot"), entry.get("type") or "physical"
        if not name:
            found.append((f"{key}:slot", "every slot needs its name (slot: ...)"))
        elif name in seen:
            found.append((f"{key}:slot", f"the slot {name!r} is listed twice"))
        seen.add(name)
        if kind == "logical":
            for field in ("database", "plugin"):
                if not entry.get(field):
                    found.append((f"{key}:{field}", "a logical slot needs its database and plugin"))
            problem = _features.feature_problem(cfg, "logical_slots", installed)
            if problem:
                found.append((f"{key}:type", f"a permanent logical slot {problem}"))
            elif patroni.get("logical_slots_restart_replicas") is not True:
                found.append((f"{key}:type", "Patroni copies a permanent logical slot to each replica by "
                              "restarting the replica's PostgreSQL; pgha restarts PostgreSQL only when "
                              "asked: set patroni:logical_slots_restart_replicas: true to allow it"))
        else:
            for field in ("database", "plugin"):
                if entry.get(field):
                    found.append((f"{key}:{field}", "a physical slot has no database or plugin"))
            problem = _features.feature_problem(cfg, "physical_slots", installed)
            if problem:
                found.append((f"{key}:type", f"a permanent physical slot {problem}"))
    return found


def callbacks(cfg):
    """One script per action, each from exactly one of source or contents."""
    entries = (cfg.get("patroni") or {}).get("callbacks") or []
    if not isinstance(entries, list):
        return []
    found, seen = [], set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        key = f"patroni:callbacks:{i}"
        if not entry.get("action"):
            found.append((f"{key}:action", f"every callback needs its action: one of {', '.join(_features.CALLBACK_ACTIONS)}"))
        elif entry.get("action") in seen:
            found.append((f"{key}:action", f"{entry.get('action')} is listed twice: Patroni runs one "
                          "script per action"))
        seen.add(entry.get("action"))
        if bool(entry.get("source")) == bool(entry.get("contents")):
            found.append((key, "give the script as exactly one of source (salt://...) or contents"))
    return found


def etcd_auth(cfg):
    """etcd authentication: a user with its password, and etcd's root password when pgha
    deploys the etcd (switching auth on needs a root user). The root password sits under
    patroni:etcd, not etcd: etcd's state hands pgha:etcd to its template as context."""
    patroni_etcd = (cfg.get("patroni") or {}).get("etcd") or {}
    user, password = patroni_etcd.get("username"), patroni_etcd.get("password")
    found = []
    if user and not password:
        found.append(("patroni:etcd:password", "patroni:etcd:username is set: give its password"))
    if password and not user:
        found.append(("patroni:etcd:username", "patroni:etcd:password is set: give the user name"))
    if user == "root":
        found.append(("patroni:etcd:username", "root is etcd's administrator: give Patroni a user of its own"))
    if user and (cfg.get("confd") or {}).get("enabled") is True:
        found.append(("confd:enabled", "confd cannot log in to etcd yet (its confd.toml would hold the "
                      "password): not with patroni:etcd:username"))
    if user and not cfg.get("dcs_exists") and not patroni_etcd.get("root_password"):
        found.append(("patroni:etcd:root_password", "etcd authentication (patroni:etcd:username) needs etcd's "
                      "root user: give its password"))
    return found


def check(cfg, context=None):
    """Every problem of this module's rules; ``context`` as pgha_validate.check's."""
    installed = (context or {}).get("patroni_version") or ""
    return slots(cfg, installed) + callbacks(cfg) + etcd_auth(cfg)
