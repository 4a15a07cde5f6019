"""Unit tests of the pgha_patroni execution module (_modules/pgha_patroni.py).

Patroni's REST API is a fake behind urllib.request.urlopen, PostgreSQL a mocked psycopg2, and
the Patroni configuration a real YAML file in tmp_path (option ``pgha_patroni.config``).
"""
import base64
import copy
import json
import urllib.error
import urllib.request
from unittest.mock import MagicMock, patch

import pgha_patroni
import pgha_patroni_config
import pytest
import yaml
from pgha_unit_helpers import PATRONI_CONFIG_UTILS, FakeResponse, http_error
from salt.exceptions import CommandExecutionError

CONFIG = {
    "scope": "main",
    "name": "pg1",
    "restapi": {
        "listen": "0.0.0.0:8008",
        "connect_address": "10.0.0.11:8008",
        "authentication": {"username": "patroni", "password": "rest-secret"},
    },
    "postgresql": {
        "listen": "0.0.0.0:5432",
        "connect_address": "10.0.0.11:5433",
        "authentication": {"superuser": {"username": "postgres", "password": "su-secret"}},
    },
}
LEADER = {"name": "pg1", "role": "leader", "state": "running", "host": "10.0.0.11",
          "port": 5433, "timeline": 3, "api_url": "http://10.0.0.11:8008/patroni"}
CLUSTER = {"members": [
    {"name": "pg3", "role": "replica", "state": "streaming", "host": "10.0.0.13", "port": 5433,
     "timeline": 3, "lag": 3145728, "api_url": "http://10.0.0.13:8008/patroni"},
    LEADER,
    {"name": "pg2", "role": "replica", "state": "streaming", "host": "10.0.0.12", "port": 5433,
     "timeline": 3, "lag": 0, "api_url": "http://10.0.0.12:8008/patroni"},
]}
ME_LEADER = {"state": "running", "role": "primary", "timeline": 3, "xlog": {"location": 1}}
ME_REPLICA = {"state": "running", "role": "replica", "timeline": 3}


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "patroni.yml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


@pytest.fixture
def configure_loader_modules(config_file):
    option = MagicMock(side_effect=lambda key, *a, **k: str(config_file)
                       if key == "pgha_patroni.config" else "")
    return {
        pgha_patroni: {
            "__salt__": {"config.option": option},
            "__utils__": dict(PATRONI_CONFIG_UTILS),
            "__opts__": {"id": "pg1", "test": False},
            "__pillar__": {},
            "__context__": {},
        }
    }


class FakePatroni:
    """Patroni's REST API: ``routes`` maps (method, path) to (status, body) or an exception,
    or a list of those (one per call, the last one repeats)."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []

    def __call__(self, req, timeout=None):
        self.requests.append((req, timeout))
        path = req.full_url.split(":8008", 1)[-1] if ":8008" in req.full_url else req.full_url
        answer = self.routes[(req.get_method(), path)]
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        if status >= 400:
            raise http_error(req.full_url, status, body if not isinstance(body, str)
                             else body.encode())
        return FakeResponse(body, status=status)


def _patroni(routes):
    fake = FakePatroni(routes)
    return patch.object(urllib.request, "urlopen", MagicMock(side_effect=fake)), fake


def _psycopg2(*rows):
    """A psycopg2 mock whose cursor's fetchone answers ``rows`` in turn (an exception raises)."""
    module = MagicMock(name="psycopg2")
    conn = module.connect.return_value
    cursor = conn.cursor.return_value.__enter__.return_value
    cursor.fetchone.side_effect = list(rows)
    return patch.object(pgha_patroni, "psycopg2", module), module, cursor


def _write(config_file, **changes):
    conf = copy.deepcopy(CONFIG)
    for key, value in changes.items():
        conf[key] = value
    config_file.write_text(yaml.safe_dump(conf))


def test_virtual():
    assert pgha_patroni.__virtual__() == "pgha_patroni"


