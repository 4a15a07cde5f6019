"""Unit tests of TLS (pgha:tls) in the execution modules: the validator (_check_tls), the files
pgha's modules use (pgha.tls_files), and pgha_etcd and pgha_patroni over https, against a
real TLS server on 127.0.0.1 with certificates of a CA made for the test."""
import copy
import datetime
import functools
import http.server
import json
import ssl
import threading
from unittest.mock import MagicMock, patch

import pgha
from pgha_unit_helpers import MINIMAL_VALID, PATRONI_CONFIG_UTILS, pgha_loader
import pgha_etcd
import pgha_patroni
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from salt.exceptions import CommandExecutionError

from pghalab.ca import make_ca

VALID = MINIMAL_VALID
CA = make_ca("pgha unit CA")
OTHER_CA = make_ca("another CA")


@pytest.fixture
def configure_loader_modules():
    return {
        **pgha_loader(pgha, VALID, __grains__={}),
        pgha_etcd: {"__salt__": {}, "__utils__": dict(PATRONI_CONFIG_UTILS), "__opts__": {"test": False},
                    "__pillar__": {}, "__context__": {}},
        pgha_patroni: {"__salt__": {}, "__utils__": dict(PATRONI_CONFIG_UTILS), "__opts__": {"id": "pg1", "test": False},
                       "__pillar__": {}, "__context__": {}},
    }


# -- validation ----------------------------------------------------------------------------------

def _problems(defaults, **pillar):
    """The TLS problems only: check() has others' keys to judge too."""
    return [p for p in pgha.check({**copy.deepcopy(VALID), **pillar}, defaults) if p.startswith("pgha:tls")]


