"""PgBouncer benchmark (issue 21): a planned switchover seen by a client that writes through
PgBouncer on the VIP's port 6432 (Type B), with and without pgbouncer:switchover_pause, in
PgBouncer's session and transaction pool modes. Prints figures, asserts nothing (these
machines are shared and noisy).

One 3-node Type B lab (the typeb scenario: PgBouncer on every node). For each variant, N
times: a writer commits through VIP:6432 (one row per commit, reconnecting on error) while
`salt-run state.orch pgha.switchover` runs. Figures per variant: the longest stretch without
an acknowledged commit (write unavailability), the switchover's wall time, the writer's errors
and reconnects, and acknowledged commits lost (must be 0); then the kinds of errors seen.
Baseline: `salt <cluster> test.ping`.

    PYTHONPATH=test python -m pghalab.bench.pgbouncer --repeat 3
"""
import argparse
import time

from ..cluster import leader_name, pillar_changed, run_orch, salt_json
from ..figures import print_run, print_table
from ..lab import Lab
from ..writer import Writer
from .ops import ok, settle

VIP = "10.213.0.100"
PORT = 6432
CLUSTER = "pgha:cluster_name:lab"
# name: (pool_mode, switchover_pause). The _pause variants were measured once (session 9,
# docs/measurements.md): afterwards new clients through 6432 got no answer, in both pool modes,
# so pgbouncer:switchover_pause is refused by the validator and they are not run by default.
VARIANTS = {
    "session": ("session", False),
    "transaction": ("transaction", False),
}


def measured(lab):
    """(write unavailability s, switchover s, errors, reconnects, lost, error kinds) of one
    switchover with a writer through VIP:6432."""
    settle(lab)
    writer = Writer(lab, VIP, port=PORT).start()
    time.sleep(1)
    started = time.monotonic()
    ok(run_orch(lab, "pgha.switchover"), "pgha.switchover")
    seconds = time.monotonic() - started
    time.sleep(2)
    writer.stop()
    settle(lab)
    lost = len(writer.missing(lab.node(leader_name(lab)).address))
    kinds = {message.splitlines()[0][:80] for _, message in writer.errors}
    return writer.longest_gap(), seconds, len(writer.errors), writer.reconnects, lost, kinds


def variant(pool_mode, pause):
    def change(pillar):
        pgb = pillar["pgha"].setdefault("pgbouncer", {})
        pgb.update(pool_mode=pool_mode, switchover_pause=pause)
    return change


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="switchovers per variant (default 3)")
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS),
                        help="only these variants (default all)")
    args = parser.parse_args()
    lab = Lab("pgha")
    samples, lost, kinds = {"baseline": []}, {}, {}
    try:
        lab.up("typeb", log=lambda *_: None)
        ok(run_orch(lab, "pgha.deploy"), "pgha.deploy")
        for name in args.variant or VARIANTS:
            pool_mode, pause = VARIANTS[name]
            with pillar_changed(lab, variant(pool_mode, pause)):
                # pool_mode reaches PgBouncer by a reload (pgha.pgbouncer's service state)
                applied = salt_json(lab, "I@pgha:roles:postgresql", "state.sls", "pgha.pgbouncer",
                                    tgt_type="compound")
                bad = {m: r for m, r in applied.items()
                       if not isinstance(r, dict) or any(s.get("result") is not True for s in r.values())}
                if bad:
                    raise SystemExit(f"pgha.pgbouncer ({name}) failed: {bad}")
                for run in range(args.repeat):
                    started = time.monotonic()
                    lab.master.cli("salt", "-I", CLUSTER, "test.ping", capture_output=True)
                    samples["baseline"].append(time.monotonic() - started)
                    gap, seconds, errors, reconnects, missing, seen = measured(lab)
                    samples.setdefault(f"{name}_write_unavailable", []).append(gap)
                    samples.setdefault(f"{name}_switchover_seconds", []).append(seconds)
                    samples.setdefault(f"{name}_errors", []).append(errors)
                    samples.setdefault(f"{name}_reconnects", []).append(reconnects)
                    lost[name] = lost.get(name, 0) + missing
                    kinds.setdefault(name, set()).update(seen)
                    print_run(run + 1, samples, digits=2)
    finally:
        lab.down(log=lambda *_: None)
    print_table(samples, digits=2)
    print("\nacknowledged writes lost: " + ", ".join(f"{k}={v}" for k, v in lost.items()))
    for name, seen in kinds.items():
        print(f"errors seen ({name}): " + (" | ".join(sorted(seen)) or "none"))


if __name__ == "__main__":
    main()
