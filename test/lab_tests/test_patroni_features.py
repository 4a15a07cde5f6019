"""Patroni's own settings on a running cluster (issue 23, scenario patroni-features: a
pip-installed Patroni 4.0.7, Type B with the lab's VIP): etcd authentication on the v2 API
(vip-manager 1.x still holds the VIP with it, no password on any command line), a permanent
physical slot that survives a switchover without losing WAL, an on_role_change callback
firing, Patroni's log in files, then pgha.update of the virtualenv to 4.1.5 under a writer;
with the pin back at 4.0.7 a highstate refuses to downgrade it. Not in make test: `make test-lab SCENARIO=patroni-features`."""
import base64
import urllib.error
import urllib.request

import pytest

from pghalab.cluster import leader_name, pillar_changed, query, run_orch, vip_holders, wait_for
from pghalab.scenarios import CALLBACK_LOG

from .helpers import assert_orch_ok, assert_pin_refused
from .test_day2 import VIP, _assert_no_write_lost, _with_writer

SCENARIO = "patroni-features"
NODES = ("pg1", "pg2", "pg3")
SLOT = "standby_dc2"


def _etcd(lab):
    pgha = lab.pillar()["pgha"]
    return pgha["patroni"]["etcd"]["username"], pgha["patroni"]["etcd"]["password"]


def _get(url, auth=None):
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # nosec: the lab's own etcd
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_deploy(lab, deployed):
    result = deployed["result"]
    assert result["rc"] == 0, result["stdout"][-4000:] + result["stderr"][-2000:]


def test_etcd_authentication_on_the_v2_api(lab, deployed):
    """The leader key needs etcd's user (guest has no access); vip-manager logs in and holds
    the VIP; the password is in no process's command line and only in owner-only files."""
    user, password = _etcd(lab)
    url = f"http://{lab.node('pg1').address}:2379/v2/keys/service/lab/leader"
    assert _get(url) in (401, 403)
    assert _get(url, (user, password)) == 200
    assert _get(url, (user, "wrong-" + password)) == 401
    leader = leader_name(lab)
    wait_for(lambda: vip_holders(lab, NODES, VIP) == [leader], timeout=30, what="the VIP on the leader")
    for node in lab.nodes():
        found = node.exec(["sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -cF -f /dev/stdin"],
                          input=password + "\n", capture=True, check=False).stdout.strip()
        assert found == "0", f"the etcd password is on a command line on {node.name}"
        mode = node.exec(["stat", "-c", "%a %U", "/etc/pgha/vip-manager-etcd.env"], capture=True).stdout.split()
        assert mode == ["600", "root"], (node.name, mode)
        unit = node.exec(["systemctl", "cat", "vip-manager"], capture=True).stdout
        assert password not in unit


def _slot_restart(lab, node):
    rows = query(lab, lab.node(node).address,
                 "SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (SLOT,))
    return rows[0][0] if rows else None


def test_permanent_slot_survives_a_switchover_and_the_callback_fires(lab, deployed):
    """The slot is on every member (Patroni >= 3.2 keeps it on replicas). A consumer's
    position (the slot advanced on the primary) is kept on the replicas: after a switchover
    the new primary has the slot at or before it, with the WAL from there on."""
    old = leader_name(lab)
    for name in NODES:
        wait_for(lambda n=name: _slot_restart(lab, n) is not None, timeout=90, what=f"slot {SLOT} on {name}")
    primary = lab.node(old).address
    query(lab, primary, "CREATE TABLE IF NOT EXISTS slot_check (i int)")
    query(lab, primary, "INSERT INTO slot_check SELECT generate_series(1, 10000)")
    query(lab, primary, "SELECT pg_switch_wal()")
    [(consumer,)] = query(lab, primary, "SELECT pg_current_wal_lsn()::text")
    query(lab, primary, "SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (SLOT, consumer))
    for name in NODES:
        if name != old:
            wait_for(lambda n=name: query(lab, lab.node(n).address,
                                          "SELECT restart_lsn >= %s::pg_lsn FROM pg_replication_slots "
                                          "WHERE slot_name = %s", (consumer, SLOT))[0][0],
                     timeout=60, what=f"the slot advanced on replica {name}")
    assert_orch_ok(run_orch(lab, "pgha.switchover"))
    new = leader_name(lab)
    assert new != old
    address = lab.node(new).address
    [(kept, segment)] = query(lab, address, "SELECT restart_lsn <= %s::pg_lsn, right(pg_walfile_name(%s::pg_lsn), 16) "
                              "FROM pg_replication_slots WHERE slot_name = %s", (consumer, consumer, SLOT))
    assert kept, "the new primary's slot is past the consumer's position: WAL lost"
    # PostgreSQL keeps WAL from the oldest slot's restart_lsn on: the consumer's segment is there
    segments = sorted(name[8:24] for (name,) in query(lab, address, "SELECT name FROM pg_ls_waldir()")
                      if len(name) == 24)
    assert segments and segments[0] <= segment, (segment, segments)
    print(f"\nFIGURE slot_survived_switchover consumer_lsn={consumer} new_primary={new}")
    # on_role_change ran on the new primary, as postgres, with (action, role, cluster)
    log = lab.node(new).exec(["cat", CALLBACK_LOG], capture=True, check=False).stdout
    assert "on_role_change primary lab" in log, log


def test_patroni_logs_to_files(lab, deployed):
    for node in lab.nodes():
        mode = node.exec(["stat", "-c", "%a %U", "/var/log/patroni"], capture=True).stdout.split()
        assert mode == ["750", "postgres"], (node.name, mode)
        size = node.exec(["stat", "-c", "%s", "/var/log/patroni/patroni.log"], capture=True, check=False).stdout
        assert size.strip().isdigit() and int(size) > 0, node.name


def _versions(lab):
    return {n.name: n.exec(["/opt/patroni/bin/patroni", "--version"], capture=True).stdout.strip()
            for n in lab.nodes()}


def test_update_upgrades_the_pip_installed_patroni(lab, deployed):
    """pgha.update with update_target patroni: the virtualenv moves from 4.0.7 to 4.1.5 on
    each member in the rolling order, no acknowledged write lost."""
    assert all("4.0.7" in v for v in _versions(lab).values()), _versions(lab)

    def newer(pillar):
        pillar["pgha"]["patroni"]["pip_version"] = "4.1.5"
        pillar["pgha"]["operations"] = {"update_target": "patroni"}

    with pillar_changed(lab, newer):
        result, writer = _with_writer(lab, lambda: run_orch(lab, "pgha.update"), "pip_update")
        assert_orch_ok(result)
        assert all("4.1.5" in v for v in _versions(lab).values()), _versions(lab)
        _assert_no_write_lost(lab, writer)


def test_the_old_pip_pin_back_stops_the_highstate_before_any_change(lab, deployed):
    """The pillar pins 4.0.7 again (pillar_changed restored it) while the virtualenvs have
    4.1.5: a highstate refuses at its first state naming patroni:pip_version, and Patroni
    stays 4.1.5."""
    if not all("4.1.5" in v for v in _versions(lab).values()):
        pytest.skip(f"needs the update to 4.1.5 first: {_versions(lab)}")
    assert_pin_refused(lab, "pg2", "pgha:patroni:pip_version: 4.0.7 is older than the installed Patroni 4.1.5 "
                                   "of the virtualenv on pg2; pgha does not downgrade")
    assert all("4.1.5" in v for v in _versions(lab).values()), _versions(lab)
