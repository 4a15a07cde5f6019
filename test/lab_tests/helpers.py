"""What lab tests assert on orchestration results, and lab checks several tests share. Access to
the cluster (run_orch, salt_json, query, wait_for, ...) is pghalab.cluster."""
import time
from pathlib import Path

import yaml

from pghalab.cluster import identity, leader_name, query, run_orch, salt_json, vip_holders, wait_for
from pghalab.image import SUITES


def steps(result):
    """The orchestration's steps: {step id: state return}, with the steps of the nested
    orchestrations (stage 1 runs pgha.steps.prepare and pgha.steps.<workflow> as salt.runner
    state.orchestrate steps) next to the step that ran them."""
    return _steps(result["data"] or {})


def _steps(data):
    ret = data.get("data", data) if isinstance(data, dict) else {}
    master = next(iter(ret.values())) if ret else {}
    found = {}
    for key, step in (master.items() if isinstance(master, dict) else ()):
        if not isinstance(step, dict):
            continue
        found[step.get("__id__", key)] = step
        nested = (step.get("changes") or {}).get("return")
        if isinstance(nested, dict) and isinstance(nested.get("data"), dict):
            found.update(_steps(nested))
    return found


def minion_changes(step):
    """Changes that minion states reported inside one salt.state step."""
    found = {}
    for minion, states in (step.get("changes", {}).get("ret") or {}).items():
        if isinstance(states, dict):
            for sid, st in states.items():
                if isinstance(st, dict) and st.get("changes"):
                    found[f"{minion}:{sid}"] = st["changes"]
    return found


def failures(result):
    """The states that failed on their own (not for a failed requisite), in every step and on
    every minion: ["step id: minion: state id: comment"], what to read first when a run fails.
    A failed salt.function step has no state dicts under its minions: its return is listed."""
    found = []
    for sid, step in steps(result).items():
        own = []
        for minion, states in ((step.get("changes") or {}).get("ret") or {}).items():
            if not isinstance(states, dict) or not all(isinstance(st, dict) for st in states.values()):
                if step.get("result") is False:
                    own.append(f"{sid}: {minion}: {_short(states)}")
                continue
            for key, st in states.items():
                comment = str(st.get("comment", ""))
                if st.get("result") is False and "requisite failed" not in comment:
                    own.append(f"{sid}: {minion}: {st.get('__id__', key)}: {_short(comment)}")
        if not own and step.get("result") is False and "requisite failed" not in str(step.get("comment")):
            own.append(f"{sid}: {_short(step.get('comment'))}")
        found.extend(own)
    return found


def _short(text, head=300, tail=1500):
    """A long error's start and its end, where commands print why they stopped."""
    text = str(text)
    return text if len(text) <= head + tail else f"{text[:head]} [...] {text[-tail:]}"


def assert_orch_ok(result):
    """The orchestration ran and every step succeeded."""
    assert result["rc"] == 0, ("\n".join(failures(result)) + "\n---\n" + result["stdout"][-6000:]
                               + result["stderr"][-2000:])
    failed = {k: v.get("comment") for k, v in steps(result).items() if v.get("result") is not True}
    assert not failed, failed


def kill_haproxy_on_vip_holder(lab, balancers, vip):
    """Kill HAProxy where the VIP is; return (seconds until another balancer holds the VIP and
    port 5000 answers writes there, the node to restart HAProxy on)."""
    first = vip_holders(lab, balancers, vip)
    assert len(first) == 1, first
    node = lab.node(first[0])
    node.exec(["systemctl", "kill", "-s", "KILL", "haproxy"])
    node.exec(["systemctl", "stop", "haproxy"], check=False)
    started = time.monotonic()
    try:
        wait_for(lambda: vip_holders(lab, balancers, vip) not in ([], first), timeout=30,
                 what="VIP on the other balancer")
        wait_for(lambda: identity(lab, vip, 5000)[1] is False, timeout=30,
                 what="port 5000 via the new VIP holder")
        return time.monotonic() - started
    finally:
        node.exec(["systemctl", "start", "haproxy"], check=False)


