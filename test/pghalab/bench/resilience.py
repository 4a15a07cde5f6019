"""Resilience benchmark: write unavailability (RTO) and acknowledged commits lost under faults,
per failover preset, run in pieces. Prints figures, asserts nothing (these machines are shared
and noisy).

Cells: (type, preset, fault, replication, DCS API). Every run appends one JSON line to the
results file (--results, default test/lab-results/resilience.jsonl) as soon as it ends, so an
interrupted benchmark loses at most the run it was in. A new invocation counts the runs each
cell already has and runs only the missing ones (--runs N per cell): a full table can be built
one preset (`--presets norm`) or one cell (`--presets norm --faults crash`) at a time.
`--summarise` reads the file and prints the tables (nothing runs).

For each preset with runs missing: a fresh lab (Type B `typeb`; Type A `typea`), pillar
`patroni:rto_profile` (and `patroni:dcs_api` with --dcs-api) set before `pgha.deploy` (with
--sync, Type B: synchronous_mode_strict switched on afterwards by a highstate of the database
nodes, as test_resilience.py does). Then each fault's missing runs (pghalab.faults.run_fault):
the suite's writer (2 s deadline) and two application writers (no client-side timeout: libpq's
defaults, and the settings docs/operations.md recommends) commit through the entry point, and
probes write directly on every database node; the fault is injected into the leader, held
until writes resume, undone, and once the cluster is healthy again the checker reads the leader
and every replica. Each line holds the run's summary: RTO, first ack, lost (each writer),
split brain and its window, whether the faulted node led etcd, and the failover's stages (key
expiry, promotion, VIP move, client).

--load MINUTES (false failovers): after the faults, `stress-ng --cpu 2 --io 1 --vm 1
--vm-bytes 256M` in every node for MINUTES while the suite's writer runs; one line with the
leader changes counted (the leader's timeline before and after, and the leader sampled every
second).

    PYTHONPATH=test python -m pghalab.bench.resilience --runs 5 --presets fast,norm,safe \\
        --faults crash,freeze,partition --type b
    PYTHONPATH=test python -m pghalab.bench.resilience --summarise
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ..checks import timeline_of
from ..cluster import pillar_changed, query, run_orch, salt_json
from ..faults import FAULTS, TYPE_A_FAULTS, TYPE_B_FAULTS, patroni_journal, run_fault
from ..figures import LOAD_KEYS, cell_of, count_runs, format_summary, load_rows, summarise
from ..health import Topology, leader, wait_healthy
from ..lab import Lab
from ..writer import Writer

PRESETS = ("fast", "norm", "safe")
TIMING_KEYS = ("ttl", "loop_wait", "retry_timeout", "primary_start_timeout")
DEFAULT_FAULTS = "crash,kill-postgres,kill-patroni,freeze,partition"
DEFAULT_RESULTS = Path(__file__).resolve().parents[2] / "lab-results" / "resilience.jsonl"
DEFAULTS = Path(__file__).resolve().parents[3] / "pgha" / "parameters" / "defaults.yaml"
STRESS = ["stress-ng", "--cpu", "2", "--io", "1", "--vm", "1", "--vm-bytes", "256M"]


def scenario_of(args):
    return "typea" if args.type == "a" else "typeb"


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", "--repeat", dest="runs", type=int, default=5,
                        help="runs each cell must have (default 5); cells that have them are skipped")
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated: fast,norm,safe")
    parser.add_argument("--faults", default=DEFAULT_FAULTS,
                        help=f"comma-separated, of: {', '.join(FAULTS)} (default {DEFAULT_FAULTS}); '' for none")
    parser.add_argument("--type", choices=("a", "b"), default="b", help="Type A (HAProxy) or B (vip-manager)")
    parser.add_argument("--sync", action="store_true", help="Type B with synchronous_mode_strict")
    parser.add_argument("--dcs-api", choices=("auto", "etcd", "etcd3"), default="auto",
                        help="Patroni's DCS API (pillar patroni:dcs_api; Type A's auto is etcd3, Type B's etcd)")
    parser.add_argument("--load", type=float, default=0, metavar="MINUTES",
                        help="then MINUTES under stress-ng in every node, counting leader changes")
    parser.add_argument("--timings", default="", metavar="KEY=SECONDS,...",
                        help="a candidate's Patroni timings over the preset's (ttl, loop_wait, retry_timeout, "
                             "primary_start_timeout), e.g. ttl=20,loop_wait=10,retry_timeout=5: cells of their own")
    parser.add_argument("--etcd-leader", choices=("with", "apart"), default=None,
                        help="before each leader fault, move etcd's leadership onto the Patroni leader's node "
                             "(with) or off it (apart): cells of their own; default: where it happens to be")
    parser.add_argument("--phase", choices=("random", "fixed"), default="random",
                        help="inject each fault after a random part of loop_wait (default; a real fault falls "
                             "anywhere in Patroni's loop) or right after the warm-up (runs before 2026-12-07: their "
                             "phase stayed nearly the same from run to run)")
    parser.add_argument("--results", type=Path, default=Path(os.environ.get("RESILIENCE_RESULTS") or DEFAULT_RESULTS),
                        help=f"JSON lines, appended (default {DEFAULT_RESULTS})")
    parser.add_argument("--summarise", "--summarize", action="store_true", help="print the tables of --results only")
    args = parser.parse_args(argv)
    args.presets = [p for p in args.presets.split(",") if p]
    args.timings, bad_timings = parse_timings(args.timings)
    args.faults = [f for f in args.faults.split(",") if f]
    allowed = TYPE_A_FAULTS if args.type == "a" else TYPE_B_FAULTS
    bad = bad_timings + [p for p in args.presets if p not in PRESETS] + [
        f + ("" if f in FAULTS else " (no such fault)") for f in args.faults if f not in allowed]
    if args.sync and args.type == "a":
        bad.append("--sync (Type B only; Type A's lab runs synchronous_mode already)")
    if args.dcs_api == "etcd3" and args.type == "b":
        # vip-manager 1.x (Debian's) reads etcd's v2 API only: with etcd3 the VIP never comes
        bad.append("--dcs-api etcd3 with --type b (vip-manager 1.x reads only etcd's v2 API: use --type a)")
    if bad or args.runs < 1 or args.load < 0:
        parser.error(f"unknown or unusable: {', '.join(bad) or '--runs/--load'}")
    return args


def parse_timings(text):
    """--timings: ({key: seconds}, problems). Patroni's rules are the validator's, at deploy."""
    found, bad = {}, []
    for item in (i.strip() for i in text.split(",") if i.strip()):
        key, _, value = item.partition("=")
        if key not in TIMING_KEYS or not value.isdigit():
            bad.append(f"--timings {item} (one of {', '.join(TIMING_KEYS)}, in whole seconds)")
        else:
            found[key] = int(value)
    return found, bad


def timings_label(timings):
    """Timings as cells name them: `ttl=25,loop_wait=10,retry_timeout=7`."""
    return ",".join(f"{k}={timings[k]}" for k in TIMING_KEYS if k in timings)


def preset_patroni(preset):
    """The formula's preset's Patroni values (parameters/defaults.yaml rto_profiles)."""
    return yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))["rto_profiles"][preset]["patroni"]


def effective_timings(preset, timings):
    """The timings a run deploys: the preset's ttl, loop_wait and retry_timeout, with --timings
    over them. Every cell records them, so a retuned preset's runs never join the cells of its
    earlier values."""
    found = {k: preset_patroni(preset)[k] for k in ("ttl", "loop_wait", "retry_timeout")}
    found.update(timings)
    return found


def dcs_api_of(args):
    if args.dcs_api != "auto":
        return args.dcs_api
    return "etcd3" if args.type == "a" else "etcd"


def preset_is_synchronous(preset):
    """Whether the formula's preset switches synchronous_mode on (parameters/defaults.yaml)."""
    return bool(preset_patroni(preset).get("synchronous_mode"))


