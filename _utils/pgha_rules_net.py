"""
pgha's rules for addresses and package sources: the node's address, the VIP and its subnet,
etcd's endpoints, pg_hba lines (PostgreSQL's grammar), ports and their collisions, the
PostgreSQL major the package sources have, and pgdg, epel, pkg_repos and proxy_env. Each
function returns problems as (key, message); ``cfg`` is the merged pgha settings.
"""
import ipaddress
import os.path
import re
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
HBA_TYPES = ("local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc")
HBA_KEYWORDS = ("all", "samehost", "samenet")
HBA_DATABASE_KEYWORDS = ("all", "sameuser", "samerole", "samegroup", "replication")
HBA_USER_KEYWORDS = ("all",)
HBA_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_$.-]*$")
HBA_QUOTED_RE = re.compile(r'^"[^",]+"$')
HBA_METHODS = ("trust", "reject", "scram-sha-256", "md5", "password", "gss", "sspi", "ident", "peer",
               "pam", "ldap", "radius", "cert")
HBA_OPTIONS_RE = _sibling("pgha_formats").HBA_OPTIONS_RE
HOST_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(rf"^\.?{HOST_LABEL}(\.{HOST_LABEL})*$")   # pg_hba: .example.com = its subdomains
LOOKS_LIKE_IP_RE = re.compile(r"^[0-9./]+$|:")


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
    proxy = cfg.get("proxy_env", {})
    if not isinstance(proxy, dict):
        problems.append(("proxy_env", "must be a mapping such as {https_proxy: 'http://proxy:3128', "
                         f"no_proxy: 'localhost,mirror.example'}} (got {proxy!r})"))
        proxy = {}
    for key, value in proxy.items():
        if key not in PROXY_KEYS:
            problems.append((f"proxy_env:{key}", f"unknown key; known: {', '.join(PROXY_KEYS)} "
                             "(pgha gives them to apt/dnf and pip only)"))
        elif not isinstance(value, str):
            problems.append((f"proxy_env:{key}", f"must be a string (got {value!r})"))
        elif key != "no_proxy" and value:
            why = _url_problem(value, ("http", "https"))
            if why:
                problems.append((f"proxy_env:{key}", f"{why} such as http://proxy.example:3128"))
    for name in ("pgdg", "epel"):
        section = cfg.get(name, {})
        if not isinstance(section, dict):
            problems.append((name, f"must be a mapping such as {{enabled: true}} (got {section!r})"))
            continue
        if not isinstance(section.get("enabled", False), bool):
            problems.append((f"{name}:enabled", f"must be true or false (got {section.get('enabled')!r})"))
        elif section.get("enabled"):
            supported = PGDG_FAMILIES if name == "pgdg" else ("RedHat",)
            if family and family not in supported:
                problems.append((f"{name}:enabled", f"is not supported on {context.get('os') or family} "
                                 f"(only the {' and '.join(supported)} families)"))
            if section.get("url") in (None, "") and family:
                problems.append((f"{name}:url", "is empty: give the repository's (or its mirror's) URL"))
            elif section.get("url"):
                why = _url_problem(section["url"], ("http", "https", "file"))
                if why:
                    problems.append((f"{name}:url", why))
    if not isinstance(_get(cfg, "pgdg:extras", True), bool):
        problems.append(("pgdg:extras", f"must be true or false (got {_get(cfg, 'pgdg:extras')!r})"))
    versions = _get(cfg, "pgdg:versions", [])
    if not isinstance(versions, list) or None in map(_major, versions):
        problems.append(("pgdg:versions", f"must be a list of PostgreSQL majors (got {versions!r})"))
    problems.extend(_repo_entries(cfg.get("pkg_repos", []), family))
    return problems


