"""Day-2 operations on a real Type B cluster: the pgha_patroni execution module, the dynamic
configuration and pending-restart states under highstate, and the orchestrations
pgha.switchover, pgha.restart, pgha.config and pgha.update. During switchover, rolling
restart and update a writer keeps committing through the VIP; no acknowledged write may be
lost. Tests share one cluster and run in file order.
"""
import time

import pytest

from pghalab.cluster import leader_name, pillar_changed, query, run_orch, salt_json, wait_for
from pghalab.image import SUITES
from pghalab.scenarios import CALLBACK_LOG
from pghalab.writer import Writer

from .helpers import assert_orch_ok, data_dir, postmaster_starts, preset_timings, state_comments, steps

SCENARIO = "typeb"
NORM = preset_timings("norm")        # the default preset, as parameters/defaults.yaml has it
VIP = "10.213.0.100"
PG = "I@pgha:roles:postgresql"



def _settled(lab):
    """Every member healthy (the leader writable, replicas streaming)."""
    ret = salt_json(lab, PG, "pgha_patroni.wait_healthy", "role=member", "timeout=120",
                    tgt_type="compound")
    assert all(isinstance(v, str) for v in ret.values()), ret


def _listing(lab, node="pg1"):
    return salt_json(lab, node, "pgha_patroni.list")[node]


def _pending(lab):
    return salt_json(lab, PG, "pgha_patroni.pending_restart", tgt_type="compound")


def _setting(lab, name):
    return {n.name: query(lab, n.address, f"SELECT current_setting('{name}')")[0][0] for n in lab.nodes()}


def _with_writer(lab, action, figure):
    """Run `action()` while a writer commits through the VIP, print the operation's FIGURE
    line (wall seconds, write unavailability); return (result, writer)."""
    writer = Writer(lab, VIP).start()
    time.sleep(1)  # some writes before the operation
    try:
        started = time.monotonic()
        result = action()
        seconds = time.monotonic() - started
        time.sleep(1)  # and some after
    finally:
        writer.stop()
    print(f"\nFIGURE {figure}_seconds={seconds:.1f} {figure}_write_unavailable_seconds="
          f"{writer.longest_gap():.2f} writes={len(writer.acked)} write_errors={len(writer.errors)}")
    return result, writer


def _assert_no_write_lost(lab, writer):
    assert len(writer.acked) > 50, (f"the writer barely wrote: {len(writer.acked)} rows, "
                                    f"{len(writer.errors)} errors, last: {writer.last_error}")
    leader = leader_name(lab)
    assert writer.missing(lab.node(leader).address) == [], "acknowledged writes lost on the leader"
    for node in lab.nodes():
        wait_for(lambda n=node: writer.missing(n.address) == [], timeout=30,
                 what=f"every acknowledged write on {node.name}")


def test_deploy(lab, deployed):
    assert_orch_ok(deployed["result"])


def test_list_topology_config_history(lab, deployed):
    listing = _listing(lab)
    assert listing["leader"] in ("pg1", "pg2", "pg3") and listing["paused"] is False
    assert sorted(listing["members"]) == ["pg1", "pg2", "pg3"]
    topo = salt_json(lab, "pg2", "pgha_patroni.topology")["pg2"]
    assert list(topo) == [listing["leader"]] and len(topo[listing["leader"]]["replicas"]) == 2
    config = salt_json(lab, "pg3", "pgha_patroni.show_config")["pg3"]
    assert config["postgresql"]["parameters"]["max_connections"] == 200
    assert (config["ttl"], config["loop_wait"]) == (NORM["ttl"], NORM["loop_wait"])   # the default preset's
    assert isinstance(salt_json(lab, "pg1", "pgha_patroni.history")["pg1"], list)
    # the readable form the CLI shows
    res = lab.master.cli("salt", "pg1", "pgha_patroni.list", capture_output=True)
    assert "leader:" in res.stdout and "members:" in res.stdout


def test_edit_config_test_mode_then_real(lab, deployed):
    dry = salt_json(lab, "pg1", "pgha_patroni.edit_config", '{"loop_wait": 9}', "test=True")["pg1"]
    assert dry == {"changes": {"loop_wait": {"old": NORM["loop_wait"], "new": 9}}}
    assert salt_json(lab, "pg1", "pgha_patroni.show_config")["pg1"]["loop_wait"] == NORM["loop_wait"]
    salt_json(lab, "pg1", "pgha_patroni.edit_config", '{"loop_wait": 9}')
    assert salt_json(lab, "pg2", "pgha_patroni.show_config")["pg2"]["loop_wait"] == 9