def assert_orch_changed_nothing(result):
    """Every step succeeded and no minion state changed (the summary steps are reports)."""
    assert result["rc"] == 0, result["stdout"][-4000:]
    changed = {}
    for sid, step in steps(result).items():
        assert step.get("result") is True, (sid, step.get("comment"))
        if sid not in ("pgha-cluster-summary", "pgha-watchdog-summary"):
            changed.update(minion_changes(step))
    assert not changed, changed


def node_has_package(node, package):
    res = node.exec(["dpkg-query", "-W", "-f=${Status}", package], check=False, capture=True)
    return "install ok installed" in res.stdout


def postmaster_starts(lab):
    return {n.name: query(lab, n.address, "SELECT pg_postmaster_start_time()")[0][0]
            for n in lab.nodes()}


def state_comments(result_or_ret, state_id):
    """{minion: comment} of state `state_id` in highstate returns or an orchestration result."""
    found = {}
    sources = [result_or_ret] if "data" not in result_or_ret else [
        step.get("changes", {}).get("ret") or {} for step in steps(result_or_ret).values()]
    for ret in sources:
        for minion, states in ret.items():
            for sid, st in (states.items() if isinstance(states, dict) else []):
                if isinstance(st, dict) and st.get("__id__", sid.split("_|-")[1] if "_|-" in sid else sid) == state_id:
                    found.setdefault(minion, []).append(st.get("comment"))
    return found


def assert_replica_rebuilt_with(lab, method, table, members=None):
    """Reinitialise the last replica by name among `members` (default: every lab node;
    Patroni's create_replica_methods decide how) and check that `method` created it and
    that it has the leader's 100 rows of `table`."""
    leader = leader_name(lab)
    replica = sorted(n for n in members or [n.name for n in lab.nodes()] if n != leader)[-1]
    query(lab, lab.node(leader).address,
          f"CREATE TABLE IF NOT EXISTS {table} AS SELECT generate_series(1, 100) AS id")
    assert salt_json(lab, leader, "pgha_patroni.reinit", replica, timeout=600)[leader] == {
        replica: "reinitialized"}
    log = lab.node(replica).exec(["journalctl", "-u", "patroni", "--no-pager"], capture=True).stdout
    assert f"replica has been created using {method}" in log, log[-3000:]
    wait_for(lambda: query(lab, lab.node(replica).address, f"SELECT count(*) FROM {table}")[0][0] == 100,
             timeout=60, what=f"rows on {replica}")


PAUSED_ARCHIVE_COMMAND = "true  # pgha: WAL archiving paused after a restore"   # defaults.yaml


def _leader_of(lab, members):
    for name in members:
        if query(lab, lab.node(name).address, "SELECT NOT pg_is_in_recovery()")[0][0]:
            return name
    raise AssertionError(f"no primary among {members}")


