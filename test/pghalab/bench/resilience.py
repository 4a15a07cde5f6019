"""Resilience benchmark: write unavailability (RTO) and acknowledged commits lost under faults,
per failover preset. Prints figures, asserts nothing (these machines are shared and noisy).

For each preset: a fresh lab (Type B `typeb`; Type A `typea`), pillar `patroni:rto_profile`
set to the preset before `pgha.deploy` (with --sync, Type B: synchronous_mode_strict switched
on afterwards by a highstate of the database nodes, as test_resilience.py does). Then, N times
in turn, each fault (pghalab.faults.run_fault): a writer commits through the
entry point (the VIP; Type A: the VIP's port 5000) and probes write directly on every
database node's 5432; the fault is injected into the leader (the VIP's balancer for
balancer-crash), held until writes through the entry point resume, undone (boot, thaw, heal),
and once the cluster is healthy again the checker reads the leader and every replica.

Every sample is printed as it comes (a FIGURE line), then a table per preset and fault: median
and max RTO (the longest gap between acknowledged commits from the fault to the end of the
run), median seconds from the fault to the first acknowledged commit, acknowledged commits
lost (total over the runs) and the runs with split brain (two nodes acknowledging writes
interleaved in time).

    PYTHONPATH=test python -m pghalab.bench.resilience --repeat 3 --presets fast,norm,safe \\
        --faults crash,kill-postgres,kill-patroni,freeze,partition --type b
"""
import argparse
import datetime
import os
import sys
import time

from ..cluster import pillar_changed, run_orch, salt_json
from ..faults import FAULTS, TYPE_A_FAULTS, TYPE_B_FAULTS, run_fault
from ..figures import format_table, summary_rows
from ..health import Topology, wait_healthy
from ..lab import Lab

PRESETS = ("fast", "norm", "safe")
DEFAULT_FAULTS = "crash,kill-postgres,kill-patroni,freeze,partition"


def scenario_of(args):
    return "typea" if args.type == "a" else "typeb"


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fault per preset (default 3)")
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated: fast,norm,safe")
    parser.add_argument("--faults", default=DEFAULT_FAULTS,
                        help=f"comma-separated, of: {', '.join(FAULTS)} (default {DEFAULT_FAULTS})")
    parser.add_argument("--type", choices=("a", "b"), default="b", help="Type A (HAProxy) or B (vip-manager)")
    parser.add_argument("--sync", action="store_true", help="Type B with synchronous_mode_strict")
    args = parser.parse_args(argv)
    args.presets = [p for p in args.presets.split(",") if p]
    args.faults = [f for f in args.faults.split(",") if f]
    allowed = TYPE_A_FAULTS if args.type == "a" else TYPE_B_FAULTS
    bad = [p for p in args.presets if p not in PRESETS] + [
        f + ("" if f in FAULTS else " (no such fault)") for f in args.faults if f not in allowed]
    if args.sync and args.type == "a":
        bad.append("--sync (Type B only; Type A's lab runs synchronous_mode already)")
    if bad or args.repeat < 1:
        parser.error(f"unknown or unusable: {', '.join(bad) or '--repeat'}")
    return args


def bench_preset(args, preset, samples):
    lab = Lab("pgha")

    def use_preset(pillar):
        pillar["pgha"]["patroni"]["rto_profile"] = preset

    def strict(pillar):
        if args.sync:
            pillar["pgha"]["patroni"].update(synchronous_mode=True, synchronous_mode_strict=True)

    try:
        lab.up(scenario_of(args), log=lambda *_: None)
        with pillar_changed(lab, use_preset):
            ok(run_orch(lab, "pgha.deploy"), f"pgha.deploy ({preset})")
            with pillar_changed(lab, strict):
                if args.sync:
                    highstate(lab, "I@pgha:roles:postgresql")
                run_faults(args, lab, preset, samples)
    finally:
        lab.down(log=lambda *_: None)


def highstate(lab, target):
    ret = salt_json(lab, target, "state.highstate", tgt_type="compound", timeout=600)
    failed = {m: ([s.get("comment") for s in states.values() if s.get("result") is not True]
                  if isinstance(states, dict) else states) for m, states in ret.items()}
    if not ret or any(failed.values()):
        raise SystemExit(f"highstate of {target} failed: {failed}")


def ok(result, what):
    if result["rc"] != 0:
        raise SystemExit(f"{what} failed:\n{result['stdout'][-3000:]}{result['stderr'][-2000:]}")


def run_faults(args, lab, preset, samples):
    for run_no in range(1, args.repeat + 1):
        for fault in args.faults:
            sample = {"preset": preset, "fault": fault, "run": run_no}
            try:
                run = run_fault(lab, fault, log=lambda *_: None)
                sample.update(run.summary())
                print(f"{preset} run {run_no}: {run.figure()}", flush=True)
            except Exception as exc:  # pylint: disable=broad-except ; a failed run is a figure too
                sample["error"] = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                print(f"{preset} run {run_no}: fault={fault} FAILED: {sample['error']}", flush=True)
            samples.append(sample)
            if sample.get("error"):
                try:
                    wait_healthy(lab, Topology.of(lab))
                except Exception as exc:  # pylint: disable=broad-except
                    print(f"{preset}: the cluster did not recover ({exc}); skipping the rest of {preset}")
                    return


def main(argv=None):
    args = parse(argv)
    command = "python -m pghalab.bench.resilience " + " ".join(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    print(f"{command}\n{datetime.date.today()}, scenario {scenario_of(args)}, {os.cpu_count()} cores, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    samples = []
    for preset in args.presets:
        try:
            bench_preset(args, preset, samples)
        except (Exception, SystemExit) as exc:  # pylint: disable=broad-except ; the other presets still run
            print(f"{preset}: {exc}", flush=True)
    print(f"\n{command}  ({(time.monotonic() - started) / 60:.0f} min)\n")
    print(format_table(summary_rows(samples)))


if __name__ == "__main__":
    main()
