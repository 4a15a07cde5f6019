"""Monitoring's cost (issue 24): prints figures, asserts nothing (shared, noisy machines).

Brings up the `monitor` lab (3 database nodes, a monitor node mon1 with Prometheus and
Alertmanager), deploys, then runs pgbench on the leader (TPC-B-like, local socket) for
--seconds while reading systemd's per-unit accounting (CPUUsageNSec, MemoryCurrent):

  - Prometheus and Alertmanager on mon1: CPU seconds, CPU % of one core, memory;
  - the exporters on the leader (node, postgres, pgbouncer, pgha-metrics): CPU seconds;
  - PostgreSQL on the leader (patroni.service holds it): CPU seconds;

and the exporters' CPU as a fraction of PostgreSQL's. An idle window of the same length first,
for the baseline.

    PYTHONPATH=test python -m pghalab.bench.monitoring --seconds 60 --clients 8
"""
import argparse
import re
import threading
import time

from ..cluster import query, run_orch, superuser
from ..image import SUITES
from ..lab import Lab

MEMBERS = ("pg1", "pg2", "pg3")
EXPORTERS = ("prometheus-node-exporter", "prometheus-postgres-exporter", "prometheus-pgbouncer-exporter",
             "pgha-metrics")
MONITOR = ("prometheus", "prometheus-alertmanager")


def accounting(node, units):
    """{unit: (cpu ns or None, memory bytes or None)}: systemd's accounting, else (in the lab's
    containers systemd has no cpu or memory controller: "[not set]") the unit's cgroup v2 group
    read directly: cpu.stat's usage_usec (kept without the controller, exited processes
    included) and the RSS of its processes."""
    found = {}
    for unit in units:
        out = node.exec(["systemctl", "show", "-p", "CPUUsageNSec", "-p", "MemoryCurrent", "-p", "ControlGroup",
                         unit], capture=True, check=False).stdout
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        cpu, memory = (int(v) if v.isdigit() else None
                       for v in (values.get("CPUUsageNSec", ""), values.get("MemoryCurrent", "")))
        group = values.get("ControlGroup", "")
        if group and (cpu is None or memory is None):
            cpu_read, memory_read = _cgroup(node, group)
            cpu = cpu if cpu is not None else cpu_read
            memory = memory if memory is not None else memory_read
        found[unit] = (cpu, memory)
    return found


# the unit's cgroup: cpu.stat's usage_usec, and the RSS (kB) of every process in it
CGROUP_READ = r"""
d=/sys/fs/cgroup$1
[ -e "$d/cpu.stat" ] || d=/sys/fs/cgroup/unified$1    # a hybrid hierarchy (the lab's nspawn nodes)
awk '$1 == "usage_usec" {print "cpu", $2}' "$d/cpu.stat" 2>/dev/null
for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
  awk '$1 == "VmRSS:" {print "rss", $2}' "/proc/$pid/status" 2>/dev/null
done
"""


def _cgroup(node, group):
    out = node.exec(["sh", "-c", CGROUP_READ, "sh", group], capture=True, check=False).stdout
    cpu, rss = None, []
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        if key == "cpu" and value.isdigit():
            cpu = int(value) * 1000
        elif key == "rss" and value.isdigit():
            rss.append(int(value) * 1024)
    return cpu, (sum(rss) if rss else None)


def cpu_seconds(before, after):
    return {unit: (None if before[unit][0] is None or after[unit][0] is None
                   else (after[unit][0] - before[unit][0]) / 1e9) for unit in before}


def window(lab, leader, seconds, load=None):
    """CPU seconds per unit over `seconds` (with `load` running meanwhile), and mon1's memory."""
    mon, db = lab.node("mon1"), lab.node(leader)
    units = EXPORTERS + ("patroni",)
    first = (accounting(mon, MONITOR), accounting(db, units))
    worker = threading.Thread(target=load) if load else None
    started = time.monotonic()
    if worker:
        worker.start()
        worker.join()
    else:
        time.sleep(seconds)
    elapsed = time.monotonic() - started
    last = (accounting(mon, MONITOR), accounting(db, units))
    return elapsed, cpu_seconds(first[0], last[0]), cpu_seconds(first[1], last[1]), last[0]


def report(label, elapsed, mon_cpu, db_cpu, mon_now):
    print(f"\n{label}: {elapsed:.0f} s")
    for unit in MONITOR:
        cpu, memory = mon_cpu[unit], mon_now[unit][1]
        cpu_text = "n/a" if cpu is None else f"{cpu:.2f} s ({100 * cpu / elapsed:.1f}% of a core)"
        mem_text = "n/a" if memory is None else f"{memory / 2**20:.0f} MiB"
        print(f"FIGURE {label} mon1 {unit}: cpu {cpu_text}, memory {mem_text}")
    exporters = sum(v for u, v in db_cpu.items() if u in EXPORTERS and v is not None)
    for unit in EXPORTERS + ("patroni",):
        cpu = db_cpu[unit]
        print(f"FIGURE {label} leader {unit}: cpu " + ("n/a" if cpu is None else f"{cpu:.2f} s"))
    postgres = db_cpu["patroni"]
    if postgres:
        print(f"FIGURE {label} leader exporters/PostgreSQL cpu = {exporters:.2f}/{postgres:.2f} s "
              f"= {100 * exporters / postgres:.1f}%")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    lab = Lab("pgha")
    try:
        lab.up("monitor", log=lambda *_: None)
        if run_orch(lab, "pgha.deploy")["rc"] != 0:
            raise SystemExit("deploy failed")
        leader = next(n for n in MEMBERS if query(lab, lab.node(n).address, "SELECT NOT pg_is_in_recovery()")[0][0])
        node = lab.node(leader)
        pgbench = f"/usr/lib/postgresql/{SUITES[lab.info['suite']]['postgresql']}/bin/pgbench"
        user, password = superuser(lab)
        node.write("/root/.pgpass", f"*:*:*:{user}:{password}\n", 0o600)
        base = [pgbench, "-h", "127.0.0.1", "-U", user]
        init = node.exec(base + ["-i", "-q", "-s", str(args.scale), "postgres"], capture=True, check=False)
        if init.returncode:
            raise SystemExit(init.stderr)
        report("idle", *window(lab, leader, args.seconds))
        result = {}

        def load():
            res = node.exec(base + ["-n", "-T", str(args.seconds), "-c", str(args.clients), "-j", "2", "postgres"],
                            capture=True, check=False)
            result["tps"] = re.search(r"tps = ([0-9.]+)", res.stdout)

        report("pgbench", *window(lab, leader, args.seconds, load))
        if result.get("tps"):
            print(f"FIGURE pgbench tps={float(result['tps'].group(1)):.0f} clients={args.clients}")
    finally:
        lab.down(log=lambda *_: None)


if __name__ == "__main__":
    main()