def test_highstate_puts_the_dynamic_config_back(lab, deployed):
    """Drift in the DCS (the loop_wait edited above) is corrected by highstate, with a reload."""
    before = postmaster_starts(lab)
    ret = salt_json(lab, "pg2", "state.highstate")
    comments = state_comments(ret, "pgha-patroni-dynamic-config-managed")
    # loop_wait is one of the failover preset's keys: the comment also announces that a preset
    # change reaches running clusters this way (issue 18)
    [comment] = comments["pg2"]
    assert comment.startswith("patched loop_wait; applied with a reload; loop_wait from failover preset norm"), comments
    assert comment.endswith("no PostgreSQL restart"), comments
    assert salt_json(lab, "pg1", "pgha_patroni.show_config")["pg1"]["loop_wait"] == NORM["loop_wait"]
    assert postmaster_starts(lab) == before


def test_reload_restart_reinit_of_a_member(lab, deployed):
    leader = leader_name(lab)
    replica = sorted(n.name for n in lab.nodes() if n.name != leader)[-1]
    address = lab.node(replica).address
    assert salt_json(lab, leader, "pgha_patroni.reload", f"member={replica}")[leader]
    started = query(lab, address, "SELECT pg_postmaster_start_time()")[0][0]
    assert salt_json(lab, leader, "pgha_patroni.restart", f"member={replica}")[leader] == {replica: True}
    restarted = wait_for(lambda: query(lab, address, "SELECT pg_postmaster_start_time()")[0][0],
                         what=f"{replica} back")
    assert restarted > started
    # pending_only: nothing is pending, so nothing restarts
    assert salt_json(lab, leader, "pgha_patroni.restart", f"member={replica}",
                     "pending_only=True")[leader] == {replica: False}
    # reinit rebuilds the replica's data directory from the leader
    marker = lab.node(replica).exec(["sh", "-c", f"touch {data_dir(lab)}/pgha-marker && echo ok"],
                                    capture=True).stdout.strip()
    assert marker == "ok"
    assert salt_json(lab, leader, "pgha_patroni.reinit", replica)[leader] == {replica: "reinitialized"}
    gone = lab.node(replica).exec(["test", "-e", f"{data_dir(lab)}/pgha-marker"], check=False)
    assert gone.returncode != 0, "reinit kept the old data directory"
    refused = salt_json(lab, leader, "pgha_patroni.reinit", leader)[leader]
    assert "reinit refused: " + leader + " is the leader" in str(refused)
    _settled(lab)


def test_switchover_orchestration_loses_no_write(lab, deployed):
    old = leader_name(lab)
    result, writer = _with_writer(lab, lambda: run_orch(lab, "pgha.switchover"), "switchover_orch")
    assert_orch_ok(result)
    new = leader_name(lab)
    assert new != old
    _assert_no_write_lost(lab, writer)
    assert writer.reconnects >= 2, "the writer should have reconnected to the new leader"
    assert [h["new_leader"] for h in salt_json(lab, new, "pgha_patroni.history")[new]][-1] == new
    # Patroni ran the on_role_change callback (pgha:patroni:callbacks, installed 0750 for
    # postgres) on the new leader: Patroni 3.0.2 names the role master, 4.x primary
    log = lab.node(new).exec(["cat", CALLBACK_LOG], capture=True, check=False).stdout
    assert "on_role_change master lab" in log or "on_role_change primary lab" in log, log
    mode = lab.node(new).exec(["stat", "-c", "%a %U", "/etc/patroni/callbacks/on_role_change"],
                              capture=True).stdout.split()
    assert mode == ["750", "postgres"], mode


def test_switchover_to_a_named_candidate_and_refusals(lab, deployed):
    _settled(lab)
    old = leader_name(lab)
    target = sorted(n.name for n in lab.nodes() if n.name != old)[0]
    assert_orch_ok(run_orch(lab, "pgha.switchover", pillar={"candidate": target}))
    assert leader_name(lab) == target
    # again: already the leader, nothing changes
    again = run_orch(lab, "pgha.switchover", pillar={"candidate": target})
    assert_orch_ok(again)
    assert steps(again)["pgha-switchover"]["changes"] == {}, steps(again)["pgha-switchover"]
    bad = run_orch(lab, "pgha.switchover", pillar={"candidate": "pg9"})
    assert bad["rc"] != 0
    assert "no member 'pg9' in this cluster" in bad["stdout"]
    assert leader_name(lab) == target


def test_failover_without_a_healthy_leader(lab, deployed):
    _settled(lab)
    leader = leader_name(lab)
    candidate = sorted(n.name for n in lab.nodes() if n.name != leader)[-1]
    refused = salt_json(lab, leader, "pgha_patroni.failover", candidate)[leader]
    assert "failover refused: " + leader + " is a running leader" in str(refused)
    assert salt_json(lab, "pg1", "pgha_patroni.pause")["pg1"] == {"paused": True}
    try:
        major = SUITES[lab.info["suite"]]["postgresql"]
        lab.node(leader).exec(["runuser", "-u", "postgres", "--", f"/usr/lib/postgresql/{major}/bin/pg_ctl",
                               "stop", "-m", "fast", "-D", data_dir(lab)])
        wait_for(lambda: _listing(lab, candidate)["leader"] is None, timeout=30,
                 what="no running leader while paused")
        done = salt_json(lab, candidate, "pgha_patroni.failover", candidate)[candidate]
        assert done["to"] == candidate and done["from"] is None, done
        wait_for(lambda: query(lab, lab.node(candidate).address, "SELECT NOT pg_is_in_recovery()")[0][0],
                 timeout=30, what=f"{candidate} promoted")
    finally:
        assert salt_json(lab, "pg1", "pgha_patroni.resume")["pg1"] == {"paused": False}
    wait_for(lambda: query(lab, lab.node(leader).address, "SELECT pg_is_in_recovery()")[0][0],
             timeout=60, what=f"{leader} back as a replica")
    _settled(lab)