def replication(args, preset):
    """async | sync (the preset's or Type A's synchronous_mode) | sync-strict (--sync)."""
    if args.sync:
        return "sync-strict"
    return "sync" if args.type == "a" or preset_is_synchronous(preset) else "async"


def cell(args, preset, fault):
    """The cell's fields of a sample (figures.CELL_KEYS)."""
    found = {"type": args.type, "preset": preset, "fault": fault,
             "replication": replication(args, preset), "dcs_api": dcs_api_of(args)}
    found["timings"] = timings_label(effective_timings(preset, args.timings))
    if args.etcd_leader:
        found["etcd_placement"] = args.etcd_leader
    if args.phase == "random":
        found["phase"] = "random"
    return found


def read_results(path):
    """The samples of the results file ([] when there is none); a torn last line is skipped."""
    samples = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                samples.append(json.loads(line))
            except ValueError:
                continue
    return samples


def append(path, sample):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(sample, default=str, sort_keys=True) + "\n")


def missing_runs(args, preset, done):
    """{fault: runs still missing} for `preset`, from `done` (figures.count_runs)."""
    missing = {}
    for fault in args.faults:
        key = cell_of(cell(args, preset, fault))
        if done.get(key, 0) < args.runs:
            missing[fault] = args.runs - done.get(key, 0)
    return missing


def load_done(args, preset, samples):
    found = cell(args, preset, "")
    key = (args.type, preset, found["replication"], found["dcs_api"], found["timings"])
    return any(s.get("kind") == "load" and not s.get("error")
               and tuple(s.get(k) for k in LOAD_KEYS) == key for s in samples)


def bench_preset(args, preset, missing, with_load):
    lab = Lab("pgha")

    def use_preset(pillar):
        pillar["pgha"]["patroni"]["rto_profile"] = preset
        pillar["pgha"]["patroni"].update(args.timings)
        if args.dcs_api != "auto":
            pillar["pgha"]["patroni"]["dcs_api"] = args.dcs_api
        if args.etcd_leader:
            # the benchmark places etcd's leader itself: pgha's schedule must not move it back
            pillar["pgha"].setdefault("etcd", {})["leader_apart"] = False

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
                run_faults(args, lab, preset, missing)
                if with_load:
                    run_load(args, lab, preset)
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


