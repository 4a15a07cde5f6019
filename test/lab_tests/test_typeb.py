"""Type B on real nodes: etcd + Patroni + vip-manager, deployed by `salt-run state.orch pgha.deploy`.

The tests share one cluster and run in file order: deploy, use, re-deploy, drift, switchover,
bad pillar.
"""
import os
import time
import uuid

import yaml

from pghalab.cluster import app_user, connect, leader_name, query, run_orch, salt_json, serves_writes_as, wait_for
from pghalab.writer import Writer

from .helpers import assert_orch_changed_nothing, postmaster_starts, state_comments, steps

VIP = "10.213.0.100"
PGBOUNCER = 6432


def test_deploy_from_bare_nodes(lab, deployed):
    assert all(deployed["bare"].values()), f"nodes were not bare before deploy: {deployed['bare']}"
    result = deployed["result"]
    assert result["rc"] == 0, result["stdout"][-4000:] + result["stderr"][-2000:]
    failed = {k: v.get("comment") for k, v in steps(result).items() if v.get("result") is not True}
    assert not failed
    roles = {n.name: query(lab, n.address, "SELECT pg_is_in_recovery()")[0][0] for n in lab.nodes()}
    assert sorted(roles.values()) == [False, True, True], roles
    for node in lab.nodes():
        if roles[node.name]:
            status = query(lab, node.address, "SELECT status FROM pg_stat_wal_receiver")
            assert status == [("streaming",)], (node.name, status)



def test_host_preparation_applied_or_reported(lab, deployed):
    """pgha.system on real nodes: files for boot, what a container can take applied, what it
    cannot reported (not failed), and a second run changes nothing."""
    ret = salt_json(lab, "pg*", "state.sls", "pgha.system")
    for minion, states in ret.items():
        assert isinstance(states, dict), (minion, states)
        bad = {k: v["comment"] for k, v in states.items() if v["result"] is not True or v["changes"]}
        assert not bad, (minion, bad)
    for minion, comments in state_comments(ret, "pgha-system-sysctl-applied").items():
        # nspawn mounts /proc/sys read-only: the host's values apply, and the state says so
        assert "read-only in this container (systemd-nspawn)" in comments[0], (minion, comments)
    for minion, comments in state_comments(ret, "pgha-system-time-service-not-started").items():
        assert "the clock is the host's" in comments[0], (minion, comments)
    for node in lab.nodes():
        out = node.exec(["sh", "-c", "cat /etc/sysctl.d/90-pgha.conf; locale -a; cat /etc/hosts; "
                         "systemctl show patroni -p LimitNOFILESoft; "
                         "systemctl is-enabled disable-transparent-huge-pages"], capture=True).stdout
        assert "vm.swappiness = 1" in out and "en_US.utf8" in out, (node.name, out)
        assert all(f"{n.address} {n.name}" in out for n in lab.nodes()), (node.name, out)
        assert "LimitNOFILESoft=65536" in out and out.rstrip().endswith("enabled"), (node.name, out)

def _host_modules():
    """Names of the kernel modules loaded on the HOST (the lab's nodes share its kernel). A
    kernel built without loadable modules has no /proc/modules: nothing can be loaded there."""
    if not os.path.exists("/proc/modules"):
        return set()
    with open("/proc/modules", encoding="ascii") as fh:
        return {line.split()[0] for line in fh if line.strip()}


