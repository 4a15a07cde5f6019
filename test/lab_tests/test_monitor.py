"""Monitoring (issue 24, scenario `monitor`: Type B with PgBouncer, pgha:monitoring on, a
monitor node mon1 with Prometheus and Alertmanager, the firewall on). Not in make test:
`make test-lab SCENARIO=monitor`.

Every target is up in Prometheus' API (PgBouncer's exporter only where the release runs one:
Debian 13, not 12); the textfile signals arrive, PgBouncer's pools among them; PostgreSQL stopped on a
replica with Patroni paused raises PghaMemberNotStreaming in Alertmanager's API (the time it
took is a FIGURE, not asserted); a switchover raises PghaLeaderChanged; then every alert
resolves; the exporters' ports answer the monitor only; a second deploy changes nothing.
Tests share one cluster, in file order.
"""
import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

from pghalab import screenshot
from pghalab.cluster import query, run_orch, salt_json, wait_for
from pghalab.image import SUITES

from .helpers import assert_orch_changed_nothing, assert_orch_ok, data_dir, steps

SCENARIO = "monitor"
MEMBERS = ("pg1", "pg2", "pg3")
# PgBouncer's exporter per release (monitoring:pgbouncer_exporter, parameters/osfinger): Debian
# 12's 1.7 cannot read any PgBouncer since 1.8, so pgha runs none there; Debian 13's Go one.
PGBOUNCER_EXPORTER = {"bookworm": False, "trixie": True}


def _pgbouncer_exporter(lab):
    return PGBOUNCER_EXPORTER[lab.info["suite"]]


def _exporter_ports(lab):
    return (9100, 9187) + ((9127,) if _pgbouncer_exporter(lab) else ()) + (2381, 8008)


# generous caps: the alert's own `for` is 20 s (the scenario's pillar), scrapes every 5 s
ALERT_CAP = 300
RESOLVE_CAP = 600
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs/images/monitoring-leader-timeline.png"


def _get(lab, port, path, params=None):
    url = f"http://{lab.node('mon1').address}:{port}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as response:   # noqa: S310 (the lab's own node)
        return json.loads(response.read())


def _targets(lab):
    return _get(lab, 9090, "/api/v1/targets")["data"]["activeTargets"]


def _query(lab, expr):
    return _get(lab, 9090, "/api/v1/query", {"query": expr})["data"]["result"]


def _alerts(lab, name=None):
    """Alertmanager's active alerts (optionally of one alertname)."""
    found = _get(lab, 9093, "/api/v2/alerts", {"active": "true", "silenced": "false", "inhibited": "false"})
    return [a for a in found if name is None or a["labels"].get("alertname") == name]


def _leader(lab):
    for name in MEMBERS:
        try:
            if query(lab, lab.node(name).address, "SELECT NOT pg_is_in_recovery()")[0][0]:
                return name
        except Exception:  # noqa: BLE001 (a stopped member)
            continue
    return None


def _settled(lab):
    ret = salt_json(lab, ",".join(MEMBERS), "pgha_patroni.wait_healthy", "role=member", "timeout=120",
                    tgt_type="list")
    assert all(isinstance(v, str) for v in ret.values()), ret


def test_deploy_with_a_monitor(lab, deployed):
    assert_orch_ok(deployed["result"])
    wanted = ["prometheus-node-exporter", "prometheus-postgres-exporter", "pgha-metrics.timer"]
    if _pgbouncer_exporter(lab):
        wanted.append("prometheus-pgbouncer-exporter")
    for name in MEMBERS:
        units = lab.node(name).exec(["systemctl", "is-active", *wanted], capture=True, check=False).stdout.split()
        assert units == ["active"] * len(wanted), (name, wanted, units)
        # where pgha runs no PgBouncer exporter, its package is not even installed
        installed = lab.node(name).exec(["dpkg-query", "-W", "-f", "${db:Status-Status}",
                                         "prometheus-pgbouncer-exporter"], capture=True, check=False).stdout
        assert (installed == "installed") is _pgbouncer_exporter(lab), (name, installed)
    units = lab.node("mon1").exec(["systemctl", "is-active", "prometheus", "prometheus-alertmanager"],
                                  capture=True, check=False).stdout.split()
    assert units == ["active", "active"], units


