"""
pgha's rules for the host across keys: TLS and the cluster CA (pgha:tls) and host preparation
(pgha:system); the firewall's keys (pgha:firewall) need no more than their types in the model.
Each function returns problems as (key, message); ``cfg`` is the merged pgha settings.
"""
import os.path
import runpy


# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]


_get = _sibling("pgha_cluster").get


def _int(value):
    """``value`` when it is a whole number (YAML's int, not a bool nor a string of digits), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _section(cfg, path):
    """The mapping at ``path``, {} when it is not one (the model says so)."""
    value = _get(cfg, path)
    return value if isinstance(value, dict) else {}


def tls(cfg):
    """Problems as (key, message) with TLS (pgha:tls) across keys: a renewal window shorter than
    the lifetime, with tls:enabled the cluster CA (certificate and key), and what TLS does not
    support. The model types each key. ``cfg`` is the merged pgha pillar."""
    tls = _section(cfg, "tls")
    problems = []
    valid, remaining = _int(tls.get("days_valid")), _int(tls.get("days_remaining"))
    if valid is not None and remaining is not None and 0 <= remaining and 1 <= valid <= remaining:
        problems.append(("tls:days_remaining", f"must be less than tls:days_valid ({valid}): a state run "
                         f"renews a certificate that expires within it (got {remaining})"))
    if tls.get("enabled") is not True:
        return problems
    problems.extend(_tls_ca(str(tls.get("ca_cert") or "").strip(),
                            str(tls.get("ca_key") or "").strip()))
    if tls.get("etcd_client_cert_auth") is True and _get(cfg, "confd:enabled") is True:
        problems.append(("tls:etcd_client_cert_auth", "is not supported with confd:enabled: confd on "
                         "the balancers has no client certificate"))
    return problems


def system(cfg, context=None):
    """Problems as (key, message) with host preparation (pgha:system) across keys or beyond a
    type: sysctl values, huge pages set in their own key, the open-file limits, /etc/hosts
    lines, a time daemon the OS packages. ``cfg`` is the merged pgha pillar; ``context``
    names the OS for the packages it lacks."""
    problems = []
    settings = _section(cfg, "system:sysctl:settings")
    for key, value in settings.items():
        where = f"system:sysctl:settings:{key}"
        if key == "vm.nr_hugepages":
            problems.append((where, "set system:huge_pages instead (it has a file of its own)"))
        # a value is the kernel's word: a number or a string, never a list or a boolean
        elif value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, str))
                                    or not str(value).strip()):
            problems.append((where, f"must be a number or a one-line string such as '10000 65535', or ~ to "
                             f"leave the kernel's value (got {value!r})"))
    soft, hard = _int(_get(cfg, "system:limits:soft_nofile")), _int(_get(cfg, "system:limits:hard_nofile"))
    if soft is not None and hard is not None and soft > hard:
        problems.append(("system:limits:soft_nofile", f"{soft} is above system:limits:hard_nofile ({hard})"))
    extra = _get(cfg, "system:etc_hosts:extra")
    for i, line in enumerate(extra if isinstance(extra, list) else []):
        if isinstance(line, dict) and (not line.get("ip") or not line.get("names")):
            problems.append((f"system:etc_hosts:extra:{i}", "needs ip (an address) and names (a list of host "
                             "names), e.g. {ip: 10.0.0.50, names: [backup.example.com, backup]}"))
    time_sync = _section(cfg, "system:time_sync")
    daemon = time_sync.get("daemon", "chrony")
    if (time_sync.get("enabled", True) is True and isinstance(daemon, str)
            and _get(cfg, f"pkgs:{daemon}") == []):
        problems.append(("system:time_sync:daemon", f"{daemon} is not packaged for "
                         f"{(context or {}).get('os') or 'this OS'} (pkgs:{daemon} is empty): use chrony"))
    return problems


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
