"""Unit tests of the pgha_haproxy execution module (_modules/pgha_haproxy.py): HAProxy's stats
CSV (urllib mocked) and the wait for one primary behind the master listener (socket mocked)."""
import base64
import socket
import urllib.error
import urllib.request
from unittest.mock import MagicMock, call, patch

import pgha_haproxy
import pytest
from pgha_unit_helpers import FakeResponse, http_error
from salt.exceptions import CommandExecutionError

STATS_URL = "http://127.0.0.1:7000/;csv"
VIP = "10.0.0.100"

# The columns of `show stat` / `/;csv` in HAProxy 2.6 (Debian 12), first line as HAProxy sends
# it: "# " before the first name, a trailing comma. Statistics modules' columns follow "-".
HEADER_26 = (
    "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
    "hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,"
    "cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,"
    "ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,"
    "check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,"
    "conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,"
    "srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,"
    "used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,"
    "agg_check_status,srid,sess_other,h1sess,h2sess,h3sess,req_other,h1req,h2req,h3req,proto,-,"
    "ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,"
    "h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,"
    "h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,"
    "h2_backend_open_streams,h2_total_connections,h2_backend_total_streams"
).split(",")
TYPES = {"FRONTEND": "0", "BACKEND": "1"}      # servers are type 2


def _row(pxname, svname, status, **fields):
    values = {"pxname": pxname, "svname": svname, "status": status,
              "type": TYPES.get(svname, "2"), "mode": "http" if pxname == "stats" else "tcp",
              "pid": "1", "iid": "3", "weight": "1" if svname not in TYPES else "",
              **fields}
    cells = []
    for column in HEADER_26:
        value = str(values.get(column, ""))
        # HAProxy quotes a field that holds a comma or a quote, as CSV does
        cells.append('"' + value.replace('"', '""') + '"' if any(c in value for c in ',"') else value)
    return ",".join(cells) + ","


def _server(pxname, svname, status, address, check="L7OK", code="200", **fields):
    return _row(pxname, svname, status, addr=address, check_status=check, check_code=code,
                check_rise="2", check_fall="2", check_health="4" if status == "UP" else "0",
                agg_server_status="", **fields)


REPLICA = {"check": "L7STS", "code": "503"}     # Patroni answers 503: not what this port wants


def stats_csv(listeners=None):
    """A `/;csv` page of HAProxy 2.6: the stats listener, then pgha's listeners, each a
    FRONTEND row, its servers ``(name, status, address[, check fields])`` and a BACKEND row."""
    if listeners is None:
        listeners = {
            "master": [("pg1", "UP", "10.0.0.11:6432"),
                       ("pg2", "DOWN", "10.0.0.12:6432",
                        {**REPLICA, "last_chk": "HTTP status check returned code <503>, (replica)"}),
                       ("pg3", "DOWN", "10.0.0.13:6432", REPLICA)],
            "replicas": [("pg1", "DOWN", "10.0.0.11:6432", REPLICA),
                         ("pg2", "UP", "10.0.0.12:6432"),
                         ("pg3", "UP 1/2", "10.0.0.13:6432")],
            "master_direct": [("pg1", "UP", "10.0.0.11:5432"), ("pg2", "MAINT", "10.0.0.12:5432"),
                              ("pg3", "no check", "10.0.0.13:5432")],
        }
    lines = ["# " + ",".join(HEADER_26) + ","]
    lines += [_row("stats", "FRONTEND", "OPEN"), _row("stats", "BACKEND", "UP")]
    for name, servers in listeners.items():
        lines.append(_row(name, "FRONTEND", "OPEN", slim="10000"))
        for svname, status, address, *extra in servers:
            lines.append(_server(name, svname, status, address, **(extra[0] if extra else {})))
        lines.append(_row(name, "BACKEND", "UP" if any(s[1] == "UP" for s in servers) else "DOWN"))
    return "\n".join(lines) + "\n\n"      # HAProxy ends the page with an empty line


@pytest.fixture
def configure_loader_modules():
    # pillar.get would mask the value outside a template (Salt 3008): the module reads __pillar__.
    return {pgha_haproxy: {"__salt__": {}, "__opts__": {"test": False},
                           "__pillar__": {"pgha": {"haproxy": {"stats_password": "pillar-secret"}}},
                           "__context__": {}}}


def _urlopen(answer):
    """urlopen replacement answering every request with ``answer`` (a body or an exception)."""
    calls = []

    def fake(req, timeout=None):
        calls.append((req, timeout))
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(answer)

    return patch.object(urllib.request, "urlopen", MagicMock(side_effect=fake)), calls


def test_virtual():
    assert pgha_haproxy.__virtual__() == "pgha_haproxy"


# -- servers -----------------------------------------------------------------------------------

