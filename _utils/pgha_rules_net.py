"""
pgha's rules for addresses and package sources: the node's address, the VIP and its subnet,
etcd's endpoints, pg_hba lines (PostgreSQL's grammar), ports and their collisions, the
PostgreSQL major the package sources have, and pgdg, epel, pkg_repos and proxy_env. Each
function returns problems as (key, message); ``cfg`` is the merged pgha settings.
"""
import ipaddress
import os.path
import runpy
import urllib.parse


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


_get = _sibling("pgha_cluster").get
_rules = _sibling("pgha_rules")

DIRECT_PORTS = _rules.DIRECT_PORTS
NAME_RE = _rules.NAME_RE
PORT_KEYS = ("postgresql:port", "patroni:restapi:port", "pgbouncer:port", "etcd:client_port",
             "etcd:peer_port") + tuple(f"haproxy:ports:{name}" for name in DIRECT_PORTS + ("stats",))
HBA_TYPES = _sibling("pgha_grammars").HBA_TYPES


def _int(value):
    """``value`` when it is a whole number (YAML's int, not a bool nor a string of digits), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _major(value):
    """A PostgreSQL major given as 15 or '15'."""
    return int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) \
        and str(value).isdigit() and str(value).isascii() else None


PROXY_KEYS = ("http_proxy", "https_proxy", "no_proxy")
APT_REPO_KEYS = {"name", "url", "dist", "components", "signed_by", "key_text", "trusted"}
YUM_REPO_KEYS = {"name", "baseurl", "humanname", "gpgkey", "gpgcheck"}
PGDG_FAMILIES = ("Debian", "RedHat")


def _url_problem(value, schemes):
    """Why ``value`` is not a URL with one of ``schemes`` and a host (file: needs a path), or None."""
    parsed = urllib.parse.urlsplit(str(value))
    if parsed.scheme not in schemes:
        return f"{value!r} is not a {' or '.join(s + ':' for s in schemes)} URL"
    if parsed.scheme == "file":
        return None if parsed.path.startswith("/") else f"{value!r} needs an absolute path"
    try:
        parsed.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return f"{value!r} has a bad port"
    return None if parsed.hostname else f"{value!r} has no host"


def sources(cfg, context):
    """Problems as (key, message) with the package sources: pgha:pgdg, pgha:epel, pgha:pkg_repos
    and pgha:proxy_env. ``context`` may name the minion's ``os_family``: the repository entries
    are apt's or yum's."""
    problems = []
    family = context.get("os_family") or ""
    proxy = cfg.get("proxy_env") if isinstance(cfg.get("proxy_env"), dict) else {}   # typed by the model
    for key, value in proxy.items():
        if key not in PROXY_KEYS:
            problems.append((f"proxy_env:{key}", f"unknown key; known: {', '.join(PROXY_KEYS)} "
                             "(pgha gives them to apt/dnf and pip only)"))
        elif isinstance(value, str) and key != "no_proxy" and value:
            why = _url_problem(value, ("http", "https"))
            if why:
                problems.append((f"proxy_env:{key}", f"{why} such as http://proxy.example:3128"))
    for name in ("pgdg", "epel"):
        section = cfg.get(name, {})
        if not isinstance(section, dict):
            continue    # the model says a section must be a mapping, and types its keys
        if section.get("enabled") is True:
            supported = PGDG_FAMILIES if name == "pgdg" else ("RedHat",)
            if family and family not in supported:
                problems.append((f"{name}:enabled", f"is not supported on {context.get('os') or family} "
                                 f"(only the {' and '.join(supported)} families)"))
            if section.get("url") in (None, "") and family:
                problems.append((f"{name}:url", "is empty: give the repository's (or its mirror's) URL"))
            elif isinstance(section.get("url"), str) and section["url"]:
                why = _url_problem(section["url"], ("http", "https", "file"))
                if why:
                    problems.append((f"{name}:url", why))
    problems.extend(_repo_entries(cfg.get("pkg_repos", []), family))
    return problems


def _repo_entries(entries, family):
    """Problems as (key, message) with pgha:pkg_repos: apt entries {name, url, dist, ...} or yum
    entries {name, baseurl, ...}, as the minion's family (when known) needs."""
    if not isinstance(entries, list):
        return []   # the model types the list, its entries and their keys
    problems, names = [], set()
    for i, entry in enumerate(entries):
        key = f"pkg_repos:{i}"
        if not isinstance(entry, dict):
            continue
        name = entry.get("name")
        if name in (None, ""):
            problems.append((f"{key}:name", "is missing: a name of letters, digits, '.', '_' or '-'"))
        elif isinstance(name, str) and name in names:
            problems.append((f"{key}:name", f"{name!r} is listed twice"))
        if isinstance(name, str):
            names.add(name)
        apt = "url" in entry or (family == "Debian" and "baseurl" not in entry)
        known = APT_REPO_KEYS if apt else YUM_REPO_KEYS
        if family and (family == "Debian") != apt:
            problems.append((key, f"is {'an apt' if apt else 'a yum'} repository but this minion's family is {family}: "
                             + ("give url, dist, components" if family == "Debian" else "give baseurl")))
            continue
        for extra in sorted(set(entry) - known):
            problems.append((f"{key}:{extra}", f"unknown key for {'an apt' if apt else 'a yum'} repository; known: "
                             f"{', '.join(sorted(known))}"))
        url_key = "url" if apt else "baseurl"
        if not entry.get(url_key):
            problems.append((f"{key}:{url_key}", "is missing"))
        else:
            why = _url_problem(entry[url_key], ("http", "https", "file"))
            if why:
                problems.append((f"{key}:{url_key}", why))
        if apt and entry.get("key_text") and "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in str(entry["key_text"]):
            problems.append((f"{key}:key_text", "is not an armored OpenPGP key (-----BEGIN PGP PUBLIC KEY BLOCK-----)"))
        if apt and entry.get("key_text") and entry.get("signed_by"):
            problems.append((f"{key}:signed_by", "and key_text are both set: key_text is written to "
                             f"/etc/apt/keyrings/pgha-{name}.asc and signs the repository"))
        if not apt and entry.get("gpgkey"):
            why = _url_problem(entry["gpgkey"], ("http", "https", "file"))
            if why:
                problems.append((f"{key}:gpgkey", why))
    return problems

