"""Standby cluster benchmark (issue 20): the steady lag of the standby cluster "dr" behind its
main cluster "lab" under a pgbench write load, the time from `pgha.promote` to the first
commit through dr's VIP once the main site is lost, and the rows lost against the lag
measured at that moment. Prints figures, asserts nothing (these machines are shared and noisy).

One lab of scenario `standby` (Debian 13 unless PGHA_LAB_SUITE says otherwise): both clusters
deployed, then `--runs` pgbench runs of `--seconds` each through lab's VIP from dr2 (a dr
node: the load generator is not a lab member), sampling dr's replay lag every 0.5 s
(lab's pg_current_wal_lsn() against dr's pg_last_wal_replay_lsn()); then one promotion: a
writer on lab's VIP, every lab node loses power, `pgha.promote`.

    PYTHONPATH=test python -m pghalab.bench.standby --runs 3 --seconds 20
"""
import argparse
import statistics
import threading
import time

from .. import standby as sb
from ..cluster import superuser
from ..image import SUITES
from ..lab import Lab
from ..writer import Writer


def _pgbench(lab, node, *args_):
    version = SUITES[lab.info["suite"]]["postgresql"]
    return lab.node(node).exec([f"/usr/lib/postgresql/{version}/bin/pgbench", "-h", sb.MAIN_VIP, "-U", "postgres",
                                *args_, "postgres"], capture=True, check=False)


def pgbench(lab, node, seconds, clients):
    return _pgbench(lab, node, "-n", "-T", str(seconds), "-c", str(clients), "-j", "2")


def lag_under_load(lab, seconds, clients):
    """(samples of dr's lag in bytes, pgbench's tps line) during one pgbench run."""
    samples, done = [], threading.Event()
    leader = sb.standby_leader(lab)

    def sample():
        while not done.is_set():
            try:
                samples.append(sb.lag_bytes(lab, sb.MAIN_VIP, leader))
            except Exception:  # pylint: disable=broad-except ; a busy moment: the next sample
                pass
            time.sleep(0.5)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    res = pgbench(lab, "dr2", seconds, clients)
    done.set()
    thread.join(5)
    tps = next((line.strip() for line in res.stdout.splitlines() if line.strip().startswith("tps =")), res.stderr)
    return samples, tps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    lab = Lab("pgha")
    try:
        lab.up("standby", log=lambda *_: None)
        for cluster in (sb.MAIN, sb.STANDBY):
            result, seconds = sb.deploy(lab, cluster)
            if result["rc"] != 0:
                raise SystemExit(f"pgha.deploy of {cluster} failed:\n{result['stdout'][-4000:]}")
            print(f"FIGURE standby_deploy_{cluster}_seconds={seconds:.1f}")
        user, password = superuser(lab)
        lab.node("dr2").write("/root/.pgpass", f"*:*:*:{user}:{password}\n", 0o600)
        init = _pgbench(lab, "dr2", "-i", "-q", "-s", str(args.scale))
        if init.returncode:
            raise SystemExit(init.stderr)
        for run in range(1, args.runs + 1):
            samples, tps = lag_under_load(lab, args.seconds, args.clients)
            if samples:
                print(f"FIGURE standby_lag_run={run} median_bytes={statistics.median(samples):.0f} "
                      f"p95_bytes={sorted(samples)[int(len(samples) * 0.95) - 1]:.0f} max_bytes={max(samples)} "
                      f"samples={len(samples)} pgbench='{tps}'")
        writer = Writer(lab, sb.MAIN_VIP, name="benchlost").start()
        while len(writer.acked) < 200:
            time.sleep(0.1)
        lag = sb.lose_main_site(lab, writer)
        result, seconds, first_commit = sb.promote(lab)
        missing = writer.missing(sb.STANDBY_VIP) if result["rc"] == 0 else None
        print(f"FIGURE standby_promote rc={result['rc']} orchestration_seconds={seconds:.1f} "
              f"first_commit_seconds={first_commit if first_commit is None else round(first_commit, 1)} "
              f"(target 15) lag_bytes_at_loss={lag} rows_acked={len(writer.acked)} "
              f"rows_lost={None if missing is None else len(missing)}")
        # where the orchestration's time went (the guard asks the powered-off main's minions)
        print("promote steps (s): " + sb.slowest_steps(result))
    finally:
        lab.down(log=lambda *_: None)


if __name__ == "__main__":
    main()
