"""
pgha.tls applied for real, offline (``salt-call --local``) into a temporary directory: Salt's
x509 modules make a key pair and pgha_tls signs its certificate with the CA of pillar, as on a
node. The files are checked with the Python package cryptography: the certificate is the CA's,
for the key, with the names asked; the key is the owner's alone; the CA key is nowhere but in
pillar (not in a file, not in the state output). A second run changes nothing; a test run
writes nothing; a new CA in pillar reissues the certificate for the same key.
"""
import grp
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
import salt.version
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

from pghalab.ca import make_ca

REPO = Path(__file__).resolve().parents[2]

SALT_CALL = Path(sys.executable).with_name("salt-call")
NAMES = ["DNS:pg1", "IP:10.0.0.11", "IP:10.0.0.100", "IP:127.0.0.1"]
# The states of pgha/tls/ca.sls and one key pair of pgha/tls/pair.jinja, as pgha/postgresql/tls.sls
# makes them, without the package it requires (nothing is installed here).
PROBE = """{%- set tplroot = 'pgha' %}
{%- from 'pgha/tls/pair.jinja' import key_pair with context %}
include:
  - pgha.tls.ca
{{ key_pair('postgres', salt['pillar.get']('probe:user'), salt['pillar.get']('probe:names'), []) }}
"""


def _user():
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


@pytest.fixture
def minion(tmp_path):
    """A local minion whose pgha:paths:tls_dir is a temporary directory; ``set_ca`` puts a CA
    in its pillar."""
    roots = tmp_path / "file_roots"
    roots.mkdir()
    (roots / "pgha").symlink_to(REPO / "pgha")
    (roots / "probe.sls").write_text(PROBE)
    pillar_dir = tmp_path / "pillar"
    pillar_dir.mkdir()
    (pillar_dir / "top.sls").write_text("base:\n  '*':\n    - pgha\n")
    tls_dir = tmp_path / "tls"
    config = {
        "id": "pg1", "file_client": "local", "root_dir": str(tmp_path),
        "cachedir": str(tmp_path / "cache"), "log_file": str(tmp_path / "minion.log"),
        "file_roots": {"base": [str(roots)]}, "pillar_roots": {"base": [str(pillar_dir)]},
        "module_dirs": [str(REPO / "_modules")], "states_dirs": [str(REPO / "_states")],
        "utils_dirs": [str(REPO / "_utils")],     # pgha_settings (map.jinja) runs pgha_derive
        "grains": {"os_family": "Debian", "osfinger": "Debian-12", "id": "pg1"},
        "enable_fqdns_grains": False,
        # Salt's x509_v2 modules: opt-in on 3006 and 3007, the default from 3008 (README)
        "features": {"x509_v2": True},
    }
    (tmp_path / "minion").write_text(yaml.safe_dump(config))

    def set_config(**changes):
        (tmp_path / "minion").write_text(yaml.safe_dump({**config, **changes}))

    def set_ca(ca):
        user, _ = _user()
        (pillar_dir / "pgha.sls").write_text(yaml.safe_dump({
            "pgha": {"cluster_name": "main", "paths": {"tls_dir": str(tls_dir)},
                     "tls": {"enabled": True, "ca_cert": ca[0], "ca_key": ca[1]}},
            "probe": {"user": user, "names": NAMES}}))

    def apply(*args):
        proc = subprocess.run([str(SALT_CALL), "--local", "-c", str(tmp_path), "--out=json",
                               "--log-level=error", "state.apply", "probe", *args],
                              capture_output=True, text=True, timeout=120, check=False)
        return proc.stdout, json.loads(proc.stdout)["local"]

    return {"dir": tls_dir, "set_ca": set_ca, "apply": apply, "root": tmp_path,
            "set_config": set_config}


def _by_id(ret):
    """{state id: [results]} (Salt's x509 states add a file.managed result of their own)."""
    found = {}
    for result in ret.values():
        found.setdefault(result["__id__"], []).append(result)
    return found