def assert_point_in_time_restore(lab, members, backup_from):
    """Rows, a full backup (taken on `backup_from`), more rows, a timestamp, more rows:
    pgha.restore to the timestamp leaves exactly the rows before it on the primary and on
    every replica, all on a new timeline, with WAL archiving paused; highstate keeps it
    paused; pgha.config resumes it and `pgbackrest check` passes again."""
    leader = _leader_of(lab, members)
    address = lab.node(leader).address
    query(lab, address, "CREATE TABLE pitr (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())")
    query(lab, address, "INSERT INTO pitr (id) SELECT generate_series(1, 100)")
    salt_json(lab, backup_from, "pgha_pgbackrest.backup", "type=full", timeout=600)
    query(lab, address, "INSERT INTO pitr (id) SELECT generate_series(101, 200)")
    target = query(lab, address, "SELECT clock_timestamp()::text")[0][0]
    wait_for(lambda: query(lab, address, "SELECT clock_timestamp() > %s::timestamptz + interval '1 second'",
                           (target,))[0][0], what="a second after the target")
    query(lab, address, "INSERT INTO pitr (id) SELECT generate_series(201, 300)")
    query(lab, address, "SELECT pg_switch_wal()")
    assert "checked" in salt_json(lab, backup_from, "pgha_pgbackrest.check")[backup_from]
    timeline = salt_json(lab, leader, "pgha_patroni.status")[leader]["timeline"]

    started = time.monotonic()
    result = run_orch(lab, "pgha.restore", {"cluster": "lab", "confirm_restore": "lab",
                                            "restore": {"type": "time", "target": target}}, timeout=1800)
    assert_orch_ok(result)
    print(f"\nFIGURE restore_to_time_seconds={time.monotonic() - started:.1f}")
    new_leader = _leader_of(lab, members)

    def one_new_timeline():
        # Patroni refreshes a replica's timeline once per loop (loop_wait)
        listed = salt_json(lab, new_leader, "pgha_patroni.list")[new_leader]["members"]
        timelines = {m.get("timeline") for m in listed.values()}
        return sorted(listed) == sorted(members) and len(timelines) == 1 and timelines.pop() > timeline

    wait_for(one_new_timeline, timeout=30, interval=1, what="every member on the new timeline")
    for name in members:
        host = lab.node(name).address
        wait_for(lambda: query(lab, host, "SELECT count(*), max(id) FROM pitr") == [(200, 200)],
                 timeout=60, what=f"exactly the 200 rows before the target on {name}")
    new_address = lab.node(new_leader).address
    assert query(lab, new_address, "SHOW archive_command") == [(PAUSED_ARCHIVE_COMMAND,)]

    # highstate keeps archiving paused; pgha.config resumes it when asked
    ret = salt_json(lab, new_leader, "state.apply", "pgha")[new_leader]
    assert all(s["result"] for s in ret.values()), [s["comment"] for s in ret.values() if not s["result"]]
    assert query(lab, new_address, "SHOW archive_command") == [(PAUSED_ARCHIVE_COMMAND,)]
    assert_orch_ok(run_orch(lab, "pgha.config", {"cluster": "lab", "resume_archiving": True}))
    wait_for(lambda: query(lab, new_address, "SHOW archive_command") == [
        ("/usr/bin/pgbackrest --stanza=lab archive-push %p",)], what="archiving resumed")
    assert "checked" in salt_json(lab, backup_from, "pgha_pgbackrest.check")[backup_from]


def data_dir(lab):
    """The PostgreSQL data directory on the lab's nodes: Debian's, for the suite's major."""
    return f"/var/lib/postgresql/{SUITES[lab.info['suite']]['postgresql']}/main"


def assert_pin_refused(lab, minion, message_start):
    """A highstate on ``minion``, with test=True and for real, stops at its first state
    (pgha-repo-pins-gate: a pin older than what is installed) with a message that starts with
    ``message_start``, and nothing changes: no state reports changes, PostgreSQL does not
    restart."""
    started = postmaster_starts(lab)
    for test in (True, False):
        ret = salt_json(lab, minion, "state.apply", "pgha", *(["test=True"] if test else []), timeout=600)[minion]
        assert isinstance(ret, dict), ret
        gate = [st for sid, st in ret.items() if "_|-pgha-repo-pins-gate_|-" in sid]
        assert gate and gate[0]["result"] is False, sorted(ret)
        assert gate[0]["name"].startswith(message_start), gate
        changed = {sid: st["changes"] for sid, st in ret.items() if st.get("changes")}
        assert not changed, changed
    assert postmaster_starts(lab) == started


def preset_timings(name):
    """A failover preset's Patroni values as parameters/defaults.yaml has them (one source of
    truth: a retuned preset needs no test edited)."""
    defaults = Path(__file__).resolve().parents[2] / "pgha" / "parameters" / "defaults.yaml"
    return yaml.safe_load(defaults.read_text())["rto_profiles"][name]["patroni"]