def _repo_entries(entries, family):
    """Problems as (key, message) with pgha:pkg_repos: apt entries {name, url, dist, ...} or yum
    entries {name, baseurl, ...}, as the minion's family (when known) needs."""
    if not isinstance(entries, list):
        return [("pkg_repos", f"must be a list of repositories (got {entries!r})")]
    problems, names = [], set()
    for i, entry in enumerate(entries):
        key = f"pkg_repos:{i}"
        if not isinstance(entry, dict):
            problems.append((key, "must be a mapping: apt {name, url, dist, components, signed_by, "
                             "key_text, trusted} or yum {name, baseurl, gpgkey, gpgcheck}"))
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append((f"{key}:name", f"must be a name of letters, digits, '.', '_' or '-' (got {name!r})"))
        elif name in names:
            problems.append((f"{key}:name", f"{name!r} is listed twice"))
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
        for flag in ("trusted", "gpgcheck"):
            if flag in entry and not isinstance(entry[flag], bool):
                problems.append((f"{key}:{flag}", f"must be true or false (got {entry[flag]!r})"))
        if apt and entry.get("key_text") and "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in str(entry["key_text"]):
            problems.append((f"{key}:key_text", "is not an armored OpenPGP key (-----BEGIN PGP PUBLIC KEY BLOCK-----)"))
        if apt and entry.get("key_text") and entry.get("signed_by"):
            problems.append((f"{key}:signed_by", "and key_text are both set: key_text is written to "
                             f"/etc/apt/keyrings/pgha-{name}.asc and signs the repository"))
        if apt and entry.get("signed_by") and not str(entry["signed_by"]).startswith("/"):
            problems.append((f"{key}:signed_by", f"must be the absolute path of a key file on the node "
                             f"(got {entry['signed_by']!r})"))
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
    """Problems as (key, message) with addresses: pgha:address, the etcd endpoints, the VIP's
    prefix length and, when ``context`` has this node's address, whether the VIP is in its
    subnet (on the nodes that hold the VIP: database nodes in Type B, balancers in Type A)."""
    problems = []
    own = cfg.get("address")
    if own not in (None, "") and not _ipv4(own):
        problems.append(("address", f"{own!r} is not an IPv4 address"))
    endpoints = _get(cfg, "etcd:endpoints")
    if not isinstance(endpoints, list):
        problems.append(("etcd:endpoints", f"must be a list of client URLs (got {endpoints!r})"))
        endpoints = []
    for i, url in enumerate(endpoints):
        parsed = urllib.parse.urlsplit(str(url))
        try:
            port = parsed.port
        except ValueError:
            port = None
        host = parsed.hostname or ""
        if (parsed.scheme not in ("http", "https") or not host or port is None
                or parsed.path not in ("", "/") or (re.fullmatch(r"[0-9.]+", host) and not _ipv4(host))):
            problems.append((f"etcd:endpoints:{i}", f"{url!r} is not an etcd client URL such as "
                             "http://10.0.0.21:2379"))
    router_id = _int(_get(cfg, "keepalived:virtual_router_id"))
    if router_id is None or not 1 <= router_id <= 255:
        problems.append(("keepalived:virtual_router_id", "must be 1-255 "
                         f"(got {_get(cfg, 'keepalived:virtual_router_id')!r})"))
    netmask = _int(_get(cfg, "vip_manager:netmask"))
    if netmask is None or not 1 <= netmask <= 32:
        problems.append(("vip_manager:netmask", "must be the VIP's prefix length, 1-32 "
                         f"(got {_get(cfg, 'vip_manager:netmask')!r})"))
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


def _hba_address_problem(text):
    """Why a pg_hba address is malformed, or None: a CIDR (10.0.0.0/24, fd00::/64), an address
    and a netmask ('10.0.0.0 255.255.255.0'), all, samehost, samenet or a host name."""
    if text in HBA_KEYWORDS or (HOSTNAME_RE.match(text) and not LOOKS_LIKE_IP_RE.search(text)):
        return None
    parts = text.split()
    try:
        if len(parts) == 2:
            ipaddress.ip_network(f"{parts[0]}/{parts[1]}", strict=False)
            return None
        if len(parts) == 1 and "/" in text:
            ipaddress.ip_network(text, strict=False)
            return None
        if len(parts) == 1:
            ipaddress.ip_address(text)
            return f"{text!r} needs a prefix length, e.g. {text}/{32 if '.' in text else 128}"
    except ValueError:
        pass
    return f"{text!r} is not a CIDR address such as 10.0.0.0/24, a host name, all, samehost or samenet"


