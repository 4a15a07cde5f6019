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
    """pg1 froze, pg2 took over at 30; pg1 thawed acknowledged until 75.2 while pg2 kept
    committing: both writable from pg2's first commit (30-30.1) to pg1's last (75-75.2)."""
    successes = [_ok("pg1", 1, 1.1), _ok("pg2", 30, 30.1, 2), _ok("pg2", 31, 31.1, 2), _ok("pg1", 75, 75.2),
                 _ok("pg2", 76, 76.1, 2)]
    evidence = split_brain(successes)
    window = split_brain_window(evidence, successes, t0=0.5)
    assert (window["proven"], window["at_most"]) == (44.9, 45.2)
    assert window["old_after"] == {"writer": [1, 74.5]}


def test_split_brain_window_is_the_overlap_not_the_new_leaders_life():
    """The lab's freeze of 2026-12-07: pg2 (timeline 2) froze, pg3 (timeline 3) committed
    from 19.6 s to the end of the run (39 s); pg2 thawed and committed once more (20.5-20.9 s)
    before Patroni demoted it. Evidence comes both ways round (pg2-pg3-pg2 and pg3-pg2-pg3);
    either way the window is the overlap of their spans (0.9 s proven, 1.3 s at most), not
    pg3's whole life."""
    successes = [Success("pg2", 2, -2.0, -1.99, "writer"), Success("pg2", 2, 0.0, 0.01, "writer"),
                 Success("pg3", 3, 19.618, 19.621, "direct"), Success("pg3", 3, 20.426, 20.434, "direct"),
                 Success("pg2", 2, 20.504, 20.868, "direct"), Success("pg3", 3, 20.882, 20.896, "writer"),
                 Success("pg3", 3, 39.28, 39.3, "writer")]
    evidence = split_brain(successes)
    assert len(evidence) == 2
    window = split_brain_window(evidence, successes)
    assert (window["proven"], window["at_most"]) == (0.883, 1.25)
    assert window["old_after"] == {"direct": [1, 20.504]}


def test_split_brain_window_of_a_held_commit():
    """A commit sent to pg1 before its freeze and acknowledged on thaw (12.6 s) stretches the
    upper bound only; pg1's direct writes sent after pg2's first acknowledgement are what is
    proven."""
    successes = [_ok("pg1", 0.0, 0.01), Success("pg1", 1, 0.5, 12.6, "app-default"),
                 _ok("pg2", 10.3, 10.35, 2), Success("pg1", 1, 12.05, 12.5, "direct"),
                 Success("pg1", 1, 12.2, 12.4, "direct"), _ok("pg2", 12.7, 12.8, 2), _ok("pg2", 60.0, 60.1, 2)]
    window = split_brain_window(split_brain(successes), successes)
    assert (window["proven"], window["at_most"]) == (1.85, 2.3)
    assert window["old_after"] == {"direct": [2, 12.2]}


def test_no_split_brain_no_window():
    assert split_brain_window([], []) is None


# -- a run's summary and FIGURE line with every new field, without a lab ------------------------------

class _Probes:
    successes = []


class _Sampler:
    def __init__(self, events):
        self.events = events


def _run():
    from pghalab.faults import Run
    from pghalab.health import Topology
    from pghalab.writer import Writer
    topo = Topology({"pg1": "10.0.0.11", "pg2": "10.0.0.12"}, {}, "10.0.0.100", 5432)
    run = Run(lab=None, topo=topo, fault="crash", leader_before="pg1", leader_after="pg2", targets=["pg1"])
    run.writer, run.probes = Writer(None, "x", name="w", login=("a", "b")), _Probes()
    for i in range(5):
        run.writer.record_ack(f"w-{i}", "pg1", "00000001000000000000000A", 90.0 + i, 90.1 + i)
    run.writer.record_ack("w-9", "pg2", "00000002000000000000000A", 121.0, 121.4)
    default = Writer(None, "x", name="d", login=("a", "b"), deadline=None, source="app-default")
    default.record_ack("d-1", "pg1", "00000001000000000000000A", 99.0, 99.5)
    default.stuck = True
    documented = Writer(None, "x", name="o", login=("a", "b"), deadline=None, source="app-documented")
    documented.record_ack("o-1", "pg1", "00000001000000000000000A", 99.0, 99.5)
    documented.record_ack("o-2", "pg2", "00000002000000000000000A", 131.0, 131.5)
    run.apps = {"default": default, "documented": documented}
    run.app_checks = {"default": {"lost": 0, "lost_ids": []}, "documented": {"lost": 1, "lost_ids": ["o-1"]}}
    run.t_fault, run.etcd_leader_before = 100.0, "pg1"
    run.sampler = _Sampler({"key_expiry": 118.0, "promotion": 119.0, "vip_move": 120.5})
    run.check = {"lost": [], "lost_by_node": {}, "extra": [], "replicas": {}, "leader": "pg2"}
    return run


def test_run_summary_has_apps_etcd_leader_and_stages():
    run = _run()
    s = run.summary()
    assert s["target_was_etcd_leader"] is True and s["etcd_leader_before"] == "pg1"
    assert s["timeline"]["at"] == {"key_expiry": 18.0, "promotion": 19.0, "vip_move": 20.5, "client": 21.4}
    assert s["apps"]["default"]["stuck"] is True and s["apps"]["default"]["rto"] is None
    assert s["apps"]["documented"]["lost"] == 1 and s["apps"]["documented"]["first_ack"] == 31.5
    assert s["split_brain_overlap"] is None and s["split_brain_old_after"] is None
    # the app writers' successes count for split brain
    assert len(run.successes()) == 6 + 3
    line = run.figure()
    assert "etcd_leader=1 key_expiry_seconds=18.00 promotion_seconds=19.00" in line
    assert "app_default_lost=0 app_default_rto_seconds=none app_default_stuck=1" in line
    assert "app_documented_lost=1" in line
    json_line = __import__("json").dumps(s, default=str)
    assert '"apps"' in json_line


def test_an_app_writer_losing_a_commit_fails_the_guarantee():
    from pghalab.faults import assert_fault_handled
    run = _run()
    run.dcs = {"synchronous_mode": True}
    run.writer.acked[:0] = [(f"w-b{i}", run.writer.acked[0][1]) for i in range(10)]
    with pytest.raises(AssertionError, match="application writer 'documented'"):
        assert_fault_handled(run)
