"""Unit tests of the pgha_etcd execution module (_modules/pgha_etcd.py), urllib mocked."""
import json
import urllib.error
import urllib.request
from unittest.mock import MagicMock, patch

import pgha_etcd
import pytest
from pgha_unit_helpers import PATRONI_CONFIG_UTILS, FakeResponse, http_error
from salt.exceptions import CommandExecutionError

E1, E2, E3 = "http://10.0.0.11:2379", "http://10.0.0.12:2379", "http://10.0.0.13:2379/"


@pytest.fixture
def configure_loader_modules():
    return {pgha_etcd: {"__salt__": {}, "__utils__": dict(PATRONI_CONFIG_UTILS), "__opts__": {"test": False},
                        "__pillar__": {},
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
        {"id": "1", "name": "pg1", "peer_urls": ["http://10.0.0.11:2380"],
         "client_urls": ["http://10.0.0.11:2379"]},
        {"id": "2", "name": "", "peer_urls": ["http://10.0.0.12:2380"], "client_urls": []},
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


# -- member_add / member_remove ------------------------------------------------------------

LIST = E1 + "/v3/cluster/member/list"
M1 = {"ID": "11", "name": "pg1", "peerURLs": ["http://10.0.0.11:2380"], "clientURLs": [E1]}
M2 = {"ID": "12", "name": "pg2", "peerURLs": ["http://10.0.0.12:2380"], "clientURLs": [E2]}
M4 = {"ID": "14", "name": "pg4", "peerURLs": ["http://10.0.0.14:2380"],
      "clientURLs": ["http://10.0.0.14:2379"]}


def test_member_add():
    new = {"ID": "14", "peerURLs": ["http://10.0.0.14:2380"]}
    patcher, calls = _urlopen({LIST: [{"members": [M1, M2]}, {"members": [M1, M2, new]}],
                               E1 + "/v3/cluster/member/add": {"member": new}})
    with patcher:
        result = pgha_etcd.member_add([E1], "http://10.0.0.14:2380")
    assert result["added"] is True and len(result["members"]) == 3
    add = [req for url, _, req in calls if url.endswith("/member/add")][0]
    assert json.loads(add.data) == {"peerURLs": ["http://10.0.0.14:2380"]}


def test_member_add_is_idempotent():
    patcher, calls = _urlopen({LIST: {"members": [M1, M2, M4]}})
    with patcher:
        assert pgha_etcd.member_add([E1], "http://10.0.0.14:2380")["added"] is False
    assert len(calls) == 1


def test_member_add_tries_the_next_endpoint():
    patcher, _ = _urlopen({E2 + "/v3/cluster/member/list": urllib.error.URLError("refused"),
                           LIST: {"members": [M1, M2, M4]}})
    with patcher:
        assert pgha_etcd.member_add([E2, E1], "http://10.0.0.14:2380")["added"] is False


def test_member_remove():
    patcher, calls = _urlopen({LIST: [{"members": [M1, M2, M4]}, {"members": [M1, M2]}],
                               E1 + "/health": {"health": "true"}, E2 + "/health": {"health": "true"},
                               E1 + "/v3/cluster/member/remove": {}})
    with patcher:
        assert pgha_etcd.member_remove([E1], "pg4")["removed"] is True
    remove = [req for url, _, req in calls if url.endswith("/member/remove")][0]
    assert json.loads(remove.data) == {"ID": "14"}


def test_member_remove_not_a_member():
    patcher, _ = _urlopen({LIST: {"members": [M1, M2]}})
    with patcher:
        assert pgha_etcd.member_remove([E1], "pg4") == {"removed": False, "members": [
            pgha_etcd._member(M1), pgha_etcd._member(M2)]}


def test_member_remove_refused_without_quorum_left():
    patcher, calls = _urlopen({LIST: {"members": [M1, M2, M4]},
                               E1 + "/health": {"health": "true"},
                               E2 + "/health": urllib.error.URLError("refused")})
    with patcher, pytest.raises(CommandExecutionError,
                                match="removing etcd member pg4 would break quorum: 1 of the 2 members left "
                                      "are healthy, a quorum needs 2"):
        pgha_etcd.member_remove([E1], "pg4")
    assert not [url for url, _, _ in calls if url.endswith("/remove")]


def test_member_add_refused_by_etcd():
    patcher, _ = _urlopen({LIST: {"members": [M1]},
                           E1 + "/v3/cluster/member/add": http_error(E1, 400, b'{"error":"unhealthy cluster"}')})
    with patcher, pytest.raises(CommandExecutionError, match="member/add at .* refused: .*unhealthy cluster"):
        pgha_etcd.member_add([E1], "http://10.0.0.14:2380")


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


def test_removal_allowed_reads_patroni_hosts(tmp_path):
    config = tmp_path / "patroni.yml"
    config.write_text("etcd3:\n  hosts: ['10.0.0.11:2379']\n")
    option = MagicMock(return_value=str(config))
    patcher, _ = _urlopen({LIST: {"members": [M1, M2, M4]}, E1 + "/health": {"health": "true"},
                           E2 + "/health": {"health": "true"}})
    with patcher, patch.dict(pgha_etcd.__salt__, {"config.option": option}):
        assert pgha_etcd.removal_allowed("pg4") == (
            "pg4 can leave: 2 member(s) stay (an even count tolerates no more failures than one fewer)")
        assert pgha_etcd.removal_allowed("pg9", endpoints=[E1]) == "pg9 is not an etcd member"


def test_removal_allowed_without_endpoints(tmp_path):
    option = MagicMock(return_value=str(tmp_path / "missing.yml"))
    with patch.dict(pgha_etcd.__salt__, {"config.option": option}), \
            pytest.raises(CommandExecutionError, match="no etcd endpoints given and cannot read"):
        pgha_etcd.removal_allowed("pg4")


# -- leader_apart: etcd's leadership off Patroni's leader -------------------------------------

M3 = {"ID": "13", "name": "pg3", "peerURLs": ["http://10.0.0.13:2380"], "clientURLs": [E3.rstrip("/")]}
STATUS, MOVE = E1 + "/v3/maintenance/status", E1 + "/v3/maintenance/transfer-leadership"


def _leads(value=True):
    return {"pgha_patroni.is_leader": MagicMock(return_value=value)}


def test_leader_apart_moves_etcds_leadership_to_the_first_healthy_member():
    patcher, calls = _urlopen({STATUS: {"header": {"member_id": "11"}, "leader": "11"},
                               LIST: {"members": [M3, M1, M2]},
                               E2 + "/health": urllib.error.URLError("refused"),
                               E3.rstrip("/") + "/health": {"health": "true"}, MOVE: {}})
    with patcher, patch.dict(pgha_etcd.__salt__, _leads()):
        assert pgha_etcd.leader_apart(E1) == {"moved": True, "to": "pg3"}
    (move,) = [req for url, _, req in calls if url == MOVE]
    assert json.loads(move.data) == {"targetID": "13"}
    assert "Authorization" not in move.headers            # no etcd authentication in this pillar


@pytest.mark.parametrize("leads,status,reason", [
    (False, None, "this node is not Patroni's leader"),
    (True, {"header": {"member_id": "11"}, "leader": "12"}, "etcd's leader is another member"),
    (True, {"header": {}, "leader": "12"}, "etcd's leader is another member"),
])
def test_leader_apart_moves_nothing_unless_this_node_leads_both(leads, status, reason):
    patcher, calls = _urlopen({STATUS: status or {}})
    with patcher, patch.dict(pgha_etcd.__salt__, _leads(leads)):
        assert pgha_etcd.leader_apart(E1) == {"moved": False, "reason": reason}
    assert not [url for url, _, _ in calls if url == MOVE]


def test_leader_apart_without_a_healthy_member_moves_nothing():
    patcher, calls = _urlopen({STATUS: {"header": {"member_id": "11"}, "leader": "11"},
                               LIST: {"members": [M1, M2]}, E2 + "/health": {"health": "false"}})
    with patcher, patch.dict(pgha_etcd.__salt__, _leads()):
        assert pgha_etcd.leader_apart(E1) == {"moved": False, "reason": "no other etcd member is healthy"}
    assert not [url for url, _, _ in calls if url == MOVE]


def test_leader_apart_with_etcd_authentication_sends_roots_token():
    pillar = {"pgha": {"patroni": {"etcd": {"username": "patroni", "password": "p", "root_password": "r00t"}}}}
    patcher, calls = _urlopen({STATUS: {"header": {"member_id": "11"}, "leader": "11"},
                               LIST: {"members": [M1, M2]}, E2 + "/health": {"health": "true"},
                               E1 + "/v3/auth/authenticate": {"token": "tok.1"}, MOVE: {}})
    with patcher, patch.dict(pgha_etcd.__salt__, _leads()), patch.dict(pgha_etcd.__pillar__, pillar):
        result = pgha_etcd.leader_apart(E1)
    assert result == {"moved": True, "to": "pg2"} and "tok.1" not in json.dumps(result)
    (auth,) = [req for url, _, req in calls if url.endswith("/authenticate")]
    assert json.loads(auth.data) == {"name": "root", "password": "r00t"}
    (move,) = [req for url, _, req in calls if url == MOVE]
    assert move.headers["Authorization"] == "tok.1"
    pillar["pgha"]["patroni"]["etcd"]["root_password"] = ""
    patcher, _ = _urlopen({STATUS: {"header": {"member_id": "11"}, "leader": "11"},
                           LIST: {"members": [M1, M2]}, E2 + "/health": {"health": "true"}})
    with patcher, patch.dict(pgha_etcd.__salt__, _leads()), patch.dict(pgha_etcd.__pillar__, pillar), \
            pytest.raises(CommandExecutionError, match="pgha:patroni:etcd:root_password is needed"):
        pgha_etcd.leader_apart(E1)


def test_leader_apart_before_etcd_authentication_is_on_moves_without_a_token():
    pillar = {"pgha": {"patroni": {"etcd": {"username": "patroni", "password": "p", "root_password": "r00t"}}}}
    refused = http_error(E1 + "/v3/auth/authenticate", 400,
                         b'{"error":"etcdserver: authentication is not enabled","code":9}')
    patcher, calls = _urlopen({STATUS: {"header": {"member_id": "11"}, "leader": "11"},
                               LIST: {"members": [M1, M2]}, E2 + "/health": {"health": "true"},
                               E1 + "/v3/auth/authenticate": refused, MOVE: {}})
    with patcher, patch.dict(pgha_etcd.__salt__, _leads()), patch.dict(pgha_etcd.__pillar__, pillar):
        assert pgha_etcd.leader_apart(E1) == {"moved": True, "to": "pg2"}
    (move,) = [req for url, _, req in calls if url == MOVE]
    assert "Authorization" not in move.headers