def _ipv4(value):
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        return None


def addresses(cfg, context):
    """Problems as (key, message) with the VIP, when ``context`` has this node's address: whether
    the VIP is in its subnet (on the nodes that hold the VIP: database nodes in Type B, balancers
    in Type A). The model types the addresses, URLs and the netmask."""
    problems = []
    netmask = _int(_get(cfg, "vip_manager:netmask"))     # the model types it: 1-32
    if netmask is not None and not 1 <= netmask <= 32:
        netmask = None
    vip, address = _ipv4(cfg.get("cluster_vip") or ""), _ipv4(context.get("address") or "")
    holder = "balancer" if cfg.get("with_haproxy_load_balancing") else "postgresql"
    if vip and address and netmask and holder in _rules._roles(cfg):
        subnet = ipaddress.IPv4Network(f"{address}/{netmask}", strict=False)
        if vip == address:
            problems.append(("cluster_vip", f"{vip} is this node's own address: the VIP must be "
                             "an address no node has"))
        elif vip not in subnet:
            problems.append(("cluster_vip", f"{vip} is outside this node's subnet {subnet} "
                             "(vip_manager:netmask)"))
    return problems


def pg_hba(cfg):
    """Problems as (key, message) with the extra pg_hba lines (postgresql:pg_hba) that no
    single field shows: the model types each field by PostgreSQL's documented grammar
    (pg_hba.conf); here, that a line has the fields its type needs (local: no address)."""
    entries = _get(cfg, "postgresql:pg_hba")
    problems = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        key = f"postgresql:pg_hba:{i}"
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type")
        if kind in (None, ""):
            problems.append((key, f"needs a type: one of {', '.join(HBA_TYPES)}"))
            continue
        needed = ("database", "user", "method") + (() if kind == "local" else ("address",))
        missing = [name for name in needed if not str(entry.get(name) or "").strip()]
        if missing:
            problems.append((key, f"needs {', '.join(missing)}"))
        if kind == "local" and entry.get("address"):
            problems.append((f"{key}:address", "must not be set: a local line has no address"))
    return problems


