"""Major upgrade benchmark (issue 19): prints figures, asserts nothing (shared, noisy machines).

One lab of scenario `upgrade` (Type B, the writer on the VIP) or `upgrade-typea` (HAProxy's
port 5000), Debian 13, PostgreSQL 17 -> 18 (18 built by pghalab.backport). Deploys, grows the
data with pgbench to --scale (70: about 1 GB), then runs `pgha.upgrade` once with a writer
through the entry point and prints:

  - the write unavailability (the writer's longest gap between two acknowledged commits) and
    the commits acknowledged but missing afterwards;
  - the orchestration's wall time, and its slowest steps;
  - the bytes each replica received (rsync's own count) against the data size.

Debian 13's PostgreSQL 17.12 stamps a pg_attver option on every column that the archive's
PostgreSQL 18.6 does not know, and pgha.upgrade's options pre-check refuses it (docs/
operations.md): the benchmark clears it first, as the lab test does (the lab's workaround).

    PYTHONPATH=test python -m pghalab.bench.upgrade --scale 70 [--scenario upgrade-typea]
"""
import argparse
import time

from .. import backport
from ..cluster import leader_name, query, run_orch, superuser
from ..figures import step_returns, step_seconds
from ..image import SUITES
from ..lab import Lab
from ..writer import Writer

VIP = "10.213.0.100"
CLEAR = backport.CLEAR_PG_ATTVER


def replica_bytes(result):
    """{replica: bytes rsync sent it} from the upgrade's replica steps."""
    sent = {}
    for sid, step in step_returns(result).items():
        if sid.startswith("pgha-upgrade-replica-") and sid.endswith("-synced"):
            for ret in (step.get("changes", {}).get("ret") or {}).values():
                if isinstance(ret, dict):
                    sent[sid[len("pgha-upgrade-replica-"):-len("-synced")]] = sum(
                        r.get("bytes_sent") or 0 for r in ret.get("rsync", []))
    return sent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=70)
    parser.add_argument("--scenario", default="upgrade", choices=("upgrade", "upgrade-typea"))
    args = parser.parse_args()
    lab = Lab("pgha")
    try:
        lab.up(args.scenario, log=lambda *_: None)
        if run_orch(lab, "pgha.deploy", timeout=1800)["rc"] != 0:
            raise SystemExit("deploy failed")
        leader = lab.node(leader_name(lab))
        user, password = superuser(lab)
        leader.write("/root/.pgpass", f"*:*:*:{user}:{password}\n", 0o600)
        pgbench = f"/usr/lib/postgresql/{SUITES[lab.info['suite']]['postgresql']}/bin/pgbench"
        started = time.monotonic()
        init = leader.exec([pgbench, "-h", "127.0.0.1", "-U", user, "-i", "-q", "-s", str(args.scale), "postgres"],
                           capture=True, check=False)
        if init.returncode:
            raise SystemExit(init.stderr)
        print(f"FIGURE upgrade_bench pgbench_init_seconds={time.monotonic() - started:.0f} scale={args.scale}")
        host, port = (VIP, 5000) if args.scenario == "upgrade-typea" else (VIP, 5432)
        writer = Writer(lab, host, port=port).start()
        time.sleep(3)
        for (db,) in query(lab, leader.address, "SELECT datname FROM pg_database WHERE datallowconn"):
            query(lab, leader.address, CLEAR, dbname=db)
        size = int(query(lab, leader.address, "SELECT sum(pg_database_size(datname)) FROM pg_database")[0][0])
        started = time.monotonic()
        result = run_orch(lab, "pgha.upgrade", {"to": 18}, timeout=7200)
        wall = time.monotonic() - started
        time.sleep(3)
        writer.stop()
        missing = writer.missing(lab.node(leader_name(lab)).address) if result["rc"] == 0 else None
        sent = replica_bytes(result)
        print(f"FIGURE upgrade_bench rc={result['rc']} scenario={args.scenario} scale={args.scale} "
              f"wall_seconds={wall:.1f} write_unavailable_seconds={writer.longest_gap():.2f} "
              f"writes={len(writer.acked)} write_errors={len(writer.errors)} "
              f"lost={None if missing is None else len(missing)}")
        for replica, sent_bytes in sorted(sent.items()):
            print(f"FIGURE upgrade_bench replica={replica} bytes_received={sent_bytes} data_bytes={size} "
                  f"ratio={sent_bytes / size:.3f} (target < 0.10)")
        slowest = sorted(step_seconds(result).items(), key=lambda kv: -kv[1])[:10]
        print("upgrade steps (s): " + ", ".join(f"{sid}={sec}" for sid, sec in slowest))
        if result["rc"] != 0:
            print(result["stdout"][-4000:])
    finally:
        lab.down(log=lambda *_: None)


if __name__ == "__main__":
    main()
