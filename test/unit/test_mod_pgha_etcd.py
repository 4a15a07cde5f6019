"""Unit tests of the pgha_etcd execution module (_modules/pgha_etcd.py), urllib mocked."""
import json
import urllib.error
import urllib.request
from unittest.mock import MagicMock, patch

import pgha_etcd
import pytest
from pgha_unit_helpers import FakeResponse, http_error
from salt.exceptions import CommandExecutionError

E1, E2, E3 = "http://10.0.0.11:2379", "http://10.0.0.12:2379", "http://10.0.0.13:2379/"


@pytest.fixture
def configure_loader_modules():
    return {pgha_etcd: {"__salt__": {}, "__opts__": {"test": False}, "__pillar__": {},
                        "__context__": {}}}


def _urlopen(answers):
    """urlopen replacement: ``answers`` maps a URL to a body, an exception, or a list of them
    (one per call)."""
    calls = []

    def fake(req, timeout=None):
        url = req.full_url if isinstance(req, urllib.request.Request) else req
        calls.append((url, timeout, req))
        answer = answers[url]
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(answer)

    mock = MagicMock(side_effect=fake)
    mock.calls = calls
    return patch.object(urllib.request, "urlopen", mock), calls


def test_virtual():
    assert pgha_etcd.__virtual__() == "pgha_etcd"


# -- health ----------------------------------------------------------------------------------

def test_health_reports_each_endpoint():
    patcher, calls = _urlopen({
        E1 + "/health": {"health": "true", "reason": ""},
        E2 + "/health": {"health": "false", "reason": "RAFT NO LEADER"},
        "http://10.0.0.13:2379/health": urllib.error.URLError(ConnectionRefusedError(111, "refused")),
    })
    with patcher:
        result = pgha_etcd.health([E1, E2, E3], timeout=4)
    assert result[E1] is True
    assert result[E2] is False
    assert "refused" in result[E3]          # the error text, keyed by the URL as given
    # a trailing slash does not double up; the timeout is passed on
    assert [c[0] for c in calls] == [E1 + "/health", E2 + "/health", "http://10.0.0.13:2379/health"]
    assert {c[1] for c in calls} == {4}


def test_health_accepts_boolean_true():
    patcher, _ = _urlopen({E1 + "/health": {"health": True}})
    with patcher:
        assert pgha_etcd.health([E1]) == {E1: True}


@pytest.mark.parametrize("answer,expected", [
    (b"not json", "Expecting value"),
    (http_error(E1 + "/health", 503, {"health": "false"}), "error"),
    (TimeoutError("timed out"), "timed out"),
    (b"", False),                                     # empty body: no "health" key
], ids=["bad-json", "http-503", "timeout", "empty"])
def test_health_never_raises(answer, expected):
    patcher, _ = _urlopen({E1 + "/health": answer})
    with patcher:
        result = pgha_etcd.health([E1])
    assert result[E1] is not True
    if isinstance(expected, str):
        assert expected in result[E1]
    else:
        assert result[E1] is expected


def test_health_no_endpoints():
    assert pgha_etcd.health([]) == {}


# -- members ---------------------------------------------------------------------------------

def test_members_posts_to_the_v3_gateway():
    body = {"header": {"cluster_id": "1"}, "members": [
        {"ID": "1", "name": "pg1", "peerURLs": ["http://10.0.0.11:2380"],
         "clientURLs": ["http://10.0.0.11:2379"]},
        {"ID": "2", "peerURLs": ["http://10.0.0.12:2380"]},     # not started yet: no name
    ]}
    patcher, calls = _urlopen({E3.rstrip("/") + "/v3/cluster/member/list": body})
    with patcher:
        members = pgha_etcd.members(E3, timeout=7)
    assert members == [
        {"name": "pg1", "peer_urls": ["http://10.0.0.11:2380"],
         "client_urls": ["http://10.0.0.11:2379"]},
        {"name": "", "peer_urls": ["http://10.0.0.12:2380"], "client_urls": []},
    ]
    (url, timeout, req), = calls
    assert url == "http://10.0.0.13:2379/v3/cluster/member/list"
    assert timeout == 7
    assert req.get_method() == "POST"
    assert json.loads(req.data) == {}


def test_members_empty_cluster_answer():
    patcher, _ = _urlopen({E1 + "/v3/cluster/member/list": {}})
    with patcher:
        assert pgha_etcd.members(E1) == []


@pytest.mark.parametrize("answer", [
    urllib.error.URLError("connection refused"),
    http_error(E1 + "/v3/cluster/member/list", 404, b"404 page not found"),
    b"<html>",
], ids=["unreachable", "http-404", "bad-json"])
def test_members_errors_raise(answer):
    patcher, _ = _urlopen({E1 + "/v3/cluster/member/list": answer})
    with patcher, pytest.raises(CommandExecutionError, match="cannot list etcd members at " + E1):
        pgha_etcd.members(E1)


# -- wait_healthy ----------------------------------------------------------------------------

def test_wait_healthy_needs_endpoints():
    with pytest.raises(CommandExecutionError, match="no etcd endpoints"):
        pgha_etcd.wait_healthy([])


def test_wait_healthy_returns_at_once_when_healthy(clock):
    patcher, _ = _urlopen({E1 + "/health": {"health": "true"}, E2 + "/health": {"health": "true"}})
    with patcher:
        assert pgha_etcd.wait_healthy([E1, E2]) == {E1: True, E2: True}
    assert clock.sleeps == []


def test_wait_healthy_waits_for_quorum(clock):
    patcher, calls = _urlopen({
        E1 + "/health": {"health": "true"},
        E2 + "/health": [urllib.error.URLError("refused"), {"health": "false"}, {"health": "true"}],
    })
    with patcher:
        assert pgha_etcd.wait_healthy([E1, E2], timeout=30, interval=2) == {E1: True, E2: True}
    assert clock.sleeps == [2, 2]
    assert len(calls) == 6


def test_wait_healthy_times_out_naming_the_bad_members(clock):
    patcher, _ = _urlopen({
        E1 + "/health": {"health": "true"},
        E2 + "/health": urllib.error.URLError("refused"),
    })
    with patcher, pytest.raises(CommandExecutionError) as exc:
        pgha_etcd.wait_healthy([E1, E2], timeout=5, interval=1)
    message = str(exc.value)
    assert "etcd not healthy after 5s" in message
    assert E2 in message and "refused" in message
    assert E1 not in message
    assert sum(clock.sleeps) >= 5


def test_wait_healthy_timeout_zero_looks_once(clock):
    patcher, calls = _urlopen({E1 + "/health": {"health": "false"}})
    with patcher, pytest.raises(CommandExecutionError):
        pgha_etcd.wait_healthy([E1], timeout=0)
    assert len(calls) == 1
    assert clock.sleeps == []