def _listening(cfg):
    """The port keys of what listens on this minion, for its roles, in a fixed order."""
    roles, keys = _rules._roles(cfg), []
    if "postgresql" in roles:
        keys += ["postgresql:port", "patroni:restapi:port"]
        pgbouncer = _get(cfg, "pgbouncer:enabled")
        if pgbouncer is True or (pgbouncer == "auto" and cfg.get("with_haproxy_load_balancing")):
            keys.append("pgbouncer:port")
    if "etcd" in roles and not cfg.get("dcs_exists"):
        keys += ["etcd:client_port", "etcd:peer_port"]
    if "balancer" in roles:
        listeners = ["master", "replicas"]
        if _get(cfg, "patroni:synchronous_mode"):
            listeners += ["replicas_sync", "replicas_async"]
        keys += [f"haproxy:ports:{name}" for name in listeners + ["stats"]]
        direct = _get(cfg, "haproxy:direct_ports")
        keys += [f"haproxy:direct_ports:{name}" for name in DIRECT_PORTS
                 if isinstance(direct, dict) and name in direct]
    return keys


def ports(cfg):
    """Problems as (key, message) with ports: no two components that run on this minion (by its
    roles) on the same port (the model types each: a number 1-65535)."""
    problems, ports = [], {}
    direct = _get(cfg, "haproxy:direct_ports")
    keys = list(PORT_KEYS) + [f"haproxy:direct_ports:{name}" for name in DIRECT_PORTS
                              if isinstance(direct, dict) and name in direct]
    for key in keys:    # the model types each: a port 1-65535
        port = _int(_get(cfg, key))
        if port is not None and 1 <= port <= 65535:
            ports[key] = port
    taken = {}
    for key in _listening(cfg):
        if key not in ports:
            continue
        if ports[key] in taken:
            problems.append((key, f"port {ports[key]} is also {taken[ports[key]]}"))
        else:
            taken[ports[key]] = key
    return problems


def version_available(cfg, context):
    """Problems as (key, message) with a PostgreSQL major the database node's package sources
    lack: postgresql:available_versions (from parameters/osfinger, os_family) lists the
    distro's, pgdg:versions PGDG's with pgdg:enabled. Not checked when unknown ([]) or when
    pkg_repo:url adds a package source."""
    available = _get(cfg, "postgresql:available_versions", [])
    if _get(cfg, "pgdg:enabled") is True and isinstance(_get(cfg, "pgdg:versions"), list):
        available = list(available) + list(_get(cfg, "pgdg:versions")) if isinstance(available, list) else None
    if not isinstance(available, list) or None in map(_major, available):
        return []   # the model says why
    version = _major(_get(cfg, "postgresql:version"))
    if (not available or version is None or not 10 <= version <= 18
            or "postgresql" not in _rules._roles(cfg) or _get(cfg, "pkg_repo:url")):
        return []
    majors = sorted(set(map(_major, available)))
    if version in majors:
        return []
    listed = ", ".join(map(str, majors))
    choice = listed if len(majors) == 1 else "one of those"
    return [("postgresql:version", f"{version} is not available on {context.get('os') or 'this OS'} "
             f"(available: {listed}); add a repository (pgdg:enabled, pkg_repo) that has it, list it in "
             f"postgresql:available_versions if this node's own sources have it, or choose {choice}")]