# -- configuration and REST plumbing -------------------------------------------------------

def test_status_reads_the_config_and_asks_the_connect_address():
    patcher, fake = _patroni({("GET", "/patroni"): (200, ME_LEADER)})
    with patcher:
        assert pgha_patroni.status() == ME_LEADER
    (req, timeout), = fake.requests
    assert req.full_url == "http://10.0.0.11:8008/patroni"
    assert timeout == 5
    assert req.get_header("Authorization") is None        # GET needs no credentials
    pgha_patroni.__salt__["config.option"].assert_called_with("pgha_patroni.config")


def test_default_config_path():
    with patch.dict(pgha_patroni.__salt__, {"config.option": MagicMock(return_value="")}), \
            patch("salt.utils.files.fopen", MagicMock(side_effect=FileNotFoundError(2, "missing"))) \
            as fopen, pytest.raises(CommandExecutionError, match="/etc/patroni/config.yml"):
        pgha_patroni.status()
    fopen.assert_called_once_with(pgha_patroni_config.DEFAULT_PATH)


def test_missing_config_file_raises(config_file):
    config_file.unlink()
    with pytest.raises(CommandExecutionError, match="cannot read Patroni config .*patroni.yml"):
        pgha_patroni.status()


def test_https_and_listen_address_without_connect_address(config_file):
    _write(config_file, restapi={"listen": "10.0.0.11:8008", "certfile": "/etc/ssl/patroni.pem"})
    patcher, fake = _patroni({("GET", "/patroni"): (200, ME_LEADER)})
    with patcher:
        pgha_patroni.status()
    assert fake.requests[0][0].full_url == "https://10.0.0.11:8008/patroni"


@pytest.mark.parametrize("answer,match", [
    ((200, "OK"), "unexpected answer from Patroni \\(200\\): OK"),
    (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
     "Patroni REST API unreachable"),
    (TimeoutError("timed out"), "Patroni REST API unreachable: timed out"),
], ids=["not-json", "refused", "timeout"])
def test_status_errors(answer, match):
    patcher, _ = _patroni({("GET", "/patroni"): answer})
    with patcher, pytest.raises(CommandExecutionError, match=match):
        pgha_patroni.status()


def test_status_returns_the_json_of_an_http_error():
    """Patroni answers some endpoints with 503 and a JSON body: that is still an answer."""
    stopped = {"state": "stopped", "role": "replica"}
    patcher, _ = _patroni({("GET", "/patroni"): (503, stopped)})
    with patcher:
        assert pgha_patroni.status() == stopped


# -- cluster / leader / is_leader ----------------------------------------------------------

def test_cluster():
    patcher, _ = _patroni({("GET", "/cluster"): (200, CLUSTER)})
    with patcher:
        assert pgha_patroni.cluster() == CLUSTER


@pytest.mark.parametrize("answer", [(503, {"members": []}), (200, "busy")], ids=["503", "text"])
def test_cluster_bad_answer_raises(answer):
    patcher, _ = _patroni({("GET", "/cluster"): answer})
    with patcher, pytest.raises(CommandExecutionError, match="Patroni /cluster answered"):
        pgha_patroni.cluster()


@pytest.mark.parametrize("members,expected", [
    (CLUSTER["members"], "pg1"),
    ([{"name": "a", "role": "master", "state": "running"}], "a"),
    ([{"name": "b", "role": "primary", "state": "running"}], "b"),
    ([{"name": "s", "role": "standby_leader", "state": "running"}], "s"),
    ([{"name": "c", "role": "leader", "state": "stopped"},
      {"name": "d", "role": "replica", "state": "streaming"}], None),
    ([], None),
], ids=["leader", "master", "primary", "standby-leader", "leader-not-running", "empty"])
def test_leader(members, expected):
    patcher, _ = _patroni({("GET", "/cluster"): (200, {"members": members})})
    with patcher:
        assert pgha_patroni.leader() == expected


