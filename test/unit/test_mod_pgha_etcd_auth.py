"""etcd authentication (_modules/pgha_etcd_auth.py, _states/pgha_etcd_auth.py): the calls for
each API, the passwords only in request bodies and headers, never in what the state returns.
A fake etcd answers over a mocked urlopen."""
import base64
import importlib.util
import json
import urllib.request
from pathlib import Path
from unittest.mock import MagicMock, patch

import pgha_etcd_auth
import pytest
from pgha_unit_helpers import FakeResponse, http_error

# the state module, by path (_states is not on the tests' sys.path under this name)
_spec = importlib.util.spec_from_file_location(
    "pgha_etcd_auth_state", Path(__file__).resolve().parents[2] / "_states" / "pgha_etcd_auth.py")
state = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(state)

E1 = "http://10.0.0.11:2379"
PILLAR = {"pgha": {"patroni": {"etcd": {"username": "patroni", "password": "pat-Secret",
                                        "root_password": "root-Secret"}}}}


@pytest.fixture
def configure_loader_modules():
    return {pgha_etcd_auth: {"__salt__": {}, "__pillar__": PILLAR},
            state: {"__salt__": {}, "__opts__": {"test": False}}}


class FakeEtcd:
    """Just enough of etcd's v2 and v3 auth APIs: auth off until /enable."""

    def __init__(self):
        self.enabled, self.requests = False, []

    def __call__(self, req, timeout=None):
        path = req.full_url[len(E1):]
        body = json.loads(req.data) if req.data else None
        self.requests.append((req.get_method(), path, body, dict(req.header_items())))
        if path == "/v2/auth/enable" and req.get_method() == "GET":
            return FakeResponse({"enabled": self.enabled})
        if path == "/v3/auth/authenticate":
            if not self.enabled:
                raise http_error(req.full_url, 400, {"error": "etcdserver: authentication is not enabled"})
            return FakeResponse({"token": "tok"})
        if path.endswith("/enable"):
            self.enabled = True
        return FakeResponse({})


@pytest.mark.parametrize("api", ["etcd", "etcd3"])
def test_enable_creates_the_users_then_switches_auth_on(api):
    etcd = FakeEtcd()
    with patch.object(urllib.request, "urlopen", MagicMock(side_effect=etcd)):
        assert pgha_etcd_auth.enable(E1, api, "/service/main") == {"changed": True, "api": api}
        assert pgha_etcd_auth.enable(E1, api, "/service/main") == {"changed": False, "api": api}
    paths = [p for _, p, _, _ in etcd.requests]
    if api == "etcd":
        assert paths[1:6] == ["/v2/auth/users/root", "/v2/auth/roles/pgha-patroni", "/v2/auth/users/patroni",
                              "/v2/auth/enable", "/v2/auth/roles/guest"]
        role = etcd.requests[2][2]
        assert role["permissions"]["kv"] == {"read": ["/service/main/*"], "write": ["/service/main/*"]}
        assert etcd.requests[3][2] == {"user": "patroni", "password": "pat-Secret", "roles": ["pgha-patroni"]}
        # guest loses its access, asked as root
        headers = etcd.requests[5][3]
        assert base64.b64decode(headers["Authorization"].split()[1]) == b"root:root-Secret"
    else:
        assert [p for p in paths if p != "/v3/auth/authenticate"] == [
            "/v3/auth/user/add", "/v3/auth/user/grant", "/v3/auth/role/add", "/v3/auth/role/grant",
            "/v3/auth/user/add", "/v3/auth/user/grant", "/v3/auth/enable"]
        grant = next(b for _, p, b, _ in etcd.requests if p == "/v3/auth/role/grant")
        assert base64.b64decode(grant["perm"]["key"]) == b"/service/main/"
        assert base64.b64decode(grant["perm"]["range_end"]) == b"/service/main0"
    # the passwords travel in request bodies and headers only, never in a URL
    assert not any("Secret" in p for _, p, _, _ in etcd.requests)


def test_enable_needs_every_secret(monkeypatch):
    monkeypatch.setattr(pgha_etcd_auth, "__pillar__", {"pgha": {"patroni": {"etcd": {"username": "patroni"}}}},
                        raising=False)
    etcd = FakeEtcd()
    with patch.object(urllib.request, "urlopen", MagicMock(side_effect=etcd)), \
            pytest.raises(Exception, match="root_password"):
        pgha_etcd_auth.enable(E1, "etcd", "/service/main")


@pytest.mark.parametrize("test_mode", [True, False])
def test_state_reports_and_never_shows_a_password(monkeypatch, test_mode):
    etcd = FakeEtcd()
    monkeypatch.setattr(state, "__opts__", {"test": test_mode}, raising=False)
    monkeypatch.setattr(state, "__salt__", {"pgha_etcd_auth.status": pgha_etcd_auth.status,
                                            "pgha_etcd_auth.enable": pgha_etcd_auth.enable}, raising=False)
    with patch.object(urllib.request, "urlopen", MagicMock(side_effect=etcd)):
        ret = state.enabled("etcd authentication", E1, "etcd3", "/service/main")
        assert ret["result"] is (None if test_mode else True) and ret["changes"] == {"auth": "v3 on"}
        assert "Secret" not in repr(ret)
        assert etcd.enabled is (not test_mode)
        if not test_mode:
            again = state.enabled("etcd authentication", E1, "etcd3", "/service/main")
            assert again["result"] is True and again["changes"] == {}