def test_watchdog_off_in_a_container_and_reported(lab, deployed):
    """Patroni's watchdog (mode automatic by default) inside the lab's systemd-nspawn nodes:
    pgha never loads softdog there (the kernel is the host's), Patroni's configuration says
    off, the state says why, the deploy summary has one line per node, and no softdog is
    loaded on the host. No new deploy: the deploy's result and a state run of the watchdog."""
    summary = steps(deployed["result"]).get("pgha-watchdog-summary")
    assert summary and summary.get("result") is True, summary
    lines = (summary.get("changes") or {}).get("ret") or {}
    assert sorted(lines) == sorted(n.name for n in lab.nodes()), lines
    for minion, line in lines.items():
        assert line.startswith("watchdog off (wanted automatic): inside a container (systemd-nspawn)"), (minion, line)
    ret = salt_json(lab, "pg*", "state.sls", "pgha.patroni.watchdog")
    for minion, comments in state_comments(ret, "pgha-patroni-watchdog-ready").items():
        assert comments[0].startswith("watchdog off (wanted automatic): inside a container"), (minion, comments)
    for minion, states in ret.items():
        assert isinstance(states, dict), (minion, states)
        ids = {st.get("__id__") for st in states.values()}
        assert not [i for i in ids if "softdog" in i or "udev" in i], (minion, sorted(ids))
        assert all(st["result"] is True and not st["changes"] for st in states.values()), (minion, states)
    for node in lab.nodes():
        config = yaml.safe_load(node.exec(["cat", "/etc/patroni/config.yml"], capture=True).stdout)
        assert config["watchdog"]["mode"] in ("off", False), (node.name, config["watchdog"])
        assert not node.exec(["test", "-e", "/etc/modules-load.d/pgha-softdog.conf"], check=False).returncode == 0
    assert "softdog" not in _host_modules(), "softdog is loaded on the host that runs the lab"


def test_write_through_vip_is_visible_on_every_replica(lab, deployed):
    token = str(uuid.uuid4())
    query(lab, VIP, "CREATE TABLE IF NOT EXISTS pgha_lab_check (token text PRIMARY KEY, at timestamptz DEFAULT now())")
    query(lab, VIP, "INSERT INTO pgha_lab_check (token) VALUES (%s)", (token,))
    for node in lab.nodes():
        wait_for(lambda n=node: query(lab, n.address, "SELECT 1 FROM pgha_lab_check WHERE token = %s", (token,)),
                 timeout=15, what=f"row on {node.name}")


def test_users_databases_extensions_from_pillar(lab, deployed):
    conn = connect(lab, VIP, dbname="appdb", login=app_user(lab))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'")
            assert cur.fetchall() == [("pg_stat_statements",)]
    finally:
        conn.close()


def test_pgbouncer_runs_on_every_node_and_the_vip_6432_reaches_the_leader(lab, deployed):
    """Issue 21: Type B with pgbouncer:enabled deploys PgBouncer on every database node (its
    own step, gated); the app user logs in through VIP:6432 and lands on the leader."""
    assert "pgha-pgbouncer-deployed" in steps(deployed["result"])
    for node in lab.nodes():
        out = node.exec(["systemctl", "is-active", "pgbouncer"], capture=True).stdout.strip()
        assert out == "active", (node.name, out)
    conn = connect(lab, VIP, dbname="appdb", port=PGBOUNCER, login=app_user(lab))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user, pg_is_in_recovery()")
            assert cur.fetchall() == [(app_user(lab)[0], False)]
    finally:
        conn.close()
    ini = lab.node("pg1").exec(["cat", "/etc/pgbouncer/pgbouncer.ini"], capture=True).stdout
    for line in ("max_db_connections = 50", "query_wait_timeout = 60", "listen_port = 6432"):
        assert line in ini.splitlines(), (line, ini)


def test_second_deploy_changes_nothing_and_restarts_nothing(lab, deployed):
    before = postmaster_starts(lab)
    started = time.monotonic()
    result = run_orch(lab, "pgha.deploy")
    print(f"\nFIGURE deploy_noop_seconds={time.monotonic() - started:.1f}")
    assert_orch_changed_nothing(result)
    assert postmaster_starts(lab) == before


