"""Type A benchmark: prints figures, asserts nothing (shared, noisy machines).

Brings up the `typea` lab (3 database nodes, 2 balancers), deploys, then from the async replica
node (the load generator; the balancers have no PostgreSQL client) runs pgbench:
  - select-only (-S) through HAProxy 5000 (primary via PgBouncer), 5001 (replicas via
    PgBouncer) and directly to the primary's 5432, in the same run;
  - TPC-B-like through 5000 and directly to 5432;
and prints transactions per second with each figure as a ratio of the direct connection.
Then times, N times, how long port 5000 takes to reach the new primary after a switchover.

    PYTHONPATH=test python -m pghalab.bench.typea --seconds 15 --clients 8 --switchovers 3
"""
import argparse
import re
import statistics
import time

from ..cluster import identity, patroni_roles, run_orch, superuser, wait_for
from ..lab import Lab

PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
VIP = "10.213.0.100"


def pgbench(node, host, port, extra, seconds, clients):
    res = node.exec([PGBENCH, "-h", host, "-p", str(port), "-U", "postgres", "-n", "-T", str(seconds),
                     "-c", str(clients), "-j", "2", *extra, "postgres"], capture=True, check=False)
    match = re.search(r"tps = ([0-9.]+)", res.stdout)
    if not match:
        raise SystemExit(f"pgbench {host}:{port} {extra} failed:\n{res.stdout}\n{res.stderr}")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--switchovers", type=int, default=3)
    args = parser.parse_args()
    lab = Lab("pgha")
    try:
        lab.up("typea", log=lambda *_: None)
        if run_orch(lab, "pgha.deploy")["rc"] != 0:
            raise SystemExit("deploy failed")
        roles = patroni_roles(lab)
        leader = next(n for n, r in roles.items() if r == "leader")
        loadgen = lab.node(next(n for n, r in roles.items() if r == "replica"))
        user, password = superuser(lab)
        loadgen.write("/root/.pgpass", f"*:*:*:{user}:{password}\n", 0o600)
        primary = lab.node(leader).address
        init = loadgen.exec([PGBENCH, "-h", VIP, "-p", "5000", "-U", user, "-i", "-q", "-s",
                             str(args.scale), "postgres"], capture=True, check=False)
        if init.returncode:
            raise SystemExit(init.stderr)
        time.sleep(2)  # let the replicas replay the initial load before reading from them
        rows = []
        for label, extra in (("select-only", ["-S"]), ("tpc-b", [])):
            direct = pgbench(loadgen, primary, 5432, extra, args.seconds, args.clients)
            rows.append((label, f"direct {leader}:5432", direct, 1.0))
            ports = [5000, 5001] if extra else [5000]
            for port in ports:
                tps = pgbench(loadgen, VIP, port, extra, args.seconds, args.clients)
                rows.append((label, f"VIP:{port}", tps, tps / direct))
        print(f"\npgbench -T {args.seconds} -c {args.clients} -j 2, scale {args.scale}, from {loadgen.name}")
        print(f"{'workload':12} {'target':22} {'tps':>10} {'x direct':>9}")
        for label, target, tps, ratio in rows:
            print(f"{label:12} {target:22} {tps:10.0f} {ratio:9.2f}", flush=True)
        follow = []
        for _ in range(args.switchovers):
            # synchronous mode names a new sync standby a moment after a switchover
            roles = wait_for(lambda: (r := patroni_roles(lab)) and "sync_standby" in r.values() and r,
                             timeout=60, what="a sync standby")
            old = next(n for n, r in roles.items() if r == "leader")
            new = next(n for n, r in roles.items() if r == "sync_standby")
            started = time.monotonic()
            lab.master.cli("salt", old, "pgha_patroni.switchover", f"candidate={new}",
                           capture_output=True, timeout=120)
            wait_for(lambda: identity(lab, VIP, 5000) == (new, False), timeout=60, interval=0.05,
                     what="port 5000 on the new primary")
            follow.append(time.monotonic() - started)
            lab.master.cli("salt", "-I", "pgha:roles:postgresql", "pgha_patroni.wait_healthy",
                           "role=member", "timeout=120", capture_output=True, timeout=180)
    finally:
        lab.down(log=lambda *_: None)
    print(f"\nport 5000 follows a switchover: median {statistics.median(follow):.1f}s, "
          f"min {min(follow):.1f}s, max {max(follow):.1f}s ({len(follow)} switchovers)")


if __name__ == "__main__":
    main()