@pytest.mark.parametrize("answer,expected", [
    ((200, ME_LEADER), True),
    ((200, {"state": "running", "role": "master"}), True),
    ((200, ME_REPLICA), False),
    ((200, {"state": "starting", "role": "primary"}), False),
    ((503, {"state": "stopped", "role": "primary"}), False),
    (urllib.error.URLError("refused"), False),
    ((200, "no json"), False),
], ids=["primary", "master", "replica", "starting", "stopped", "unreachable", "garbage"])
def test_is_leader(answer, expected):
    patcher, _ = _patroni({("GET", "/patroni"): answer})
    with patcher:
        assert pgha_patroni.is_leader() is expected


def test_is_leader_false_without_config(config_file):
    config_file.unlink()
    assert pgha_patroni.is_leader() is False


# -- table -------------------------------------------------------------------------------------

def test_table():
    patcher, _ = _patroni({("GET", "/cluster"): (200, CLUSTER)})
    with patcher:
        text = pgha_patroni.table()
    lines = text.splitlines()
    assert lines[0].split() == ["Member", "Host", "Role", "State", "TL", "Lag", "MB", "Pending", "restart"]
    assert [line.split()[0] for line in lines[1:4]] == ["pg1", "pg2", "pg3"]   # sorted by name
    assert lines[1].split() == ["pg1", "10.0.0.11", "leader", "running", "3"]
    assert lines[2].split() == ["pg2", "10.0.0.12", "replica", "streaming", "3", "0.0"]
    assert lines[3].split()[-1] == "3.0"                                      # 3 MiB of lag
    # columns line up
    role_column = lines[0].index("Role")
    assert [line[role_column:].split()[0] for line in lines[1:4]] == ["leader", "replica", "replica"]
    # connect through the leader, on the port of the config file
    assert lines[-1] == "Connect: psql 'postgresql://postgres@10.0.0.11:5433/postgres'"


def test_table_shows_pending_restarts():
    """Members that wait for a restart (Patroni's pending_restart) say so: pgha.config's
    summary, where by default (patroni:pending_restart false) nothing restarts them."""
    members = [dict(LEADER, pending_restart=True),
               {"name": "pg2", "host": "10.0.0.12", "role": "replica", "state": "streaming", "lag": 0}]
    patcher, _ = _patroni({("GET", "/cluster"): (200, {"members": members})})
    with patcher:
        lines = pgha_patroni.table().splitlines()
    column = lines[0].index("Pending restart")
    assert lines[1][column:].strip() == "yes" and lines[2][column:].strip() == ""


def test_table_with_vip_port_and_db():
    members = [dict(LEADER), {"name": "pg2", "host": "10.0.0.12", "role": "replica",
                              "state": "streaming", "lag": "unknown"}]
    patcher, _ = _patroni({("GET", "/cluster"): (200, {"members": members})})
    with patcher:
        text = pgha_patroni.table(vip="10.0.0.100", port=6432, dbname="app")
    assert "unknown" in text.splitlines()[2]
    assert text.splitlines()[-1] == "Connect: psql 'postgresql://postgres@10.0.0.100:6432/app'"


def test_table_without_leader():
    members = [{"name": "pg2", "host": "10.0.0.12", "role": "replica", "state": "stopped"}]
    patcher, _ = _patroni({("GET", "/cluster"): (200, {"members": members})})
    with patcher:
        assert pgha_patroni.table().endswith("postgresql://postgres@:5433/postgres'")


# -- switchover --------------------------------------------------------------------------------

def test_switchover_to_a_candidate():
    patcher, fake = _patroni({
        ("GET", "/cluster"): (200, CLUSTER),
        ("GET", "/config"): (200, {}),
        ("POST", "/switchover"): (200, "Successfully switched over to \"pg2\""),
    })
    with patcher:
        result = pgha_patroni.switchover(candidate="pg2")
    assert result == {"from": "pg1", "to": "pg2",
                      "result": "Successfully switched over to \"pg2\""}
    req, timeout = fake.requests[-1]
    assert json.loads(req.data) == {"leader": "pg1", "candidate": "pg2"}
    assert req.get_header("Content-type") == "application/json"
    assert timeout == 60
    token = base64.b64encode(b"patroni:rest-secret").decode()
    assert req.get_header("Authorization") == "Basic " + token