def test_highstate_restores_hand_edited_file_without_restart(lab, deployed):
    node = lab.node("pg2")
    before = postmaster_starts(lab)
    node.exec(["sh", "-c", "echo '# edited by hand' >> /etc/patroni/config.yml"])
    res = lab.master.cli("salt", "pg2", "state.highstate", "--out=json", "--static",
                         capture_output=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:]
    content = node.exec(["cat", "/etc/patroni/config.yml"], capture=True).stdout
    assert "edited by hand" not in content
    yaml.safe_load(content)
    mode = node.exec(["stat", "-c", "%a %U", "/etc/patroni/config.yml"], capture=True).stdout.split()
    assert mode == ["600", "postgres"]
    assert postmaster_starts(lab) == before


def test_vip_follows_switchover(lab, deployed):
    old = leader_name(lab)
    candidate = sorted(n.name for n in lab.nodes() if n.name != old)[0]
    started = time.monotonic()
    res = lab.master.cli("salt", old, "pgha_patroni.switchover", f"candidate={candidate}",
                         "--out=json", "--static", capture_output=True, timeout=120)
    assert res.returncode == 0, res.stdout

    wait_for(lambda: serves_writes_as(lab, VIP, candidate), timeout=30, what="VIP on the new leader")
    print(f"\nFIGURE switchover_vip_seconds={time.monotonic() - started:.1f}")

    def holders():
        return [n.name for n in lab.nodes()
                if VIP in n.exec(["ip", "-4", "-o", "addr"], capture=True).stdout]

    # vip-manager on the old leader drops the address at its next poll (vip_manager:interval).
    wait_for(lambda: holders() == [candidate], timeout=10, what=f"VIP only on {candidate}")
    # The demoted leader restarts as a replica; later tests need the whole cluster settled.
    res = lab.master.cli("salt", "-I", "pgha:roles:postgresql", "pgha_patroni.wait_healthy",
                         "role=member", "timeout=120", "--out=json", "--static",
                         capture_output=True, timeout=180)
    assert res.returncode == 0, res.stdout


def test_switchover_through_pgbouncer_loses_no_acknowledged_commit(lab, deployed):
    """Issue 21: a writer commits through VIP:6432 (the leader's PgBouncer) during
    `pgha.switchover` with the default pgbouncer:switchover_pause (false). No acknowledged
    commit may be lost; what the client saw (the write gap, its errors, its reconnects) is
    printed, not asserted (bench/pgbouncer.py compares it with PAUSE/RESUME)."""
    old = leader_name(lab)
    writer = Writer(lab, VIP, port=PGBOUNCER).start()
    time.sleep(1)   # some writes before the switchover
    try:
        started = time.monotonic()
        result = run_orch(lab, "pgha.switchover")
        seconds = time.monotonic() - started
        wait_for(lambda: leader_name(lab) != old, timeout=30, what="a new leader")
        time.sleep(2)   # and some after, through the VIP's new holder
    finally:
        writer.stop()
    assert result["rc"] == 0, result["stdout"][-4000:] + result["stderr"][-2000:]
    kinds = sorted({message.splitlines()[0][:80] for _, message in writer.errors})
    print(f"\nFIGURE pgbouncer_switchover_seconds={seconds:.1f} "
          f"pgbouncer_switchover_write_unavailable_seconds={writer.longest_gap():.2f} "
          f"writes={len(writer.acked)} write_errors={len(writer.errors)} reconnects={writer.reconnects}")
    print("FIGURE pgbouncer_switchover_error_kinds=" + " | ".join(kinds))
    res = lab.master.cli("salt", "-I", "pgha:roles:postgresql", "pgha_patroni.wait_healthy",
                         "role=member", "timeout=120", "--out=json", "--static",
                         capture_output=True, timeout=180)
    assert res.returncode == 0, res.stdout
    assert len(writer.acked) > 50, (len(writer.acked), writer.last_error)
    assert writer.missing(lab.node(leader_name(lab)).address) == []
    # the writer went on through the new leader's PgBouncer
    assert any(s.node == leader_name(lab) for s in writer.acked_since(started + seconds)), writer.last_error


