"""Unit tests of the pgha_tls state module (_states/pgha_tls.py), loaded as ``pgha_tls_state``:
it signs with the cluster CA of pillar, read by the state itself, and hides the CA key in what
it returns; the rest is Salt's x509.certificate_managed (mocked here; test/render/
test_tls_apply.py runs the real one)."""
import importlib.util
import sys
from pathlib import Path
from unittest.mock import MagicMock, patch

import pytest

_PATH = Path(__file__).resolve().parents[2] / "_states" / "pgha_tls.py"
_SPEC = importlib.util.spec_from_file_location("pgha_tls_state", _PATH)
pgha_tls_state = importlib.util.module_from_spec(_SPEC)
sys.modules["pgha_tls_state"] = pgha_tls_state
_SPEC.loader.exec_module(pgha_tls_state)

CA_CERT = "-----BEGIN CERTIFICATE-----\nMIIcert\n-----END CERTIFICATE-----\n"
CA_KEY = "-----BEGIN PRIVATE KEY-----\nMIIsecretkey\n-----END PRIVATE KEY-----\n"
OK = {"name": "/etc/pgha/tls/postgres.crt", "result": True, "changes": {"created": "/etc/pgha/tls/postgres.crt"},
      "comment": "The certificate has been created"}


@pytest.fixture
def x509():
    return MagicMock(return_value=dict(OK))


@pytest.fixture
def configure_loader_modules(x509):
    return {pgha_tls_state: {
        "__salt__": {}, "__opts__": {"test": False}, "__context__": {},
        "__pillar__": {"pgha": {"tls": {"enabled": True, "ca_cert": CA_CERT, "ca_key": CA_KEY}}},
        "__states__": {"x509.certificate_managed": x509}}}


def test_virtual():
    assert pgha_tls_state.__virtual__() == "pgha_tls"


@pytest.mark.parametrize("test", [False, True], ids=["real", "test"])
def test_signs_with_the_ca_of_pillar(x509, test):
    with patch.dict(pgha_tls_state.__opts__, {"test": test}):
        ret = pgha_tls_state.certificate_managed(
            "/etc/pgha/tls/postgres.crt", "/etc/pgha/tls/postgres.key", CN="pg1",
            subjectAltName=["DNS:pg1", "IP:10.0.0.11"], days_valid=365, days_remaining=30, mode="0644")
    assert ret == OK
    # Salt's state decides (test mode too); the CA as text, stripped, never from an argument
    x509.assert_called_once_with(
        "/etc/pgha/tls/postgres.crt", signing_private_key=CA_KEY.strip(), signing_cert=CA_CERT.strip(),
        private_key="/etc/pgha/tls/postgres.key", CN="pg1", subjectAltName=["DNS:pg1", "IP:10.0.0.11"],
        days_valid=365, days_remaining=30, mode="0644")


def test_the_ca_key_is_hidden_in_the_return(x509):
    x509.return_value = {"name": "n", "result": False, "changes": {"detail": [CA_KEY.strip()]},
                         "comment": f"could not load {CA_KEY.strip()}"}
    ret = pgha_tls_state.certificate_managed("n", "k")
    assert ret == {"name": "n", "result": False, "changes": {"detail": ["<pgha:tls:ca_key>"]},
                   "comment": "could not load <pgha:tls:ca_key>"}


@pytest.mark.parametrize("argument", pgha_tls_state.NOT_ARGUMENTS)
def test_another_ca_is_refused(x509, argument):
    ret = pgha_tls_state.certificate_managed("n", "k", **{argument: "x"})
    assert ret["result"] is False
    assert ret["comment"] == (f"{argument}: not arguments of pgha_tls.certificate_managed, which signs "
                              "with the cluster CA of pillar pgha:tls")
    x509.assert_not_called()


@pytest.mark.parametrize("tls,missing", [
    ({"ca_cert": CA_CERT}, "pgha:tls:ca_key"),
    ({"ca_key": CA_KEY, "ca_cert": "  "}, "pgha:tls:ca_cert"),
    ({}, "pgha:tls:ca_cert and pgha:tls:ca_key"),
], ids=["no-key", "blank-cert", "neither"])
def test_missing_ca_fails_with_the_reason(x509, tls, missing):
    with patch.dict(pgha_tls_state.__pillar__, {"pgha": {"tls": tls}}):
        ret = pgha_tls_state.certificate_managed("n", "k")
    assert ret == {"name": "n", "result": False, "changes": {},
                   "comment": f"{missing} empty in pillar: the cluster CA signs this node's certificates "
                              "(docs/security.md, section TLS, shows how to make one)"}
    x509.assert_not_called()


def test_without_salts_x509_states():
    with patch.object(pgha_tls_state, "__states__", {}):
        ret = pgha_tls_state.certificate_managed("n", "k")
    assert ret["result"] is False
    assert "x509 state module is not available" in ret["comment"]
