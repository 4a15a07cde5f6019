"""Day-2 benchmark: write unavailability during planned operations. Prints figures, asserts
nothing (these machines are shared and noisy).

One 3-node Type B lab; a writer commits through the VIP (one row per commit, reconnecting on
error) while each operation runs, N times each:
  - switchover_orch: `salt-run state.orch pgha.switchover` (best candidate);
  - switchover_module: `salt LEADER pgha_patroni.switchover` (no orchestration around it);
  - rolling_restart: `salt-run state.orch pgha.restart pillar='{"pending_only": false}'`
    (every member restarts: replicas, then the leader through a switchover).
For each: the longest stretch without an acknowledged commit (write unavailability), the
operation's wall time, and acknowledged commits lost (must be 0). Baseline: `salt <cluster>
test.ping`. Medians, min, max, and each median as a multiple of the baseline.

    PYTHONPATH=test python -m pghalab.bench.ops --repeat 3
"""
import argparse
import time

from ..cluster import leader_name, run_orch, salt_json
from ..figures import print_run, print_table
from ..lab import Lab
from ..writer import Writer

VIP = "10.213.0.100"
CLUSTER = "pgha:cluster_name:lab"


def settle(lab):
    ret = salt_json(lab, "I@pgha:roles:postgresql", "pgha_patroni.wait_healthy", "role=member",
                    "timeout=120", tgt_type="compound")
    if not all(isinstance(v, str) for v in ret.values()):
        raise SystemExit(f"cluster not healthy: {ret}")


def ok(result, what):
    if result["rc"] != 0:
        raise SystemExit(f"{what} failed:\n{result['stdout'][-3000:]}{result['stderr'][-2000:]}")


def measured(lab, action):
    """(write unavailability s, operation s, acknowledged writes lost) of one operation."""
    settle(lab)
    writer = Writer(lab, VIP).start()
    time.sleep(1)
    started = time.monotonic()
    action()
    seconds = time.monotonic() - started
    time.sleep(1)
    writer.stop()
    settle(lab)
    lost = len(writer.missing(lab.node(leader_name(lab)).address))
    return writer.longest_gap(), seconds, lost


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each operation (default 3)")
    args = parser.parse_args()
    lab = Lab("pgha")
    ops = {
        "switchover_orch": lambda: ok(run_orch(lab, "pgha.switchover"), "pgha.switchover"),
        "switchover_module": lambda: salt_json(lab, leader_name(lab), "pgha_patroni.switchover"),
        "rolling_restart": lambda: ok(run_orch(lab, "pgha.restart", pillar={"pending_only": False}),
                                      "pgha.restart"),
    }
    samples = {"baseline": []}
    lost = {}
    try:
        lab.up("typeb", log=lambda *_: None)
        ok(run_orch(lab, "pgha.deploy"), "pgha.deploy")
        for run in range(args.repeat):
            for name, action in ops.items():
                started = time.monotonic()
                lab.master.cli("salt", "-I", CLUSTER, "test.ping", capture_output=True)
                samples["baseline"].append(time.monotonic() - started)
                gap, seconds, missing = measured(lab, action)
                samples.setdefault(f"{name}_write_unavailable", []).append(gap)
                samples.setdefault(f"{name}_seconds", []).append(seconds)
                lost[name] = lost.get(name, 0) + missing
            print_run(run + 1, samples, digits=2)
    finally:
        lab.down(log=lambda *_: None)
    print_table(samples, digits=2)
    print("\nacknowledged writes lost: " + ", ".join(f"{k}={v}" for k, v in lost.items()))


if __name__ == "__main__":
    main()
