"""
Patroni's features that depend on its version, and the pieces of its configuration built from
pgha's settings (issue 23), pure Python (no ``__salt__``): permanent slots, callbacks, the
``log:`` section, the etcd namespace and the package version pins. The validator
(``pgha_rules_patroni``) refuses a feature the cluster's Patroni lacks, naming the version it
needs; ``pgha_derive`` puts the rendered pieces into the settings the templates read.

Versions checked against Patroni's release notes (docs/releases.rst):

- 2.1.0: permanent logical slots survive a failover: Patroni copies the slot file from the
  primary to each replica and restarts the replica's PostgreSQL to load it (every version
  since: a restart per replica, and again after the slot was invalidated, 3.3.2);
- 3.2.0: permanent physical slots are created on every member that may become the leader and
  advanced there (``pg_replication_slot_advance``). Before it (Debian 12's 3.0.2) the slot
  exists on the primary only; after a switchover the new primary creates it anew, at its
  current position, and the consumer has lost the WAL between;
- 3.3.2: the race between advancing and copying a logical slot is fixed.
"""
import re

# (feature, the first Patroni version that has it, why an older one will not do)
FEATURES = {
    "physical_slots": ((3, 2, 0), "keeps a permanent physical slot on the replicas (it survives a "
                                  "switchover without losing WAL)"),
    "logical_slots": ((3, 3, 2), "copies a permanent logical slot to the replicas without the race "
                                 "between copy and advance"),
}
CALLBACK_ACTIONS = ("on_start", "on_stop", "on_restart", "on_reload", "on_role_change")


def parse_version(text):
    """``(3, 0, 2)`` from '3.0.2', '3.0.2-1', 'patroni 4.0.7' or '1:3.0.2-1+b1'; None if none."""
    match = re.search(r"(?:^|[\s:])(\d+)\.(\d+)(?:\.(\d+))?", str(text or ""))
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def patroni_version(cfg, installed=""):
    """The Patroni version the cluster's nodes run or will run, as (text, tuple), or
    (None, None) when unknown: the pip version with pip, else the package pin
    (``patroni:version``), else the one ``installed`` on the minion (``patroni --version``),
    else the distribution's (``patroni:packaged_version``, parameters/osfinger)."""
    patroni = cfg.get("patroni") or {}
    if patroni.get("install_method") == "pip":
        text = patroni.get("pip_version") or ""
    else:
        text = patroni.get("version") or installed or patroni.get("packaged_version") or ""
    version = parse_version(text)
    if not version:
        return None, None
    return (_show(version) if text == installed else str(text)), version


def _show(version):
    return ".".join(map(str, version))


def feature_problem(cfg, feature, installed=""):
    """Why the cluster's Patroni cannot do ``feature`` (a key of FEATURES), or None (also
    None when the version is unknown)."""
    text, version = patroni_version(cfg, installed)
    needed, what = FEATURES[feature]
    if version is None or version >= needed:
        return None
    return (f"needs Patroni {_show(needed)} or newer, which {what}; this cluster runs Patroni {text} "
            "(patroni:install_method pip with patroni:pip_version, or a newer distribution, has it)")


def slots(entries):
    """Patroni's dynamic ``slots:`` from pgha's list (autobase's patroni_slots shape)."""
    found = {}
    # (an entry without its name is the validator's to refuse: skipped here)
    for entry in entries or []:
        if not isinstance(entry, dict) or not entry.get("slot"):
            continue
        slot = {"type": entry.get("type") or "physical"}
        if slot["type"] == "logical":
            slot.update(database=entry.get("database"), plugin=entry.get("plugin"))
        found[entry["slot"]] = slot
    return found


def callbacks(entries, directory):
    """``{action: script path}`` for Patroni's ``postgresql.callbacks``: one script per action,
    named after it, in ``directory``."""
    return {entry["action"]: f"{directory}/{entry['action']}" for entry in entries or []
            if isinstance(entry, dict) and entry.get("action") in CALLBACK_ACTIONS}


def log_section(log):
    """Patroni's ``log:`` section. ``journal``: Patroni writes to stderr (no ``dir``), which
    systemd's journal keeps and the gates read (pgha_patroni_log); ``logfile``: rotating files
    in ``dir``."""
    section = {"level": str(log["level"]).upper(), "traceback_level": str(log["traceback_level"]).upper(),
               "format": log["format"], "max_queue_size": log["max_queue_size"]}
    if log.get("dateformat"):
        section["dateformat"] = log["dateformat"]
    if log.get("loggers"):
        section["loggers"] = {name: str(level).upper() for name, level in log["loggers"].items()}
    if log.get("destination") == "logfile":
        section.update(dir=log["dir"], file_num=log["file_num"], file_size=log["file_size"])
    return section


def dcs_prefix(namespace, scope):
    """The etcd key of the cluster: ``/service/main`` for namespace ``/service/`` (the path
    Patroni builds, ``/<namespace>/<scope>``, its slashes collapsed)."""
    return re.sub("/+", "/", f"/{namespace}/{scope}").rstrip("/")


def pkg_version(version):
    """A ``pkg.installed`` version for a pin (Salt's pkg states match a trailing '*'):
    '3.0.2' -> '3.0.2-*', any package revision of that release (Debian's 3.0.2-1, an RPM's
    3.0.2-1.el9); a full version ('3.0.2-1') as it is; '' (the newest) as it is."""
    text = str(version or "")
    if not text or "-" in text or text.endswith("*"):
        return text
    return f"{text}-*"


def postgresql_pin(major, minor):
    """The PostgreSQL version a minor pin names ('15', '18' -> '15.18'); '' for the newest."""
    minor = str(minor or "")
    return "" if minor in ("", "latest") else f"{major}.{minor}"


# Which packages of each component a pin holds: all of PostgreSQL's and etcd's (they move
# together), only Patroni's own (its Python libraries follow the distribution).
PINNED = {"postgresql": "all", "etcd": "all", "patroni": "first"}


def pinned_pkgs(pkgs, pins):
    """``{component: [name or {name: version}]}`` for Salt's ``pkg.installed`` ``pkgs``: the
    packages ``pins`` (``{component: version}``, '' = the newest) hold, with their version."""
    found = {}
    for component, how in PINNED.items():
        names, version = list(pkgs.get(component) or []), pins.get(component) or ""
        held = names if how == "all" else names[:1]
        found[component] = [{name: version} if version and name in held else name for name in names]
    return found


def apt_preferences(pkgs, pins):
    """The apt preferences file that keeps pinned packages at their version (an ``apt
    upgrade``, pgha.update's system target, would move them otherwise); '' when nothing is
    pinned. Priority 1001: apt goes to that version even when it is older than the
    installed one."""
    stanzas = []
    for component, entries in pinned_pkgs(pkgs, pins).items():
        held = [next(iter(e)) for e in entries if isinstance(e, dict)]
        if held:
            stanzas.append(f"Package: {' '.join(held)}\nPin: version {pins[component]}\nPin-Priority: 1001\n")
    if not stanzas:
        return ""
    return "# Managed by Salt (pgha): the version pins of pgha:postgresql:version_minor,\n" \
           "# patroni:version and etcd:version.\n\n" + "\n".join(stanzas)
