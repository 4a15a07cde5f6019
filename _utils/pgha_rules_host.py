"""
pgha's rules for the host: the firewall (pgha:firewall), TLS and the cluster CA (pgha:tls),
and host preparation (pgha:system). Each function returns problems as (key, message); ``cfg``
is the merged pgha settings.
"""
import ipaddress
import os.path
import re
import runpy


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


_get = _sibling("pgha_cluster").get
_net = _sibling("pgha_rules_net")

HOSTNAME_RE = _net.HOSTNAME_RE
NAME_RE = _net.NAME_RE
# sysctl names as sysctl(8) writes them: vm.swappiness, net.ipv4.conf.eth0/1.rp_filter
SYSCTL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_/-]+)+$")
# language[_territory][.codeset][@modifier], e.g. en_US.UTF-8, de_DE.UTF-8@euro, C.UTF-8
LOCALE_RE = re.compile(r"^[A-Za-z]{1,8}(_[A-Za-z]{2,3})?(\.[A-Za-z0-9-]+)?(@[A-Za-z0-9]+)?$")
THP_MODES = ("never", "madvise", "")
TIME_DAEMONS = ("chrony", "ntpsec")


def _int(value):
    """``value`` when it is a whole number (YAML's int, not a bool nor a string of digits), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def firewall(cfg):
    """Problems as (key, message) with the firewall's own settings (pgha:firewall). ``cfg`` is
    the merged pgha pillar."""
    problems = []
    fw = cfg.get("firewall", {})
    if not isinstance(fw, dict):
        return [("firewall", "must be a mapping such as {enabled: true}")]
    enabled = fw.get("enabled", False)
    if not isinstance(enabled, bool):
        problems.append(("firewall:enabled", f"must be true or false (got {enabled!r})"))

    def port(key, value):
        if isinstance(value, bool) or _int(value) is None or not 1 <= _int(value) <= 65535:
            problems.append((key, f"must be a TCP port number from 1 to 65535 (got {value!r})"))

    if "ssh_port" in fw:
        port("firewall:ssh_port", fw["ssh_port"])
    extra = fw.get("extra_ports", [])
    if not isinstance(extra, list):
        problems.append(("firewall:extra_ports", f"must be a list of port numbers such as [9100] "
                         f"(got {extra!r})"))
    else:
        for i, value in enumerate(extra):
            port(f"firewall:extra_ports:{i}", value)
    sources = fw.get("client_sources", [])
    if not isinstance(sources, list):
        problems.append(("firewall:client_sources", "must be a list of addresses or networks such as "
                         f"['10.1.0.0/16'], [] for any (got {sources!r})"))
    else:
        for i, value in enumerate(sources):
            try:
                ipaddress.ip_network(str(value))
            except ValueError as exc:
                problems.append((f"firewall:client_sources:{i}", f"{value!r} is not an address or "
                                 f"network such as 10.1.0.0/16 ({exc})"))
    rules = fw.get("extra_rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) and r.strip() and "\n" not in r
                                              for r in rules):
        problems.append(("firewall:extra_rules", "must be a list of one-line nftables rules such as "
                         f"'ip saddr 10.9.0.0/16 tcp dport 9187 accept' (got {rules!r})"))
    return problems


def tls(cfg):
    """Problems as (key, message) with TLS (pgha:tls): its switches and lifetimes, the extra
    names, and with tls:enabled the cluster CA (certificate and key). ``cfg`` is the merged
    pgha pillar."""
    tls = cfg.get("tls", {})
    if not isinstance(tls, dict):
        return [("tls", "must be a mapping such as {enabled: true, ca_cert: ..., ca_key: ...}")]
    problems = []
    for key in ("enabled", "require_ssl", "etcd_client_cert_auth"):
        if not isinstance(tls.get(key, False), bool):
            problems.append((f"tls:{key}", f"must be true or false (got {tls.get(key)!r})"))
    valid, remaining = _int(tls.get("days_valid")), _int(tls.get("days_remaining"))
    if "days_valid" in tls and (valid is None or valid < 1):
        problems.append(("tls:days_valid", f"must be a number of days >= 1 (got {tls.get('days_valid')!r})"))
    elif "days_remaining" in tls and (remaining is None or not 0 <= remaining < (valid or remaining + 1)):
        problems.append(("tls:days_remaining", f"must be a number of days from 0 to less than "
                         f"tls:days_valid ({valid}) (got {tls.get('days_remaining')!r})"))
    sans = tls.get("extra_sans", [])
    if not isinstance(sans, list):
        problems.append(("tls:extra_sans", f"must be a list such as ['DNS:db.example.com', "
                         f"'IP:192.0.2.10'] (got {sans!r})"))
        sans = []
    for i, name in enumerate(sans):
        kind, _, value = str(name).partition(":")
        if (kind == "DNS" and HOSTNAME_RE.match(value)) or (kind == "IP" and _ip(value)):
            continue
        problems.append((f"tls:extra_sans:{i}", f"{name!r} is not DNS:<host name> or IP:<address>"))
    if tls.get("enabled") is not True:
        return problems
    problems.extend(_tls_ca(str(tls.get("ca_cert") or "").strip(),
                                  str(tls.get("ca_key") or "").strip()))
    if tls.get("etcd_client_cert_auth") and _get(cfg, "confd:enabled"):
        problems.append(("tls:etcd_client_cert_auth", "is not supported with confd:enabled: confd on "
                         "the balancers has no client certificate"))
    return problems


def system(cfg, context=None):
    """Problems as (key, message) with host preparation (pgha:system). ``cfg`` is the merged
    pgha pillar; ``context`` names the OS for the packages it lacks."""
    system = cfg.get("system", {})
    if not isinstance(system, dict):
        return [("system", "must be a mapping such as {sysctl: {enabled: true}}")]
    problems = []

    def flag(key, value):
        if not isinstance(value, bool):
            problems.append((key, f"must be true or false (got {value!r})"))

    def section(key):
        value = system.get(key, {})
        if isinstance(value, dict):
            return value
        problems.append((f"system:{key}", f"must be a mapping such as {{enabled: true}} (got {value!r})"))
        return {}

    def listed(key, value, example):
        if isinstance(value, list):
            return value
        problems.append((key, f"must be a list such as {example} (got {value!r})"))
        return []

    sysctl = section("sysctl")
    flag("system:sysctl:enabled", sysctl.get("enabled", True))
    settings = sysctl.get("settings", {})
    if not isinstance(settings, dict):
        problems.append(("system:sysctl:settings", "must be a mapping of sysctl names to values such as "
                         f"{{vm.swappiness: 1}} (got {settings!r})"))
        settings = {}
    for key, value in settings.items():
        where = f"system:sysctl:settings:{key}"
        if key == "vm.nr_hugepages":
            problems.append((where, "set system:huge_pages instead (it has a file of its own)"))
        elif not SYSCTL_KEY_RE.match(str(key)):
            problems.append((where, "is not a sysctl name such as vm.swappiness"))
        elif value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, str))
                                    or not str(value).strip() or "\n" in str(value)):
            problems.append((where, f"must be a number or a one-line string such as '10000 65535', or ~ to "
                             f"leave the kernel's value (got {value!r})"))

    pages = system.get("huge_pages", 0)
    if isinstance(pages, bool) or _int(pages) is None or _int(pages) < 0:
        problems.append(("system:huge_pages", f"must be a number of 2 MiB huge pages >= 0, 0 for none "
                         f"(got {pages!r})"))
    thp = system.get("transparent_huge_pages", "never")
    if thp not in THP_MODES:
        problems.append(("system:transparent_huge_pages", f"must be never, madvise or '' to leave it "
                         f"alone (got {thp!r})"))

    limits = section("limits")
    flag("system:limits:enabled", limits.get("enabled", True))
    if limits.get("user") and not NAME_RE.match(str(limits["user"])):
        problems.append(("system:limits:user", f"{limits['user']!r} is not a user name"))
    nofile = {}
    for key in ("soft_nofile", "hard_nofile"):
        value = limits.get(key, 65536)
        nofile[key] = None if isinstance(value, bool) else _int(value)
        if nofile[key] is None or nofile[key] < 1024:
            problems.append((f"system:limits:{key}", f"must be a number of open files >= 1024 (got {value!r})"))
    if None not in nofile.values() and nofile["soft_nofile"] > nofile["hard_nofile"]:
        problems.append(("system:limits:soft_nofile", f"{nofile['soft_nofile']} is above "
                         f"system:limits:hard_nofile ({nofile['hard_nofile']})"))

    locales = listed("system:locales", system.get("locales", []), "[en_US.UTF-8], [] for none")
    for i, locale in enumerate(locales):
        if not isinstance(locale, str) or not LOCALE_RE.match(locale):
            problems.append((f"system:locales:{i}", f"{locale!r} is not a locale such as en_US.UTF-8"))
    default = system.get("default_locale", "")
    if default and (not isinstance(default, str) or not LOCALE_RE.match(default)):
        problems.append(("system:default_locale", f"{default!r} is not a locale such as en_US.UTF-8"))

    etc_hosts = section("etc_hosts")
    flag("system:etc_hosts:enabled", etc_hosts.get("enabled", True))
    extra = listed("system:etc_hosts:extra", etc_hosts.get("extra", []),
                   "[{ip: 10.0.0.50, names: [backup.example.com]}]")
    for i, line in enumerate(extra):
        names = line.get("names") if isinstance(line, dict) else None
        if not isinstance(line, dict) or not _ip(str(line.get("ip", ""))) or not isinstance(names, list) \
                or not names or not all(map(_host_name, names)):
            problems.append((f"system:etc_hosts:extra:{i}", "needs ip (an address) and names (a list of host "
                             f"names), e.g. {{ip: 10.0.0.50, names: [backup.example.com, backup]}} (got {line!r})"))

    time_sync = section("time_sync")
    flag("system:time_sync:enabled", time_sync.get("enabled", True))
    daemon = time_sync.get("daemon", "chrony")
    if daemon not in TIME_DAEMONS:
        problems.append(("system:time_sync:daemon", f"must be chrony or ntpsec (got {daemon!r})"))
    elif time_sync.get("enabled", True) and _get(cfg, f"pkgs:{daemon}") == []:
        problems.append(("system:time_sync:daemon", f"{daemon} is not packaged for "
                         f"{(context or {}).get('os') or 'this OS'} (pkgs:{daemon} is empty): use chrony"))
    servers = listed("system:time_sync:servers", time_sync.get("servers", []),
                     "[ntp1.example.com, 10.0.0.5], [] for the distribution's")
    for i, server in enumerate(servers):
        if not _host_name(server) and not _ip(str(server)):
            problems.append((f"system:time_sync:servers:{i}", f"{server!r} is not an NTP server's name or address"))
    return problems


def _host_name(text):
    """A host name for /etc/hosts or a server (not pg_hba's .example.com suffix form)."""
    return isinstance(text, str) and bool(HOSTNAME_RE.match(text)) and not text.startswith(".")


def _ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _tls_ca(cert, key):
    """Problems as (key, message) with the cluster CA of pillar (tls:ca_cert, tls:ca_key): both
    given, PEM, the key unencrypted and the certificate's, a CA certificate still valid."""
    how = "docs/security.md, section TLS, shows how to make one"
    if not cert:
        return [("tls:ca_cert", f"required with tls:enabled: the cluster CA's certificate (PEM), "
                 f"the same for every minion; {how}")]
    if "-----BEGIN CERTIFICATE-----" not in cert:
        return [("tls:ca_cert", "is not a PEM certificate (-----BEGIN CERTIFICATE-----)")]
    if not key:
        return [("tls:ca_key", "required with tls:enabled: the cluster CA's private key (PEM), "
                 f"with which each node signs its own certificates; {how}")]
    if "ENCRYPTED" in key:
        return [("tls:ca_key", "is encrypted: give it without a passphrase (pillar keeps it secret)")]
    if "PRIVATE KEY-----" not in key:
        return [("tls:ca_key", "is not a PEM private key (-----BEGIN PRIVATE KEY-----)")]
    try:  # Salt's x509 modules need cryptography: where it is missing the nodes say so
        # pylint: disable=import-outside-toplevel
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        return []
    try:
        ca = x509.load_pem_x509_certificate(cert.encode())
    except ValueError as exc:
        return [("tls:ca_cert", f"cannot be read as a PEM certificate: {exc}")]
    try:
        private = serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError) as exc:
        return [("tls:ca_key", f"cannot be read as a PEM private key: {exc}")]
    problems = []
    try:
        is_ca = ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        problems.append(("tls:ca_cert", "is not a CA certificate (basicConstraints CA:true)"))
    utc = datetime.timezone.utc
    expires = getattr(ca, "not_valid_after_utc", None) or ca.not_valid_after.replace(tzinfo=utc)
    if expires <= datetime.datetime.now(utc):
        problems.append(("tls:ca_cert", f"expired on {expires:%Y-%m-%d}"))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if (private.public_key().public_bytes(serialization.Encoding.DER, spki)
            != ca.public_key().public_bytes(serialization.Encoding.DER, spki)):
        problems.append(("tls:ca_key", "is not the private key of tls:ca_cert"))
    return problems
