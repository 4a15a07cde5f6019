"""Deploy benchmark: prints figures, asserts nothing (these machines are shared and noisy).

Each run brings up two fresh 3-node Type B labs and times:
  - deploy_from_bare: `salt-run state.orch pgha.deploy` on nodes without PostgreSQL, etcd or
    Patroni (they install from the lab's offline repository);
  - deploy_noop: the same command again, N times (nothing to change);
  - switchover_to_writable_vip: `pgha_patroni.switchover` until the VIP answers writes on the
    new leader, N times;
  - deploy_preinstalled: on the second lab, after the formula's own `pgha.packages` state
    installed the packages (untimed);
  - baseline: `salt <cluster> test.ping`, to compare runs made on machines of different load.
Prints every sample, then median/min/max and each median as a multiple of the baseline.

    PYTHONPATH=test python -m pghalab.bench.deploy --runs 2 --repeat 3
"""
import argparse
import time

from ..cluster import leader_name, run_orch, serves_writes_as, wait_for
from ..figures import print_run, print_table
from ..lab import Lab

VIP = "10.213.0.100"
CLUSTER = "pgha:cluster_name:lab"


def timed(func, *args):
    started = time.monotonic()
    func(*args)
    return time.monotonic() - started


def orch(lab, mods):
    result = run_orch(lab, mods)
    if result["rc"] != 0:
        raise SystemExit(f"{mods} failed:\n{result['stdout'][-3000:]}{result['stderr'][-2000:]}")


def salt(lab, *args):
    res = lab.master.cli("salt", *args, capture_output=True, timeout=600)
    if res.returncode != 0:
        raise SystemExit(f"salt {' '.join(args)} failed:\n{res.stdout[-3000:]}")


def switchover(lab):
    old = leader_name(lab)
    candidate = sorted(n.name for n in lab.nodes() if n.name != old)[0]
    salt(lab, old, "pgha_patroni.switchover", f"candidate={candidate}")

    wait_for(lambda: serves_writes_as(lab, VIP, candidate), timeout=60, interval=0.05, what="writable VIP on new leader")


def settle(lab):
    salt(lab, "-I", "pgha:roles:postgresql", "pgha_patroni.wait_healthy", "role=member", "timeout=120")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="fresh labs (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="no-op deploys and switchovers per lab")
    args = parser.parse_args()
    lab = Lab("pgha")
    samples = {k: [] for k in ("baseline", "deploy_from_bare", "deploy_noop",
                               "switchover_to_writable_vip", "deploy_preinstalled")}
    try:
        for run in range(args.runs):
            lab.up("typeb", log=lambda *_: None)
            samples["baseline"].append(timed(salt, lab, "-I", CLUSTER, "test.ping"))
            samples["deploy_from_bare"].append(timed(orch, lab, "pgha.deploy"))
            for _ in range(args.repeat):
                samples["baseline"].append(timed(salt, lab, "-I", CLUSTER, "test.ping"))
                samples["deploy_noop"].append(timed(orch, lab, "pgha.deploy"))
                samples["switchover_to_writable_vip"].append(timed(switchover, lab))
                settle(lab)
            lab.up("typeb", log=lambda *_: None)
            salt(lab, "-I", CLUSTER, "saltutil.sync_all")
            salt(lab, "-I", CLUSTER, "state.sls", "pgha.packages")
            samples["deploy_preinstalled"].append(timed(orch, lab, "pgha.deploy"))
            print_run(run + 1, samples, digits=1)
    finally:
        lab.down(log=lambda *_: None)
    print_table(samples, digits=1)


if __name__ == "__main__":
    main()