def test_servers_parses_haproxy_26_csv():
    patcher, _ = _urlopen(stats_csv())
    with patcher:
        result = pgha_haproxy.servers(password="stats-secret")
    # FRONTEND and BACKEND rows are no servers: the stats listener has none at all
    assert result == {
        "master": {"pg1": "UP", "pg2": "DOWN", "pg3": "DOWN"},
        "replicas": {"pg1": "DOWN", "pg2": "UP", "pg3": "UP 1/2"},
        "master_direct": {"pg1": "UP", "pg2": "MAINT", "pg3": "no check"},
    }


def test_servers_csv_sample_is_realistic():
    """The sample is what HAProxy sends: '# pxname,svname,...' and a trailing comma per line."""
    text = stats_csv()
    first = text.splitlines()[0]
    assert first.startswith("# pxname,svname,qcur,qmax,")
    assert first.endswith(",h2_backend_total_streams,")
    assert all(line.endswith(",") for line in text.splitlines() if line)
    assert '"HTTP status check returned code <503>, (replica)"' in text


def test_servers_without_the_comment_mark():
    """A header without '# ' (as `show stat` through some tools) parses the same."""
    patcher, _ = _urlopen(stats_csv().lstrip("# "))
    with patcher:
        assert pgha_haproxy.servers()["master"] == {"pg1": "UP", "pg2": "DOWN", "pg3": "DOWN"}


def test_servers_asks_the_stats_page_with_basic_auth():
    patcher, calls = _urlopen(stats_csv())
    with patcher:
        pgha_haproxy.servers(password="stats-secret")
    ((req, timeout),) = calls
    assert req.full_url == STATS_URL
    assert req.get_method() == "GET"
    assert req.get_header("Authorization") == "Basic " + base64.b64encode(
        b"admin:stats-secret").decode()
    assert timeout == 3


def test_servers_reads_the_password_from_pillar():
    """States never pass the stats password: without one, it comes from this minion's pillar."""
    patcher, calls = _urlopen(stats_csv())
    with patcher:
        pgha_haproxy.servers()
    ((req, _),) = calls
    assert base64.b64decode(req.get_header("Authorization").split()[1]) == b"admin:pillar-secret"


def test_servers_host_port_user_and_timeout():
    patcher, calls = _urlopen(stats_csv())
    with patcher:
        pgha_haproxy.servers(port=7100, user="ops", password="p:w@rd", host="10.0.0.31", timeout=9)
    ((req, timeout),) = calls
    assert req.full_url == "http://10.0.0.31:7100/;csv"
    assert base64.b64decode(req.get_header("Authorization").split()[1]) == b"ops:p:w@rd"
    assert timeout == 9


def test_servers_only_frontends_and_backends():
    patcher, _ = _urlopen(stats_csv({}))
    with patcher:
        assert pgha_haproxy.servers() == {}