def run_faults(args, lab, preset, missing):
    """Each fault's missing runs, one cell after the other, each appended as it ends."""
    for fault, count in missing.items():
        for run_no in range(1, count + 1):
            sample = {"kind": "fault", **cell(args, preset, fault), "at": datetime.datetime.now().isoformat()}
            try:
                run = run_fault(lab, fault, log=lambda *_: None, etcd_placement=args.etcd_leader,
                                random_phase=args.phase == "random")
                sample.update(run.summary())
                print(f"{preset} {fault} run {run_no}/{count}: {run.figure()}", flush=True)
                if sample["split_brain"]:   # why the old leader stayed writable: its Patroni's view
                    print(f"split brain {sample['split_brain_old_after']}; Patroni on {run.targets[0]}:\n"
                          + patroni_journal(lab, run.targets[0], run.wall_fault, "short-precise"), flush=True)
            except Exception as exc:  # pylint: disable=broad-except ; a failed run is a figure too
                sample["error"] = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                print(f"{preset} {fault} run {run_no}/{count}: FAILED: {sample['error']}", flush=True)
            append(args.results, sample)
            if sample.get("error"):
                try:
                    wait_healthy(lab, Topology.of(lab))
                except Exception as exc:  # pylint: disable=broad-except
                    print(f"{preset}: the cluster did not recover ({exc}); skipping the rest of {preset}")
                    return


def _leader_timeline(lab, topo):
    lead = leader(lab, topo)
    return lead, timeline_of(query(lab, topo.db[lead], "SELECT pg_walfile_name(pg_current_wal_lsn())")[0][0])


def run_load(args, lab, preset):
    """args.load minutes of stress-ng in every node while the suite's writer runs; one sample
    with the leader changes (new timelines of the leader, and leaders seen sampling every s)."""
    topo = Topology.of(lab)
    sample = {"kind": "load", **cell(args, preset, ""), "minutes": args.load, "load": " ".join(STRESS),
              "at": datetime.datetime.now().isoformat()}
    seconds = int(args.load * 60)
    stressors = []
    try:
        lead, timeline = _leader_timeline(lab, topo)
        leaders = [lead]
        with Writer(lab, topo.vip, topo.port) as writer:
            stressors = [lab.node(name).popen(STRESS + ["--timeout", f"{seconds}s"], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL) for name in topo.db]
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    now = leader(lab, topo)
                    if now != leaders[-1]:
                        leaders.append(now)
                except Exception:  # pylint: disable=broad-except ; no primary, or two, at this moment
                    pass
                time.sleep(1)
        for proc in stressors:
            proc.wait(timeout=60)
        lead_after = wait_healthy(lab, topo)
        _, timeline_after = _leader_timeline(lab, topo)
        sample.update(leader_changes=max(timeline_after - timeline, len(leaders) - 1),
                      leaders=leaders + ([lead_after] if lead_after != leaders[-1] else []),
                      timelines=[timeline, timeline_after], writes=len(writer.acked),
                      write_errors=len(writer.errors), longest_gap=writer.longest_gap())
        print(f"{preset} load {args.load} min: leader changes {sample['leader_changes']}, "
              f"longest write gap {sample['longest_gap']:.1f} s", flush=True)
    except Exception as exc:  # pylint: disable=broad-except ; a failed run is a figure too
        sample["error"] = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        print(f"{preset} load: FAILED: {sample['error']}", flush=True)
    finally:
        for proc in stressors:
            if proc.poll() is None:
                proc.kill()
    append(args.results, sample)


def print_summary(path):
    samples = read_results(path)
    print(f"{path}: {len(samples)} samples\n")
    print(format_summary(summarise(samples), load_rows(samples)))


def main(argv=None):
    args = parse(argv)
    if args.summarise:
        print_summary(args.results)
        return
    command = "python -m pghalab.bench.resilience " + " ".join(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    print(f"{command}\n{datetime.date.today()}, scenario {scenario_of(args)}, {os.cpu_count()} cores, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; results in {args.results}", flush=True)
    for preset in args.presets:
        samples = read_results(args.results)
        missing = missing_runs(args, preset, count_runs(samples))
        with_load = bool(args.load) and not load_done(args, preset, samples)
        if not missing and not with_load:
            print(f"{preset}: every cell has {args.runs} runs; skipped", flush=True)
            continue
        try:
            bench_preset(args, preset, missing, with_load)
        except (Exception, SystemExit) as exc:  # pylint: disable=broad-except ; the other presets still run
            print(f"{preset}: {exc}", flush=True)
    print(f"\n{command}  ({(time.monotonic() - started) / 60:.0f} min)\n")
    print_summary(args.results)


if __name__ == "__main__":
    main()