def _expired_ca():
    key = serialization.load_pem_private_key(CA[1].encode(), password=None)
    old = x509.load_pem_x509_certificate(CA[0].encode())
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.subject)
            .public_key(key.public_key()).serial_number(1).not_valid_before(past)
            .not_valid_after(past + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _leaf(names, ca=CA, ca_flag=False):
    """(certificate, key) PEM of a certificate of ``ca`` for ``names`` (IP or DNS)."""
    import ipaddress  # pylint: disable=import-outside-toplevel
    ca_key = serialization.load_pem_private_key(ca[1].encode(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca[0].encode())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alt = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=ca_flag, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


ON = {"enabled": True, "ca_cert": CA[0], "ca_key": CA[1]}
LEAF = _leaf(["pg1"])
HOW = "docs/security.md, section TLS, shows how to make one"
CASES = [
    # (id, pgha:tls, the TLS problems, exactly)
    ("default-off", None, []),
    ("off-without-ca", {"enabled": False, "require_ssl": False}, []),
    ("on", ON, []),
    ("on-with-everything", dict(ON, require_ssl=False, etcd_client_cert_auth=True, days_valid=90,
                                days_remaining=10, extra_sans=["DNS:db.example.com", "IP:192.0.2.10",
                                                               "IP:fd00::10"]), []),
    ("not-a-mapping", True, ["pgha:tls: must be a mapping of enabled, ca_cert, ca_key, require_ssl, "
                             "etcd_client_cert_auth, extra_sans, days_valid, days_remaining, not a boolean"]),
    ("enabled-string", {"enabled": "yes"},
     ["pgha:tls:enabled: must be true or false (got 'yes'): a YAML boolean, unquoted"]),
    ("require-ssl-string", {"require_ssl": "on"},
     ["pgha:tls:require_ssl: must be true or false (got 'on'): a YAML boolean, unquoted"]),
    ("no-ca-cert", {"enabled": True},
     [f"pgha:tls:ca_cert: required with tls:enabled: the cluster CA's certificate (PEM), the same "
      f"for every minion; {HOW}"]),
    ("no-ca-key", {"enabled": True, "ca_cert": CA[0]},
     ["pgha:tls:ca_key: required with tls:enabled: the cluster CA's private key (PEM), with which "
      f"each node signs its own certificates; {HOW}"]),
    ("cert-not-pem", dict(ON, ca_cert="MIIB..."),
     ["pgha:tls:ca_cert: is not a PEM certificate (-----BEGIN CERTIFICATE-----)"]),
    ("key-not-pem", dict(ON, ca_key="secret"),
     ["pgha:tls:ca_key: is not a PEM private key (-----BEGIN PRIVATE KEY-----)"]),
    ("key-encrypted", dict(ON, ca_key="-----BEGIN ENCRYPTED PRIVATE KEY-----\nMII\n"),
     ["pgha:tls:ca_key: is encrypted: give it without a passphrase (pillar keeps it secret)"]),
    ("key-of-another-ca", dict(ON, ca_key=OTHER_CA[1]),
     ["pgha:tls:ca_key: is not the private key of tls:ca_cert"]),
    ("cert-of-no-ca", dict(ON, ca_cert=LEAF[0], ca_key=LEAF[1]),
     ["pgha:tls:ca_cert: is not a CA certificate (basicConstraints CA:true)"]),
    ("cert-expired", dict(ON, ca_cert=_expired_ca()), ["pgha:tls:ca_cert: expired on 2020-01-02"]),
    ("days-valid-zero", {"days_valid": 0}, ["pgha:tls:days_valid: must be a whole number of days >= 1 (got 0)"]),
    ("days-remaining-too-many", {"days_valid": 30, "days_remaining": 30},
     ["pgha:tls:days_remaining: must be less than tls:days_valid (30): a state run renews a certificate "
      "that expires within it (got 30)"]),
    ("days-remaining-negative", {"days_remaining": -1},
     ["pgha:tls:days_remaining: must be a whole number of days >= 0 (got -1)"]),
    ("extra-sans-a-string", {"extra_sans": "DNS:db"},
     ["pgha:tls:extra_sans: must be a list such as ['DNS:db.example.com', 'IP:192.0.2.10'] (got 'DNS:db')"]),
    ("extra-san-without-kind", {"extra_sans": ["DNS:db", "db.example.com", "IP:10.0.0.300"]},
     ["pgha:tls:extra_sans:1: 'db.example.com' is not DNS:<host name> or IP:<address>",
      "pgha:tls:extra_sans:2: 'IP:10.0.0.300' is not DNS:<host name> or IP:<address>"]),
]


@pytest.mark.parametrize("tls,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_tls(defaults, tls, expected):
    assert _problems(defaults, **({} if tls is None else {"tls": tls})) == expected


def test_check_tls_refuses_confd_with_client_certificates(defaults):
    assert _problems(defaults, tls=dict(ON, etcd_client_cert_auth=True),
                     confd={"enabled": True, "url": "https://x/confd", "source_hash": "sha256=ab"}) == [
        "pgha:tls:etcd_client_cert_auth: is not supported with confd:enabled: confd on the balancers "
        "has no client certificate"]


def test_check_tls_the_key_never_in_a_message(defaults):
    for tls in (dict(ON, ca_key=OTHER_CA[1]), dict(ON, ca_cert=_expired_ca())):
        text = "\n".join(_problems(defaults, tls=tls))
        assert text and not [line for line in tls["ca_key"].splitlines()[1:-1] if line in text]


# -- pgha.tls_files ------------------------------------------------------------------------------

@pytest.mark.parametrize("pillar,expected", [
    ({}, {}),
    ({"tls": {"enabled": True}}, {"ca": "/etc/pgha/tls/ca.crt", "cert": "/etc/pgha/tls/etcd.crt",
                                  "key": "/etc/pgha/tls/etcd.key"}),
    ({"tls": {"enabled": True}, "roles": ["postgresql"]},
     {"ca": "/etc/pgha/tls/ca.crt", "cert": "/etc/pgha/tls/postgres.crt", "key": "/etc/pgha/tls/postgres.key"}),
    ({"tls": {"enabled": True}, "roles": ["etcd", "postgresql"], "dcs_exists": True},
     {"ca": "/etc/pgha/tls/ca.crt", "cert": "/etc/pgha/tls/postgres.crt", "key": "/etc/pgha/tls/postgres.key"}),
    ({"tls": {"enabled": True}, "roles": ["balancer"], "paths": {"tls_dir": "/srv/tls"}},
     {"ca": "/srv/tls/ca.crt"}),
], ids=["off", "etcd-member", "database-node", "existing-etcd", "balancer"])
def test_tls_files(defaults, pillar, expected):
    defaults = dict(defaults, paths={"tls_dir": "/etc/pgha/tls"})       # os_family/*.yaml's
    with patch.dict(pgha.__pillar__, {"pgha": {**copy.deepcopy(VALID), **pillar}}), \
            patch.dict(pgha.__context__, {"pgha.defaults": defaults}):
        assert pgha.tls_files() == expected


# -- over https: a real TLS server on 127.0.0.1 -------------------------------------------------------

@pytest.fixture
def files(tmp_path):
    """The CA's certificate, a server's pair for 127.0.0.1 and a client's pair, as files."""
    paths = {}
    for name, text in (("ca.crt", CA[0]), ("other-ca.crt", OTHER_CA[0])):
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    for name, names in (("server", ["pg1", "127.0.0.1"]), ("client", ["pg2", "10.0.0.12"])):
        cert, key = _leaf(names)
        paths[f"{name}.crt"], paths[f"{name}.key"] = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
        paths[f"{name}.crt"].write_text(cert)
        paths[f"{name}.key"].write_text(key)
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture
def https_server(files, tmp_path):
    """Start a TLS server with the server's pair, serving /health (etcd's answer) and /patroni;
    ``client_certs`` True: it wants a client certificate of the CA (etcd's client-cert-auth).
    Yields a function returning the port."""
    servers = []
    root = tmp_path / "www"
    root.mkdir()
    (root / "health").write_text(json.dumps({"health": "true"}))
    (root / "patroni").write_text(json.dumps({"state": "running", "role": "primary"}))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))

    def start(client_certs=False):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files["server.crt"], files["server.key"])
        if client_certs:
            context.load_verify_locations(files["ca.crt"])
            context.verify_mode = ssl.CERT_REQUIRED
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _tls_files(files, ca="ca.crt", client=True):
    found = {"ca": files[ca]}
    if client:
        found.update(cert=files["client.crt"], key=files["client.key"])
    return MagicMock(return_value=found)


