"""Where a failover's time goes (pghalab.failover_timeline) and the split brain window
(pghalab.faults.split_brain_window), without a lab."""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from pghalab.checks import Success, split_brain
from pghalab.failover_timeline import STAGES, dcs_api_of, leader_key, split_times
from pghalab.faults import split_brain_window


def test_split_times_in_order():
    found = split_times(100.0, {"key_expiry": 118.5, "promotion": 120.0, "vip_move": 120.7}, first_ack=21.5)
    assert found["at"] == {"key_expiry": 18.5, "promotion": 20.0, "vip_move": 20.7, "client": 21.5}
    assert found["steps"] == {"key_expiry": 18.5, "promotion": 1.5, "vip_move": 0.7, "client": 0.8}


def test_split_times_stage_not_seen():
    found = split_times(100.0, {"promotion": 120.0}, first_ack=None)
    assert found["at"] == {"key_expiry": None, "promotion": 20.0, "vip_move": None, "client": None}
    assert found["steps"] == {"key_expiry": None, "promotion": 20.0, "vip_move": None, "client": None}


def test_split_times_out_of_order_never_negative():
    """The VIP may move before the sampler sees the promotion (sampled every 0.2 s)."""
    found = split_times(0.0, {"key_expiry": 10.0, "promotion": 12.0, "vip_move": 11.8}, first_ack=12.5)
    assert found["steps"]["vip_move"] == 0.0 and found["steps"]["client"] == 0.5
    assert list(found["at"]) == list(STAGES)


@pytest.mark.parametrize("pgha,api", [
    ({"cluster_vip": "10.0.0.100"}, "etcd"),
    ({"cluster_vip": "10.0.0.100", "with_haproxy_load_balancing": True}, "etcd3"),
    ({"patroni": {"dcs_api": "etcd3"}}, "etcd3"),
    ({"patroni": {"dcs_api": "auto"}, "with_haproxy_load_balancing": True}, "etcd3"),
])
def test_dcs_api_of(pgha, api):
    assert dcs_api_of(pgha) == api


@pytest.fixture
def etcd_v2():
    """An etcd v2 API on 127.0.0.1 that holds /service/main/leader = pg2 (only)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path.startswith("/v2/keys/service/main/leader"):
                body, code = {"node": {"key": "/service/main/leader", "value": "pg2"}}, 200
            else:
                body, code = {"errorCode": 100, "message": "Key not found"}, 404
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_leader_key_v2(etcd_v2):
    assert leader_key(["127.0.0.1"], "main", "etcd", port=etcd_v2) == "pg2"
    assert leader_key(["127.0.0.1"], "other", "etcd", port=etcd_v2) is None      # no key: expired


def test_leader_key_no_member_answers():
    with pytest.raises(OSError, match="no etcd member"):
        leader_key(["127.0.0.9"], "main", "etcd")


def _ok(node, start, end, timeline=1):
    return Success(node, timeline, start, end, "writer")


def test_split_brain_window_of_a_zombie():
    """pg1 froze, pg2 took over at 30; pg1 thawed acknowledged until 75.2: both writable 45.2 s."""
    successes = [_ok("pg1", 1, 1.1), _ok("pg2", 30, 30.1, 2), _ok("pg2", 31, 31.1, 2), _ok("pg1", 75, 75.2),
                 _ok("pg2", 76, 76.1, 2)]
    evidence = split_brain(successes)
    assert evidence and split_brain_window(evidence, successes) == 45.2


def test_no_split_brain_no_window():
    assert split_brain_window([], []) is None
