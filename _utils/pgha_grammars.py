"""
The grammars of pgha's settings that a regular expression alone does not say: addresses and
networks, URLs, host names, pg_hba's fields (PostgreSQL's documented grammar of pg_hba.conf),
subjectAltNames. Each ``*_problem(value)`` takes a string and returns why it is not one (None
when it is): the settings model (``pgha_model``) declares keys with them, ``Str(grammar)``.
Pure Python, no ``__salt__``.
"""
import ipaddress
import os.path
import re
import runpy
import urllib.parse

# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]

__virtualname__ = "pgha_grammars"


def __virtual__():
    return __virtualname__


HOST_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(rf"^\.?{HOST_LABEL}(\.{HOST_LABEL})*$")   # pg_hba: .example.com = its subdomains
LOOKS_LIKE_IP_RE = re.compile(r"^[0-9./]+$|:")
# language[_territory][.codeset][@modifier], e.g. en_US.UTF-8, de_DE.UTF-8@euro, C.UTF-8
LOCALE = r"[A-Za-z]{1,8}(_[A-Za-z]{2,3})?(\.[A-Za-z0-9-]+)?(@[A-Za-z0-9]+)?"
# sysctl names as sysctl(8) writes them: vm.swappiness, net.ipv4.conf.eth0/1.rp_filter
SYSCTL_NAME = r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_/-]+)+"
HBA_TYPES = ("local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc")
HBA_KEYWORDS = ("all", "samehost", "samenet")
HBA_DATABASE_KEYWORDS = ("all", "sameuser", "samerole", "samegroup", "replication")
HBA_USER_KEYWORDS = ("all",)
HBA_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_$.-]*$")
HBA_QUOTED_RE = re.compile(r'^"[^",]+"$')
HBA_METHODS = ("trust", "reject", "scram-sha-256", "md5", "password", "gss", "sspi", "ident", "peer",
               "pam", "ldap", "radius", "cert")


def ip_problem(value):
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        return f"{value!r} is not an IP address"


def ipv4_problem(value):
    try:
        ipaddress.IPv4Address(value)
        return None
    except ValueError:
        return f"{value!r} is not an IPv4 address"


def network_problem(value):
    """An address or a network in CIDR form (nftables' saddr)."""
    try:
        ipaddress.ip_network(value)
        return None
    except ValueError as exc:
        return f"{value!r} is not an address or network such as 10.1.0.0/16 ({exc})"


def host_name_problem(value):
    """A host name for /etc/hosts or a server (not pg_hba's .example.com suffix form)."""
    if HOSTNAME_RE.match(value) and not value.startswith("."):
        return None
    return f"{value!r} is not a host name such as backup.example.com"


def server_problem(value):
    """An NTP server: a host name or an address."""
    if host_name_problem(value) is None or ip_problem(value) is None:
        return None
    return f"{value!r} is not an NTP server's name or address"


def san_problem(value):
    """A subjectAltName of a certificate: DNS:<host name> or IP:<address>."""
    kind, _, name = value.partition(":")
    if (kind == "DNS" and HOSTNAME_RE.match(name)) or (kind == "IP" and ip_problem(name) is None):
        return None
    return f"{value!r} is not DNS:<host name> or IP:<address>"


def etcd_url_problem(value):
    """An etcd client URL: http(s)://host:port, nothing after the port."""
    parsed = urllib.parse.urlsplit(value)
    try:
        port = parsed.port
    except ValueError:
        port = None
    host = parsed.hostname or ""
    if (parsed.scheme not in ("http", "https") or not host or port is None
            or parsed.path not in ("", "/") or (re.fullmatch(r"[0-9.]+", host) and ipv4_problem(host))):
        return f"{value!r} is not an etcd client URL such as http://10.0.0.21:2379"
    return None


def hba_address_problem(value):
    """A pg_hba address: a CIDR (10.0.0.0/24, fd00::/64), an address and a netmask
    ('10.0.0.0 255.255.255.0'), all, samehost, samenet or a host name."""
    text = value.strip()
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
    """pg_hba's database or user field: a keyword, a name, a "quoted name", +role (user:
    members of role) or a comma list of those. @file (read from a file on the server) and
    /regex are refused: pgha writes the lines it was given."""
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


def hba_database_problem(value):
    return _hba_names_problem(value, "database")


def hba_user_problem(value):
    return _hba_names_problem(value, "user")


def hba_options_problem(value):
    """The method's options: name=value words (pgha_formats.HBA_OPTIONS_RE, which writes them)."""
    if _sibling("pgha_formats").HBA_OPTIONS_RE.fullmatch(value):
        return None
    return (f"must be name=value options separated by spaces, such as 'clientcert=verify-full' "
            f"or 'map=\"omicron\"' (got {value!r})")