def test_switchover_scheduled_without_candidate():
    patcher, fake = _patroni({
        ("GET", "/cluster"): (200, CLUSTER),
        ("GET", "/config"): (200, {}),
        ("POST", "/switchover"): (202, "Switchover scheduled"),
    })
    with patcher:
        result = pgha_patroni.switchover(scheduled_at="2030-01-01T03:00+00:00")
    assert result["to"] == "pg2" and result["result"] == "Switchover scheduled"   # least lag
    assert json.loads(fake.requests[-1][0].data) == {"leader": "pg1", "candidate": "pg2",
                                                     "scheduled_at": "2030-01-01T03:00+00:00"}


def test_switchover_without_rest_credentials(config_file):
    _write(config_file, restapi={"connect_address": "10.0.0.11:8008"})
    patcher, fake = _patroni({
        ("GET", "/cluster"): (200, CLUSTER),
        ("GET", "/config"): (200, {}),
        ("POST", "/switchover"): (200, "ok"),
    })
    with patcher:
        pgha_patroni.switchover()
    assert fake.requests[-1][0].get_header("Authorization") is None


def test_switchover_refused():
    patcher, _ = _patroni({
        ("GET", "/cluster"): (200, CLUSTER),
        ("GET", "/config"): (200, {}),
        ("POST", "/switchover"): (412, "candidate name does not match with sync_standby"),
    })
    with patcher, pytest.raises(CommandExecutionError,
                                match="switchover refused by Patroni \\(412\\): candidate name"):
        pgha_patroni.switchover(candidate="pg3")


def test_switchover_without_leader():
    members = [{"name": "pg2", "role": "replica", "state": "streaming"}]
    patcher, fake = _patroni({("GET", "/cluster"): (200, {"members": members})})
    with patcher, pytest.raises(CommandExecutionError, match="no running leader"):
        pgha_patroni.switchover()
    assert all(req.get_method() == "GET" for req, _ in fake.requests)


# -- wait_healthy --------------------------------------------------------------------------

def test_wait_healthy_rejects_unknown_role():
    with pytest.raises(CommandExecutionError, match="role must be leader, replica or member"):
        pgha_patroni.wait_healthy(role="primary")


@pytest.mark.parametrize("role", ["leader", "member"])
def test_wait_healthy_leader_accepts_writes(clock, role):
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_LEADER),
                           ("GET", "/cluster"): (200, CLUSTER)})
    pg_patcher, pg, cursor = _psycopg2((False, 1234))
    with patcher, pg_patcher:
        assert pgha_patroni.wait_healthy(role=role) == "leader pg1 accepts writes"
    pg.connect.assert_called_once_with(host="10.0.0.11", port="5433", dbname="postgres",
                                       user="postgres", password="su-secret", connect_timeout=3,
                                       options="-c synchronous_commit=local -c statement_timeout=10000")
    assert "pg_is_in_recovery()" in cursor.execute.call_args[0][0]
    conn = pg.connect.return_value
    assert conn.autocommit is True
    conn.close.assert_called_once_with()
    assert clock.sleeps == []


def test_wait_healthy_leader_waits_for_the_end_of_recovery(clock):
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_LEADER),
                           ("GET", "/cluster"): (200, CLUSTER)})
    pg_patcher, pg, _ = _psycopg2((True, None), (True, None), (False, 7))
    with patcher, pg_patcher:
        assert pgha_patroni.wait_healthy(role="leader", interval=1) == "leader pg1 accepts writes"
    assert clock.sleeps == [1, 1]
    assert pg.connect.return_value.close.call_count == 3