def _check_files(tls_dir, ca):
    ca_cert = x509.load_pem_x509_certificate(ca[0].encode())
    assert (tls_dir / "ca.crt").read_text().strip() == ca[0].strip()
    cert = x509.load_pem_x509_certificate((tls_dir / "postgres.crt").read_bytes())
    key = serialization.load_pem_private_key((tls_dir / "postgres.key").read_bytes(), password=None)
    # signed by the CA, for this key, for these names, server and client use
    ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                                cert.signature_hash_algorithm)
    assert cert.issuer == ca_cert.subject
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert (cert.public_key().public_bytes(serialization.Encoding.DER, spki)
            == key.public_key().public_bytes(serialization.Encoding.DER, spki))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ([f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)]
            + [f"IP:{a}" for a in san.get_values_for_type(x509.IPAddress)]) == NAMES
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {u.dotted_string for u in usage} == {"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"}
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 365
    # the key: its owner's alone; the certificates: anyone's to read
    user, group = _user()
    stat = (tls_dir / "postgres.key").stat()
    assert (oct(stat.st_mode & 0o777), pwd.getpwuid(stat.st_uid).pw_name,
            grp.getgrgid(stat.st_gid).gr_name) == ("0o600", user, group)
    assert oct((tls_dir / "postgres.crt").stat().st_mode & 0o777) == "0o644"
    assert oct((tls_dir / "ca.crt").stat().st_mode & 0o777) == "0o644"
    return cert, key


def _ca_key_nowhere(ca, output, root):
    body = [line for line in ca[1].splitlines() if "-----" not in line]
    assert not [line for line in body if line in output]
    for path in root.rglob("*"):
        if path.is_file() and "pillar" not in path.parts:
            text = path.read_bytes().decode(errors="replace")
            assert not [line for line in body if line in text], path


@pytest.mark.skipif(not SALT_CALL.exists(), reason=f"no salt-call next to {sys.executable}")
def test_certificates_made_on_the_node(minion):
    ca = make_ca("pgha apply CA")
    minion["set_ca"](ca)
    # a test run writes nothing
    output, ret = minion["apply"]("test=True")
    assert all(r["result"] is not False for r in ret.values()), output
    assert not (minion["dir"] / "postgres.key").exists()

    output, ret = minion["apply"]()
    assert all(r["result"] is True for r in ret.values()), output
    states = _by_id(ret)
    assert states["pgha-tls-postgres-key-managed"][0]["changes"] == {"created": str(minion["dir"] / "postgres.key")}
    assert states["pgha-tls-postgres-cert-managed"][0]["changes"] == {"created": str(minion["dir"] / "postgres.crt")}
    cert, key = _check_files(minion["dir"], ca)
    _ca_key_nowhere(ca, output, minion["root"])

    # again: nothing changes
    output, ret = minion["apply"]()
    assert {sid: r["changes"] for sid, r in ret.items() if r["changes"]} == {}, output

    # another CA in pillar: the certificate is reissued by it, for the same key
    other = make_ca("pgha apply CA 2")
    minion["set_ca"](other)
    output, ret = minion["apply"]()
    assert all(r["result"] is True for r in ret.values()), output
    assert _by_id(ret)["pgha-tls-postgres-cert-managed"][0]["changes"]
    new_cert, new_key = _check_files(minion["dir"], other)
    assert new_cert.serial_number != cert.serial_number
    assert new_key.private_numbers() == key.private_numbers()
    _ca_key_nowhere(other, output, minion["root"])


@pytest.mark.skipif(not SALT_CALL.exists(), reason=f"no salt-call next to {sys.executable}")
def test_no_ca_key_in_pillar_fails_with_the_reason(minion):
    minion["set_ca"]((make_ca("pgha apply CA")[0], ""))
    output, ret = minion["apply"]()
    cert = _by_id(ret)["pgha-tls-postgres-cert-managed"][0]
    assert cert["result"] is False, output
    assert cert["comment"].startswith("pgha:tls:ca_key empty in pillar")
    assert not (minion["dir"] / "postgres.crt").exists()


@pytest.mark.skipif(not SALT_CALL.exists(), reason=f"no salt-call next to {sys.executable}")
@pytest.mark.skipif(salt.version.__saltstack_version__.major >= 3008,
                    reason="x509_v2 is Salt's default from 3008: there is no opt-in to forget")
def test_without_the_x509_v2_feature_salt_says_so(minion):
    """Salt 3006 and 3007 without ``features: {x509_v2: true}``: nothing is written, and the
    key's state fails with Salt's own reason, which names the missing opt-in."""
    minion["set_config"](features={})
    minion["set_ca"](make_ca("pgha apply CA"))
    output, ret = minion["apply"]()
    failed = [r for r in ret.values() if r["result"] is False]
    assert failed, output
    assert any("x509_v2" in r["comment"] for r in failed), output
    assert not (minion["dir"] / "postgres.key").exists()
    assert not (minion["dir"] / "postgres.crt").exists()