def test_every_target_is_up(lab, deployed):
    started = time.monotonic()
    exporters = ("etcd", "node", "patroni") + (("pgbouncer",) if _pgbouncer_exporter(lab) else ()) + ("postgres",)
    wait_for(lambda: (lambda t: len(t) >= 3 * len(exporters) + 2 and all(x["health"] == "up" for x in t))(
        _targets(lab)), timeout=180, interval=2, what="every target up in Prometheus")
    print(f"\nFIGURE monitor_targets_up_seconds={time.monotonic() - started:.1f}")
    targets = _targets(lab)
    kinds = sorted({(t["labels"].get("cluster", ""), t["labels"].get("exporter")) for t in targets})
    assert kinds == [("", "alertmanager"), ("", "prometheus")] + [("lab", k) for k in exporters], kinds
    for target in targets:
        if target["labels"].get("cluster"):
            assert target["labels"]["member"] in MEMBERS and target["labels"]["role"] == "etcd,postgresql"


def test_textfile_and_exporter_signals(lab, deployed):
    """pgha-metrics' VIP on one node, two streaming replicas; postgres_exporter logs in as the
    pg_monitor role; the leader's recording rule."""
    wait_for(lambda: _query(lab, 'sum(pgha_vip_present{cluster="lab"})') and
             float(_query(lab, 'sum(pgha_vip_present{cluster="lab"})')[0]["value"][1]) == 1,
             timeout=120, interval=2, what="pgha_vip_present on one node")
    wait_for(lambda: len(_query(lab, "pgha_replica_streaming == 1")) == 2, timeout=120, interval=2,
             what="two streaming replicas")
    assert all(float(r["value"][1]) == 1 for r in _query(lab, "pg_up"))
    leader = _leader(lab)
    wait_for(lambda: [r["metric"]["member"] for r in _query(lab, "pgha:member_is_leader == 1")] == [leader],
             timeout=60, interval=2, what="the recording rule names the leader")
    role = query(lab, lab.node(leader).address,
                 "SELECT r.rolsuper, array(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                 "WHERE m.member = r.oid) FROM pg_roles r WHERE r.rolname = 'pgha_monitor'")
    assert role == [(False, ["pg_monitor"])], role


def test_pgbouncer_pools_from_pgha_metrics(lab, deployed):
    """PgBouncer's SHOW POOLS through pgha-metrics on every member, whatever the release: up,
    and a clients-waiting series per pool (what PghaPgBouncerClientsWaiting reads); on Debian
    13 the Go exporter reads PgBouncer too."""
    wait_for(lambda: sorted(r["metric"]["member"] for r in _query(lab, 'pgha_pgbouncer_up{cluster="lab"} == 1'))
             == sorted(MEMBERS), timeout=120, interval=2, what="pgha_pgbouncer_up 1 on every member")
    pools = _query(lab, 'pgha_pgbouncer_clients_waiting{cluster="lab"}')
    assert {r["metric"]["member"] for r in pools} == set(MEMBERS), pools
    assert all(float(r["value"][1]) == 0 for r in pools), pools
    assert _query(lab, 'pgha_pgbouncer_max_wait_seconds{cluster="lab"}')
    if _pgbouncer_exporter(lab):
        wait_for(lambda: len(_query(lab, 'pgbouncer_up{cluster="lab"} == 1')) == len(MEMBERS), timeout=120,
                 interval=2, what="the Go exporter's pgbouncer_up 1 on every member")


def test_exporters_answer_the_monitor_only(lab, deployed):
    probe = ("import socket,sys\nfor p in sys.argv[2:]:\n s=socket.socket();s.settimeout(2)\n"
             " try:\n  s.connect((sys.argv[1],int(p)));print(p,'open')\n"
             " except ConnectionRefusedError:\n  print(p,'refused')\n except OSError:\n  print(p,'filtered')\n"
             " s.close()")
    address = lab.node("pg2").address
    ports = _exporter_ports(lab)
    seen = lab.node("mon1").exec(["python3", "-c", probe, address, *map(str, ports)],
                                 capture=True).stdout.split()
    assert dict(zip(seen[::2], seen[1::2])) == {str(p): "open" for p in ports}
    if not _pgbouncer_exporter(lab):
        # no exporter on 9127 and the firewall does not open it: dropped even for the monitor
        seen = lab.node("mon1").exec(["python3", "-c", probe, address, "9127"], capture=True).stdout.split()
        assert seen == ["9127", "filtered"], seen
    # the lab host is a client: PostgreSQL yes, the exporters no (dropped)
    import socket  # pylint: disable=import-outside-toplevel
    for port in (9100, 9187, 9127, 2381):    # 9127: dropped whether or not an exporter listens
        try:
            socket.create_connection((address, port), timeout=2).close()
            state = "open"
        except ConnectionRefusedError:
            state = "refused"
        except OSError:
            state = "filtered"
        assert state == "filtered", (port, state)


