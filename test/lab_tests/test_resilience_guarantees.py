"""The resilience guarantee set, in make test: on the default preset's Type B cluster (scenario
typeb, after its other modules), synchronous_mode_strict switched on as a site does it (pillar,
then a highstate of the database nodes), then a crash, a freeze and a partition of the leader.
No acknowledged commit may be lost, by the suite's writer or by either application writer (no
client-side timeout: libpq's defaults, and the settings docs/operations.md recommends), and no
split brain may occur; no time is asserted. test_resilience.py (scenario typeb-fast, `make
test-lab SCENARIO=typeb-fast`) runs the same tests on the `fast` preset among every other
fault. The cluster stays in strict mode: the module runs last on its lab.
"""
import pytest

from pghalab.cluster import pillar_changed, salt_json
from pghalab.faults import assert_fault_handled, run_fault, zombie_writes
from pghalab.health import Topology, dcs_config, sync_standby_ready, wait_healthy

SCENARIO = "typeb"
PG = "I@pgha:roles:postgresql"


def _run(lab, fault, prefix=""):
    run = run_fault(lab, fault)
    print("\n" + run.figure(prefix=prefix))
    return run


def _highstate_database_nodes(lab):
    ret = salt_json(lab, PG, "state.highstate", tgt_type="compound", timeout=600)
    failed = {m: ([s.get("comment") for s in states.values() if s.get("result") is not True]
                  if isinstance(states, dict) else states) for m, states in ret.items()}
    assert ret and all(not f for f in failed.values()), failed


def _strict_mode(pillar):
    pillar["pgha"]["patroni"].update(synchronous_mode=True, synchronous_mode_strict=True)


@pytest.fixture(scope="module")
def strict(lab, deployed):
    """synchronous_mode_strict on for the rest of the module (failsafe_mode back off: pillar's
    default, patched by the same highstate)."""
    with pillar_changed(lab, _strict_mode):
        _highstate_database_nodes(lab)
        yield


def _run_strict(lab, fault):
    """Under synchronous_mode_strict a commit is acknowledged only once the synchronous
    standby has it, and Patroni promotes only that standby: no fault may lose one."""
    run = _run(lab, fault, prefix="sync_strict ")
    assert run.dcs.get("synchronous_mode") is True and run.dcs.get("synchronous_mode_strict") is True, run.dcs
    assert run.allowed_lost() == 0
    # the guarantee covers clients without a timeout too (assert_fault_handled counts them)
    assert sorted(run.app_checks) == ["default", "documented"], run.app_checks
    return run


def test_switch_on_synchronous_mode_strict(lab, strict):
    lead = wait_healthy(lab, Topology.of(lab))
    dcs = dcs_config(lab, lead)
    assert dcs.get("synchronous_mode") is True and dcs.get("synchronous_mode_strict") is True, dcs
    assert not dcs.get("failsafe_mode"), dcs
    sync_standby_ready(lab, lead)


def test_sync_strict_crash_of_the_primary(lab, strict):
    run = _run_strict(lab, "crash")
    assert_fault_handled(run)
    assert run.leader_after != run.targets[0]


def test_sync_strict_freeze_of_the_primary(lab, strict):
    """Thawed after the failover, the old primary's commits wait for a standby that now follows
    the new leader: it acknowledges nothing until Patroni demotes it."""
    run = _run_strict(lab, "freeze")
    assert_fault_handled(run)
    assert run.leader_after != run.targets[0]
    assert not zombie_writes(run), f"the thawed old primary acknowledged writes: {zombie_writes(run)[:5]}"


def test_sync_strict_partition_of_the_primary_then_heal(lab, strict):
    """Cut off from its synchronous standby, the old primary acknowledges nothing to a client on
    its own side of the partition; after the heal it rejoins through pg_rewind."""
    run = _run_strict(lab, "partition")
    assert_fault_handled(run)
    target = run.targets[0]
    assert run.leader_after != target
    assert not run.inside.other, f"the probe inside {target} did not run: {run.inside.other[:5]}"
    assert [s for s in run.inside.successes if s.end < run.t_fault], f"the probe inside {target} never wrote"
    assert not run.inside_after_fault(), (
        f"{target} acknowledged writes while cut off from its synchronous standby: {run.inside_after_fault()[:5]}")
    if run.dcs.get("postgresql", {}).get("use_pg_rewind"):
        assert run.rewound, f"{target} rejoined without pg_rewind"