def _hba_names_problem(text, field):
    """Why ``text`` is not pg_hba's database or user field, or None: a keyword, a name, a
    "quoted name", +role (user: members of role) or a comma list of those. @file (read from a
    file on the server) and /regex are refused: pgha writes the lines it was given."""
    keywords = HBA_USER_KEYWORDS if field == "user" else HBA_DATABASE_KEYWORDS
    for item in text.split(","):
        if item in keywords:
            continue
        name = item[1:] if field == "user" and item.startswith("+") else item
        if item.startswith("@"):
            return f"{item!r}: @file (names read from a file on the server) is not supported: list the names"
        if not (HBA_NAME_RE.match(name) or HBA_QUOTED_RE.match(name)):
            return (f"{item!r} is not a keyword ({', '.join(keywords)}), a name of letters, digits, '_', "
                    f"'$', '.' or '-', or a \"quoted name\"{' or +role' if field == 'user' else ''}; "
                    "separate several with commas, no spaces")
    return None


def pg_hba(cfg):
    """Problems as (key, message) with the extra pg_hba lines (postgresql:pg_hba), by
    PostgreSQL's documented grammar (pg_hba.conf): type, database, user, address (not for
    local), method, options (name=value ...). Each field becomes one word of a line."""
    entries = _get(cfg, "postgresql:pg_hba")
    if not isinstance(entries, list):
        return [("postgresql:pg_hba", "must be a list of {type, database, user, address, method}")]
    problems = []
    for i, entry in enumerate(entries):
        key = f"postgresql:pg_hba:{i}"
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind not in HBA_TYPES:
            problems.append((key, f"needs a type: one of {', '.join(HBA_TYPES)} (got {kind or entry!r})"))
            continue
        needed = ("database", "user", "method") + (() if kind == "local" else ("address",))
        missing = [name for name in needed if not str(entry.get(name) or "").strip()]
        if missing:
            problems.append((key, f"needs {', '.join(missing)}"))
            continue
        for name in needed + ("options",):
            if name in entry and not isinstance(entry[name], str):
                problems.append((f"{key}:{name}", f"must be a string (got {entry[name]!r})"))
        if kind == "local" and entry.get("address"):
            problems.append((f"{key}:address", "must not be set: a local line has no address"))
        problems.extend((f"{key}:{name}", why) for name, why in _hba_fields(entry, kind) if why)
    return problems


def _hba_fields(entry, kind):
    """(field, why it is wrong or None) for one pg_hba entry whose fields are present."""
    for name in ("database", "user"):
        if isinstance(entry[name], str):
            yield name, _hba_names_problem(entry[name], name)
    if kind != "local" and isinstance(entry["address"], str):
        yield "address", _hba_address_problem(entry["address"].strip())
    if isinstance(entry["method"], str) and entry["method"] not in HBA_METHODS:
        yield "method", f"must be one of {', '.join(HBA_METHODS)} (got {entry['method']!r})"
    options = entry.get("options")
    if isinstance(options, str) and options and not HBA_OPTIONS_RE.fullmatch(options):
        yield "options", (f"must be name=value options separated by spaces, such as 'clientcert=verify-full' "
                          f"or 'map=\"omicron\"' (got {options!r})")


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
    """Problems as (key, message) with ports: each a number 1-65535, and no two components that
    run on this minion (by its roles) on the same port."""
    problems, ports = [], {}
    direct = _get(cfg, "haproxy:direct_ports")
    keys = list(PORT_KEYS) + [f"haproxy:direct_ports:{name}" for name in DIRECT_PORTS
                              if isinstance(direct, dict) and name in direct]
    for key in keys:
        port = _int(_get(cfg, key))
        if port is None or not 1 <= port <= 65535:
            problems.append((key, f"must be a port number 1-65535 (got {_get(cfg, key)!r})"))
        else:
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
    if not isinstance(available, list) or None in map(_major, available):
        return [("postgresql:available_versions", "must be a list of PostgreSQL major versions "
                 f"such as [15] (got {available!r})")]
    if _get(cfg, "pgdg:enabled") is True and isinstance(_get(cfg, "pgdg:versions"), list):
        available = list(available) + list(_get(cfg, "pgdg:versions"))
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