def test_stopped_replica_raises_member_not_streaming(lab, deployed):
    _settled(lab)
    leader = _leader(lab)
    replica = sorted(n for n in MEMBERS if n != leader)[0]
    assert salt_json(lab, "pg1", "pgha_patroni.pause")["pg1"] == {"paused": True}
    try:
        major = SUITES[lab.info["suite"]]["postgresql"]
        lab.node(replica).exec(["runuser", "-u", "postgres", "--", f"/usr/lib/postgresql/{major}/bin/pg_ctl",
                                "stop", "-m", "fast", "-D", data_dir(lab)])
        stopped = time.monotonic()
        wait_for(lambda: any(a["labels"].get("member") == replica
                             for a in _alerts(lab, "PghaMemberNotStreaming")),
                 timeout=ALERT_CAP, interval=2, what=f"PghaMemberNotStreaming for {replica} in Alertmanager")
        print(f"\nFIGURE replica_failure_to_alert_seconds={time.monotonic() - stopped:.1f} "
              "(for: 20s, scrape and evaluation every 5s)")
    finally:
        assert salt_json(lab, "pg1", "pgha_patroni.resume")["pg1"] == {"paused": False}
    # Patroni starts it again once resumed
    wait_for(lambda: query(lab, lab.node(replica).address, "SELECT pg_is_in_recovery()")[0][0],
             timeout=120, what=f"{replica} back as a replica")


def test_switchover_raises_leader_changed(lab, deployed):
    _settled(lab)
    before = _leader(lab)
    started = time.monotonic()
    assert_orch_ok(run_orch(lab, "pgha.switchover"))
    assert _leader(lab) != before
    wait_for(lambda: _alerts(lab, "PghaLeaderChanged"), timeout=ALERT_CAP, interval=2,
             what="PghaLeaderChanged in Alertmanager")
    print(f"\nFIGURE switchover_to_leader_changed_alert_seconds={time.monotonic() - started:.1f}")


def test_screenshot_of_the_role_timeline(lab, deployed):
    """The docs' picture (by hand: needs chromium on the host; nothing is asserted without it).
    4 minutes: the lab's whole life at this point, so the switchover is not a sliver at the edge."""
    if screenshot.browser() is None:
        print("\nscreenshot skipped: no chromium on this host (apt-get install chromium)")
        return
    links = salt_json(lab, "mon1", "pgha_monitoring.graph_links")["mon1"]
    url = dict(links["lab"])["Leader and role timeline"].replace("range_input=1h", "range_input=4m")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert screenshot.take(url, str(SCREENSHOT), wait_ms=10000, size=(1400, 950)) == 0
    assert SCREENSHOT.stat().st_size > 10_000
    print(f"\nscreenshot written: {SCREENSHOT}")


def test_all_alerts_resolve(lab, deployed):
    _settled(lab)
    started = time.monotonic()
    wait_for(lambda: not [a for a in _alerts(lab) if a["labels"].get("cluster") == "lab"],
             timeout=RESOLVE_CAP, interval=5, what="no active alert of cluster lab")
    print(f"\nFIGURE alerts_resolved_seconds={time.monotonic() - started:.1f}")


def test_second_deploy_changes_nothing(lab, deployed):
    assert_orch_changed_nothing(run_orch(lab, "pgha.deploy"))


def test_monitor_orchestration_changes_nothing_more(lab, deployed):
    """pgha.monitor (the shared monitor's orchestration) on this cluster's monitor: nothing
    left to change, and no database node in its steps."""
    result = run_orch(lab, "pgha.monitor")
    assert_orch_changed_nothing(result)
    targeted = {minion for step in steps(result).values()
                for minion in ((step.get("changes") or {}).get("ret") or {})}
    assert targeted == {"mon1"}, targeted