def _restart_parameters(pillar):
    params = pillar["pgha"]["postgresql"].setdefault("parameters", {})
    params.update({"shared_buffers": "160MB", "work_mem": "6MB"})


def test_highstate_reports_pending_restart_and_rolling_restart_applies_it(lab, deployed):
    _settled(lab)
    before = postmaster_starts(lab)
    with pillar_changed(lab, _restart_parameters):
        ret = salt_json(lab, "I@pgha:cluster_name:lab", "state.highstate", tgt_type="compound")
        assert all(all(s.get("result") for s in states.values()) for states in ret.values()), ret
        comments = state_comments(ret, "pgha-patroni-pending-restart-reported")
        assert sorted(comments) == ["pg1", "pg2", "pg3"]
        for minion, texts in comments.items():
            assert texts == ["pending restart: shared_buffers (salt-run state.orch pgha.restart applies it)"], (minion, texts)
        assert postmaster_starts(lab) == before, "highstate restarted PostgreSQL"
        assert set(_setting(lab, "work_mem").values()) == {"6MB"}       # reloaded
        assert all(v == ["shared_buffers"] for v in _pending(lab).values()), _pending(lab)

        old = leader_name(lab)
        result, writer = _with_writer(lab, lambda: run_orch(lab, "pgha.restart"), "rolling_restart")
        assert_orch_ok(result)
        assert all(v == [] for v in _pending(lab).values()), _pending(lab)
        assert set(_setting(lab, "shared_buffers").values()) == {"160MB"}
        after = postmaster_starts(lab)
        assert all(after[n] > before[n] for n in after), "every member restarted once"
        assert leader_name(lab) != old, "the leader restarts through a switchover"
        _assert_no_write_lost(lab, writer)

        # nothing pending: the same orchestration restarts nothing and changes nothing
        starts = postmaster_starts(lab)
        quiet = run_orch(lab, "pgha.restart")
        assert_orch_ok(quiet)
        changed = {sid: s for sid, s in steps(quiet).items() if "Updating" in (s.get("comment") or "")}
        assert not changed, changed
        assert postmaster_starts(lab) == starts


def test_config_lowering_max_connections(lab, deployed):
    """Lower max_connections. By default (autobase's pending_restart: false) pgha.config
    restarts nothing and its summary shows the members that wait for a restart; with
    patroni:pending_restart: true it restarts them, the primary before its replicas."""
    _settled(lab)

    def lower(pillar):
        _restart_parameters(pillar)
        pillar["pgha"]["postgresql"]["parameters"]["max_connections"] = 120

    with pillar_changed(lab, lower):
        before = postmaster_starts(lab)
        report = run_orch(lab, "pgha.config")
        assert_orch_ok(report)
        assert postmaster_starts(lab) == before, "pgha.config restarted PostgreSQL unasked"
        assert all(v for v in _pending(lab).values()), _pending(lab)
        assert "Pending restart" in report["stdout"] and "yes" in report["stdout"], report["stdout"][-3000:]

    def lower_and_restart(pillar):
        lower(pillar)
        pillar["pgha"]["patroni"]["pending_restart"] = True

    with pillar_changed(lab, lower_and_restart):
        result = run_orch(lab, "pgha.config")
        assert_orch_ok(result)
        assert set(_setting(lab, "max_connections").values()) == {"120"}
        assert all(v == [] for v in _pending(lab).values()), _pending(lab)
        first = state_comments(result, "pgha-ops-restarted")
        assert any("restarted (primary_first)" in str(c) for c in first.values()), first
        _settled(lab)


@pytest.mark.extended     # make test's time budget: test_minor_update.py runs pgha.update on a real minor update
def test_update_drains_replicas_first_and_loses_no_write(lab, deployed):
    _settled(lab)
    old = leader_name(lab)
    result, writer = _with_writer(lab, lambda: run_orch(lab, "pgha.update"), "update")
    assert_orch_ok(result)
    order = [sid for sid in steps(result) if sid.endswith("-updated")]
    assert order[-1] == f"pgha-update-{old}-updated", order    # the old leader goes last
    drained = state_comments(result, "pgha-gate-patroni-tags-applied")
    assert any("nofailover" in str(c) for c in drained.values()), drained
    listing = _listing(lab)
    assert listing["leader"] != old
    assert all(not m.get("tags") for m in listing["members"].values()), listing   # tags restored
    _assert_no_write_lost(lab, writer)