@pytest.mark.parametrize("client_certs", [False, True], ids=["ca-only", "client-cert-auth"])
def test_etcd_health_over_https(files, https_server, client_certs):
    url = f"https://127.0.0.1:{https_server(client_certs)}"
    with patch.dict(pgha_etcd.__salt__, {"pgha.tls_files": _tls_files(files)}):
        assert pgha_etcd.health([url]) == {url: True}
        assert pgha_etcd.wait_healthy([url], timeout=1) == {url: True}


def test_etcd_https_refused_with_another_ca(files, https_server):
    url = f"https://127.0.0.1:{https_server()}"
    with patch.dict(pgha_etcd.__salt__, {"pgha.tls_files": _tls_files(files, ca="other-ca.crt")}):
        assert "CERTIFICATE_VERIFY_FAILED" in pgha_etcd.health([url])[url]
        with pytest.raises(CommandExecutionError, match="CERTIFICATE_VERIFY_FAILED"):
            pgha_etcd.members([url])


def test_etcd_https_without_a_client_certificate_when_etcd_wants_one(files, https_server):
    url = f"https://127.0.0.1:{https_server(client_certs=True)}"
    with patch.dict(pgha_etcd.__salt__, {"pgha.tls_files": _tls_files(files, client=False)}):
        assert pgha_etcd.health([url])[url] is not True


def test_etcd_https_with_a_missing_ca_file_reports_it(files, https_server):
    url = f"https://127.0.0.1:{https_server()}"
    missing = MagicMock(return_value={"ca": files["ca.crt"] + ".missing"})
    with patch.dict(pgha_etcd.__salt__, {"pgha.tls_files": missing}):
        assert "No such file" in pgha_etcd.health([url])[url]


def test_etcd_http_unchanged_by_tls():
    """http endpoints: urlopen as before, no TLS context, pgha.tls_files not even asked."""
    tls_files = MagicMock()
    with patch.dict(pgha_etcd.__salt__, {"pgha.tls_files": tls_files}), \
            patch("urllib.request.urlopen") as urlopen:
        urlopen.return_value.__enter__.return_value.read.return_value = b'{"health": "true"}'
        assert pgha_etcd.health(["http://10.0.0.11:2379"], timeout=3) == {"http://10.0.0.11:2379": True}
    urlopen.assert_called_once_with("http://10.0.0.11:2379/health", timeout=3)
    tls_files.assert_not_called()


def test_etcd_endpoints_of_patroni_with_https(tmp_path):
    path = tmp_path / "patroni.yml"
    path.write_text(yaml.safe_dump({"etcd3": {"hosts": ["10.0.0.11:2379", "10.0.0.12:2379"],
                                              "protocol": "https", "cacert": "/etc/pgha/tls/ca.crt"}}))
    with patch.dict(pgha_etcd.__salt__, {"config.option": MagicMock(return_value=str(path))}):
        assert pgha_etcd._patroni_endpoints() == ["https://10.0.0.11:2379", "https://10.0.0.12:2379"]


def _patroni_config(tmp_path, port, **restapi):
    path = tmp_path / "patroni.yml"
    path.write_text(yaml.safe_dump({"restapi": {"connect_address": f"127.0.0.1:{port}", **restapi}}))
    return MagicMock(return_value=str(path))


def test_patroni_over_https_verified_with_restapi_cafile(tmp_path, files, https_server):
    port = https_server()
    option = _patroni_config(tmp_path, port, certfile=files["server.crt"], keyfile=files["server.key"],
                             cafile=files["ca.crt"])
    with patch.dict(pgha_patroni.__salt__, {"config.option": option}):
        assert pgha_patroni.status() == {"state": "running", "role": "primary"}


def test_patroni_https_refused_with_another_ca(tmp_path, files, https_server):
    port = https_server()
    option = _patroni_config(tmp_path, port, certfile=files["server.crt"], cafile=files["other-ca.crt"])
    with patch.dict(pgha_patroni.__salt__, {"config.option": option}), \
            pytest.raises(CommandExecutionError, match="Patroni REST API unreachable: .*CERTIFICATE_VERIFY_FAILED"):
        pgha_patroni.status()


def test_patroni_https_with_a_missing_cafile_is_unreachable(tmp_path, files):
    option = _patroni_config(tmp_path, 8008, certfile=files["server.crt"], cafile="/nonexistent/ca.crt")
    with patch.dict(pgha_patroni.__salt__, {"config.option": option}), \
            pytest.raises(CommandExecutionError, match="Patroni REST API unreachable"):
        pgha_patroni.status()
