#!/usr/bin/env python3
"""Deploy benchmark: prints figures, asserts nothing (these machines are shared and noisy).

For each run: a fresh lab from bare nodes, `pgha.deploy` timed (packages come from the local
offline repository), then N no-op re-runs timed, then a planned switchover timed until the VIP
answers writable on the new leader. Prints every sample and the medians.

    test/bench_deploy.py --runs 3
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab_tests.helpers import connect, leader_name, run_orch, wait_for  # noqa: E402
from pghalab.lab import Lab  # noqa: E402

VIP = "10.213.0.100"


def timed_orch(lab, mods):
    started = time.monotonic()
    result = run_orch(lab, mods)
    seconds = time.monotonic() - started
    if result["rc"] != 0:
        raise SystemExit(f"{mods} failed:\n{result['stdout'][-3000:]}{result['stderr'][-2000:]}")
    return seconds


def switchover_seconds(lab):
    old = leader_name(lab)
    candidate = sorted(n.name for n in lab.nodes() if n.name != old)[0]
    started = time.monotonic()
    lab.master.cli("salt", old, "pgha_patroni.switchover", f"candidate={candidate}",
                   capture_output=True, timeout=120)

    def writable_on_new():
        conn = connect(lab, VIP, timeout=1)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_read_file('/etc/hostname'), pg_is_in_recovery()")
                host, recovery = cur.fetchone()
                return host.strip() == candidate and not recovery
        finally:
            conn.close()

    wait_for(writable_on_new, timeout=60, interval=0.05, what="writable VIP on new leader")
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh deploys (default 3)")
    parser.add_argument("--noop", type=int, default=3, help="no-op re-runs per deploy (default 3)")
    args = parser.parse_args()
    lab = Lab("pgha")
    samples = {"deploy_from_bare": [], "deploy_noop": [], "switchover_to_writable_vip": []}
    try:
        for run in range(args.runs):
            lab.up("typeb", log=lambda *_: None)
            samples["deploy_from_bare"].append(timed_orch(lab, "pgha.deploy"))
            for _ in range(args.noop):
                samples["deploy_noop"].append(timed_orch(lab, "pgha.deploy"))
            samples["switchover_to_writable_vip"].append(switchover_seconds(lab))
            print(f"run {run + 1}: " + ", ".join(f"{k}={v[-1]:.1f}s" for k, v in samples.items()),
                  flush=True)
    finally:
        lab.down(log=lambda *_: None)
    print("\nfigure                         median     min     max   samples")
    for name, values in samples.items():
        print(f"{name:30} {statistics.median(values):6.1f}s {min(values):6.1f}s "
              f"{max(values):6.1f}s   {len(values)}")


if __name__ == "__main__":
    main()