def test_missing_superuser_password_fails_before_any_change(lab, deployed):
    pillar_file = lab.master.pillar_dir / "cluster.sls"
    original = pillar_file.read_text()
    pillar = yaml.safe_load(original)
    del pillar["pgha"]["postgresql"]["superuser"]["password"]
    stamps = {n.name: n.exec(["stat", "-c", "%Y", "/etc/patroni/config.yml"], capture=True).stdout
              for n in lab.nodes()}
    before = postmaster_starts(lab)
    try:
        pillar_file.write_text(yaml.safe_dump(pillar))
        result = run_orch(lab, "pgha.deploy")
    finally:
        pillar_file.write_text(original)
        lab.master.cli("salt", "-I", "pgha:cluster_name:lab", "saltutil.refresh_pillar",
                       capture_output=True)
    output = result["stdout"] + result["stderr"]
    assert result["rc"] != 0
    assert "pgha:postgresql:superuser:password" in output
    assert "no node was changed" in output
    after = {n.name: n.exec(["stat", "-c", "%Y", "/etc/patroni/config.yml"], capture=True).stdout
             for n in lab.nodes()}
    assert after == stamps
    assert postmaster_starts(lab) == before


def test_lab_faults_hit_one_node_and_it_recovers(lab, deployed):
    """The lab's fault commands do what they say, and a replica comes back after each."""
    from pghalab.__main__ import FAULTS

    replica = next(n for n in lab.nodes() if n.name != leader_name(lab))

    def reachable():
        try:
            query(lab, replica.address, "SELECT 1")
            return True
        except Exception:  # pylint: disable=broad-except
            return False

    for fault, undo in (("partition", "heal"), ("freeze", "thaw")):
        FAULTS[fault](lab, replica.name)
        assert not reachable(), f"{replica.name} still answers after {fault}"
        FAULTS[undo](lab, replica.name)
        wait_for(reachable, timeout=30, what=f"{replica.name} after {undo}")
    FAULTS["crash"](lab, replica.name)
    assert replica.init_pid() is None
    FAULTS["start"](lab, replica.name)
    lab.master.wait_minions([replica.name])
    res = lab.master.cli("salt", replica.name, "pgha_patroni.wait_healthy", "role=replica",
                         "timeout=120", "--out=json", "--static", capture_output=True, timeout=240)
    assert res.returncode == 0, res.stdout


def _secrets(pillar):
    """Every password in the lab's pillar."""
    found = []
    if isinstance(pillar, dict):
        for key, value in pillar.items():
            if "password" in key and isinstance(value, str) and value:
                found.append(value)
            else:
                found.extend(_secrets(value))
    elif isinstance(pillar, list):
        for item in pillar:
            found.extend(_secrets(item))
    return found


def test_no_secret_in_output_command_lines_logs_or_world_readable_files(lab, deployed):
    """Each password of the pillar: not in pgha.deploy's full output, not in any process's
    command line or the journal on any node, and only in files that others cannot read."""
    secrets = _secrets(lab.pillar())
    assert len(secrets) >= 4, secrets          # superuser, replication, app user, REST API
    output = deployed["result"]["stdout"] + deployed["result"]["stderr"]
    leaks = [s[:4] + "..." for s in secrets if s in output]
    assert not leaks, f"passwords in pgha.deploy's output: {leaks}"
    for node in lab.nodes():
        processes = node.exec(["ps", "-eo", "args"], capture=True).stdout
        journal = node.exec(["journalctl", "-b", "--no-pager", "-o", "cat"], capture=True).stdout
        for secret in secrets:
            assert secret not in processes, f"a password in a command line on {node.name}"
            assert secret not in journal, f"a password in the journal of {node.name}"
            files = node.exec(["grep", "-rlsF", secret, "/etc", "/var/lib/postgresql", "/var/log", "/run"],
                              capture=True, check=False).stdout.split()
            for path in files:
                mode = int(node.exec(["stat", "-c", "%a", path], capture=True).stdout.strip(), 8)
                assert not mode & 0o004, f"{path} on {node.name} holds a password and is world-readable"