def test_wait_healthy_leader_role_asked_of_a_replica_checks_the_leader(clock):
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_REPLICA),
                           ("GET", "/cluster"): (200, CLUSTER)})
    pg_patcher, pg, _ = _psycopg2((False, 1))
    with patcher, pg_patcher:
        assert pgha_patroni.wait_healthy(role="leader") == "leader pg1 accepts writes"
    assert pg.connect.call_args.kwargs["host"] == "10.0.0.11"


@pytest.mark.parametrize("role", ["replica", "member"])
def test_wait_healthy_replica_streaming(clock, config_file, role):
    _write(config_file, postgresql={**CONFIG["postgresql"], "connect_address": "10.0.0.12:5433"})
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_REPLICA),
                           ("GET", "/cluster"): (200, CLUSTER)})
    pg_patcher, pg, cursor = _psycopg2(("streaming", 3))
    with patcher, pg_patcher:
        assert pgha_patroni.wait_healthy(role=role) == "replica streaming from pg1"
    assert pg.connect.call_args.kwargs["host"] == "10.0.0.12"      # this node, not the leader
    assert "pg_stat_wal_receiver" in cursor.execute.call_args[0][0]


def test_wait_healthy_replica_on_an_old_timeline_waits(clock):
    """After a point-in-time restore a replica must follow the leader's new timeline."""
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_REPLICA),
                           ("GET", "/cluster"): (200, CLUSTER)})
    pg_patcher, _, _ = _psycopg2(("streaming", 2), ("streaming", 3))
    with patcher, pg_patcher:
        assert pgha_patroni.wait_healthy(role="replica", timeout=10, interval=1) == "replica streaming from pg1"
    assert sum(clock.sleeps) == 1


def test_wait_healthy_replica_not_streaming_times_out(clock):
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_REPLICA),
                           ("GET", "/cluster"): (200, CLUSTER)})
    pg_patcher, _, _ = _psycopg2(*[("none", None)] * 50)
    with patcher, pg_patcher, pytest.raises(CommandExecutionError) as exc:
        pgha_patroni.wait_healthy(role="replica", timeout=10, interval=1)
    assert str(exc.value) == ("not healthy as replica after 10s: "
                              "replica WAL receiver is 'none', not streaming")
    assert sum(clock.sleeps) == 10


def test_wait_healthy_replica_role_on_the_leader_fails(clock):
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_LEADER),
                           ("GET", "/cluster"): (200, CLUSTER)})
    with patcher, pytest.raises(CommandExecutionError,
                                match="this node is the leader, expected a replica"):
        pgha_patroni.wait_healthy(role="replica", timeout=3)


@pytest.mark.parametrize("routes,reason", [
    ({("GET", "/patroni"): (503, {"state": "starting", "role": "replica"})},
     "local PostgreSQL not running"),
    ({("GET", "/patroni"): urllib.error.URLError("refused")}, "Patroni REST API unreachable"),
    ({("GET", "/patroni"): (200, ME_REPLICA),
      ("GET", "/cluster"): (200, {"members": [{"name": "pg2", "role": "replica",
                                               "state": "streaming"}]})},
     "the cluster has no running leader yet"),
    ({("GET", "/patroni"): (200, ME_LEADER),
      ("GET", "/cluster"): (200, {"members": [{"name": "pg2", "role": "leader", "state": "running",
                                               "host": "10.0.0.12"}]})},
     "this node still runs as a primary while pg2 holds the leader key"),
], ids=["starting", "unreachable", "no-leader", "stale-primary"])
def test_wait_healthy_reports_the_last_reason(clock, routes, reason):
    patcher, _ = _patroni(routes)
    with patcher, pytest.raises(CommandExecutionError, match="not healthy as member after 5s: " + reason):
        pgha_patroni.wait_healthy(timeout=5, interval=1)