@pytest.mark.parametrize("error,text", [
    (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")), "Connection refused"),
    (http_error(STATS_URL, 401, b"<html><body><h1>401 Unauthorized</h1></body></html>"), "401"),
    (TimeoutError("timed out"), "timed out"),
    (ConnectionResetError(104, "Connection reset by peer"), "reset"),
], ids=["refused", "wrong-password", "timeout", "reset"])
def test_servers_unreachable(error, text):
    patcher, _ = _urlopen(error)
    with patcher, pytest.raises(CommandExecutionError) as exc:
        pgha_haproxy.servers(port=7000)
    assert "HAProxy stats unreachable on 127.0.0.1:7000" in str(exc.value)
    assert text in str(exc.value)


def test_servers_non_csv_answer_is_a_command_error():
    patcher, _ = _urlopen("<html>\n<body>It works!</body>\n</html>\n")
    with patcher, pytest.raises(CommandExecutionError):
        pgha_haproxy.servers()


# -- wait_ready --------------------------------------------------------------------------------

def _servers(*answers):
    """servers() replacement answering ``answers`` in turn (the last one repeats); an
    exception is raised."""
    queue = list(answers)

    def fake(**kwargs):
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return patch.object(pgha_haproxy, "servers", MagicMock(side_effect=fake))


def _master(*up, down=()):
    return {"master": {**{s: "UP" for s in up}, **{s: "DOWN" for s in down}},
            "replicas": {s: "UP" for s in down}}


def _connect(side_effect=None):
    conn = MagicMock()
    conn.__enter__.return_value = conn
    conn.__exit__.return_value = False
    return patch.object(socket, "create_connection",
                        MagicMock(return_value=conn, side_effect=side_effect))


def test_wait_ready_one_primary(clock):
    with _servers(_master("pg1", down=("pg2", "pg3"))) as servers, _connect() as connect:
        assert pgha_haproxy.wait_ready(port=7000, user="admin", password="s") == "primary pg1 UP"
    # the stats arguments go to servers(); no VIP, no connection
    servers.assert_called_once_with(port=7000, user="admin", password="s")
    connect.assert_not_called()
    assert clock.sleeps == []


def test_wait_ready_connects_to_the_vip(clock):
    with _servers(_master("pg2", down=("pg1",))), _connect() as connect:
        assert pgha_haproxy.wait_ready(vip=VIP, master_port="5000") == \
            f"primary pg2 behind {VIP}:5000"
    connect.assert_called_once_with((VIP, 5000), timeout=2)
    assert clock.sleeps == []


def test_wait_ready_waits_for_the_primary_to_come_up(clock):
    answers = [_master(down=("pg1", "pg2")),                         # failover: none UP
               {"master": {"pg1": "DOWN", "pg2": "DOWN 1/2"}},      # rising, not UP yet
               _master("pg2", down=("pg1",))]
    with _servers(*answers) as servers, _connect():
        assert pgha_haproxy.wait_ready(vip=VIP, timeout=30, password="s") == \
            f"primary pg2 behind {VIP}:5000"
    assert servers.call_count == 3
    assert clock.sleeps == [0.5, 0.5]


def test_wait_ready_interval(clock):
    with _servers(_master(), _master("pg1")), _connect():
        pgha_haproxy.wait_ready(interval=2)
    assert clock.sleeps == [2]


@pytest.mark.parametrize("master,reason", [
    ({"pg1": "UP", "pg2": "UP"}, "master listener has 2 servers UP: ['pg1', 'pg2']"),
    ({"pg1": "DOWN", "pg2": "DOWN"}, "master listener has 0 servers UP: []"),
    ({"pg1": "UP 1/2", "pg2": "DOWN 1/2"}, "master listener has 0 servers UP"),  # transitions
    ({"pg1": "MAINT", "pg2": "no check"}, "master listener has 0 servers UP"),
    ({}, "master listener has 0 servers UP"),
], ids=["two-up", "none-up", "transitional", "maint", "no-servers"])
def test_wait_ready_needs_exactly_one_up(clock, master, reason):
    with _servers({"master": master}) as servers, _connect() as connect, \
            pytest.raises(CommandExecutionError) as exc:
        pgha_haproxy.wait_ready(vip=VIP, timeout=5)
    assert str(exc.value).startswith("HAProxy not ready after 5s: ")
    assert reason in str(exc.value)
    connect.assert_not_called()
    assert servers.call_count == 11            # at 0, 0.5, ... 5 s
    assert sum(clock.sleeps) == 5


def test_wait_ready_without_a_master_listener(clock):
    with _servers({"replicas": {"pg1": "UP"}}), pytest.raises(CommandExecutionError) as exc:
        pgha_haproxy.wait_ready(timeout=0)
    assert "master listener has 0 servers UP" in str(exc.value)


def test_wait_ready_vip_not_answering(clock):
    refused = ConnectionRefusedError(111, "Connection refused")
    with _servers(_master("pg1")), _connect(side_effect=refused) as connect, \
            pytest.raises(CommandExecutionError) as exc:
        pgha_haproxy.wait_ready(vip=VIP, master_port=5000, timeout=1)
    assert "Connection refused" in str(exc.value)
    assert connect.call_count == 3
    assert connect.call_args == call((VIP, 5000), timeout=2)


def test_wait_ready_vip_comes_up(clock):
    with _servers(_master("pg1")), \
            _connect(side_effect=[socket.timeout("timed out"), MagicMock()]) as connect:
        assert pgha_haproxy.wait_ready(vip=VIP).startswith("primary pg1 behind")
    assert connect.call_count == 2


def test_wait_ready_stats_unreachable_then_ready(clock):
    down = CommandExecutionError("HAProxy stats unreachable on 127.0.0.1:7000: refused")
    with _servers(down, down, _master("pg3")):
        assert pgha_haproxy.wait_ready(timeout=10) == "primary pg3 UP"
    assert clock.sleeps == [0.5, 0.5]


def test_wait_ready_timeout_zero_looks_once(clock):
    down = CommandExecutionError("HAProxy stats unreachable on 127.0.0.1:7000: refused")
    with _servers(down) as servers, pytest.raises(CommandExecutionError) as exc:
        pgha_haproxy.wait_ready(vip=VIP, timeout=0)
    assert str(exc.value) == ("HAProxy not ready after 0s: "
                              "HAProxy stats unreachable on 127.0.0.1:7000: refused")
    servers.assert_called_once_with()
    assert clock.sleeps == []


def test_wait_ready_end_to_end_through_the_stats_page(clock):
    """servers() and wait_ready() together, on the HAProxy 2.6 sample (pg1 the one primary)."""
    patcher, calls = _urlopen(stats_csv())
    with patcher, _connect() as connect:
        assert pgha_haproxy.wait_ready(vip=VIP, master_port=5000, port=7000, user="admin",
                                       password="stats-secret", timeout=0) == \
            f"primary pg1 behind {VIP}:5000"
    assert [c[0].full_url for c in calls] == [STATS_URL]
    connect.assert_called_once_with((VIP, 5000), timeout=2)