def test_wait_healthy_survives_database_errors(clock):
    class OperationalError(Exception):
        pass

    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_LEADER),
                           ("GET", "/cluster"): (200, CLUSTER)})
    pg_patcher, pg, _ = _psycopg2((False, 1))
    pg.connect.side_effect = [OperationalError("the database system is starting up"),
                              pg.connect.return_value]
    with patcher, pg_patcher:
        assert pgha_patroni.wait_healthy(role="leader") == "leader pg1 accepts writes"
    assert len(clock.sleeps) == 1

    pg.connect.side_effect = OperationalError("the database system is starting up")
    with patcher, pg_patcher, pytest.raises(
            CommandExecutionError, match="OperationalError: the database system is starting up"):
        pgha_patroni.wait_healthy(role="leader", timeout=2)


def test_wait_healthy_without_psycopg2(clock):
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_LEADER),
                           ("GET", "/cluster"): (200, CLUSTER)})
    with patcher, patch.object(pgha_patroni, "HAS_PSYCOPG2", False), \
            pytest.raises(CommandExecutionError, match="psycopg2 is not installed"):
        pgha_patroni.wait_healthy(timeout=1)


def test_wait_healthy_timeout_zero_looks_once(clock):
    patcher, fake = _patroni({("GET", "/patroni"): (200, {"state": "stopped"})})
    with patcher, pytest.raises(CommandExecutionError, match="local PostgreSQL not running"):
        pgha_patroni.wait_healthy(timeout=0)
    assert len(fake.requests) == 1
    assert clock.sleeps == []


# -- wait_vip ------------------------------------------------------------------------------

@pytest.mark.parametrize("addrs,me,expected", [
    (["10.0.0.11", "10.0.0.100"], ME_LEADER, "holds 10.0.0.100 as leader"),
    (["10.0.0.12"], ME_REPLICA, "does not hold 10.0.0.100 as replica"),
], ids=["leader-holds", "replica-does-not"])
def test_wait_vip_in_place(clock, addrs, me, expected):
    patcher, _ = _patroni({("GET", "/patroni"): (200, me)})
    with patcher, patch.dict(pgha_patroni.__salt__,
                             {"network.ip_addrs": MagicMock(return_value=addrs)}):
        assert pgha_patroni.wait_vip("10.0.0.100") == expected
    assert clock.sleeps == []


def test_wait_vip_waits_for_vip_manager(clock):
    ip_addrs = MagicMock(side_effect=[["10.0.0.11"], ["10.0.0.11"], ["10.0.0.11", "10.0.0.100"]])
    patcher, _ = _patroni({("GET", "/patroni"): (200, ME_LEADER)})
    with patcher, patch.dict(pgha_patroni.__salt__, {"network.ip_addrs": ip_addrs}):
        assert pgha_patroni.wait_vip("10.0.0.100", interval=0.5) == "holds 10.0.0.100 as leader"
    assert clock.sleeps == [0.5, 0.5]


@pytest.mark.parametrize("addrs,me,match", [
    (["10.0.0.11"], ME_LEADER, "VIP 10.0.0.100 missing on a leader after 3s"),
    (["10.0.0.12", "10.0.0.100"], ME_REPLICA, "VIP 10.0.0.100 present on a non-leader after 3s"),
], ids=["missing-on-leader", "present-on-replica"])
def test_wait_vip_times_out(clock, addrs, me, match):
    patcher, _ = _patroni({("GET", "/patroni"): (200, me)})
    with patcher, patch.dict(pgha_patroni.__salt__,
                             {"network.ip_addrs": MagicMock(return_value=addrs)}), \
            pytest.raises(CommandExecutionError, match=match):
        pgha_patroni.wait_vip("10.0.0.100", timeout=3)


def test_wait_vip_patroni_down_counts_as_not_leader(clock):
    patcher, _ = _patroni({("GET", "/patroni"): urllib.error.URLError("refused")})
    with patcher, patch.dict(pgha_patroni.__salt__,
                             {"network.ip_addrs": MagicMock(return_value=["10.0.0.12"])}):
        assert pgha_patroni.wait_vip("10.0.0.100") == "does not hold 10.0.0.100 as replica"
