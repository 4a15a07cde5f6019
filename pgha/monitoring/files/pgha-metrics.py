#!/usr/bin/python3
"""pgha-metrics (managed by Salt, pgha:monitoring): the signals no packaged exporter gives,
written for node_exporter's textfile collector. Run by pgha-metrics.timer as root; reads its
settings (nothing secret) from the JSON file named on the command line:

- pgha_vip_present: 1 when this node holds the cluster VIP (vip-manager or keepalived);
- pgha_certificate_expiry_seconds{file}: seconds until each certificate's notAfter;
- pgha_backup_last_completion_timestamp_seconds: the newest pgBackRest backup's stop time;
- pgha_wal_archive_failing / pgha_wal_archive_last_success_timestamp_seconds: the leader's
  pg_stat_archiver (failing = the last failure is newer than the last success);
- pgha_replica_streaming: 1 when this replica's WAL receiver streams (Patroni 3.0.2 has no
  streaming metric);
- pgha_replication_slot_retained_bytes{slot}: WAL each slot of the leader holds back;
- pgha_pgbouncer_up{process}: 1 when PgBouncer's admin console answered SHOW POOLS, else 0;
- pgha_pgbouncer_clients_waiting{process,database,user} and
  pgha_pgbouncer_max_wait_seconds{process,database,user}: SHOW POOLS' cl_waiting and
  maxwait + maxwait_us (the oldest waiting client's wait). Not from an exporter: Debian 12's
  prometheus-pgbouncer-exporter cannot read any PgBouncer since 1.8, so the waiting-clients
  alert reads these on every release;
- pgha_metrics_last_run_timestamp_seconds.

PostgreSQL is read as the postgres OS user over the local socket (peer): no password.
PgBouncer's console (database pgbouncer) is read over each process' socket as the exporters'
role, a stats_users entry; libpq reads its password from the 0600 file PGPASSFILE names, never
from the command line. Each probe that fails leaves its metric out (PgBouncer: up 0); the file
is replaced atomically.
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone


def run(argv, user=None, env=None):
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                          env=dict(os.environ, **env) if env else None)
    return done.stdout if done.returncode == 0 else None


def label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def vip_present(cfg):
    out = run(["ip", "-o", "addr", "show"])
    if out is None:
        return []
    held = any(f" {cfg['vip']}/" in line for line in out.splitlines())
    return [("pgha_vip_present", {"vip": cfg["vip"]}, int(held))]


def certificates(cfg):
    found = []
    for path in cfg.get("certificates", []):
        if not os.path.exists(path):
            continue
        out = run(["openssl", "x509", "-noout", "-enddate", "-in", path])
        if not out or "=" not in out:
            continue
        end = datetime.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)
        found.append(("pgha_certificate_expiry_seconds", {"file": path}, int(end.timestamp() - time.time())))
    return found


def backups(cfg):
    out = run([cfg["pgbackrest_bin"], "--output=json", f"--stanza={cfg['stanza']}", "info"], user=cfg["postgres_user"])
    if not out:
        return []
    stops = [b.get("timestamp", {}).get("stop", 0) for s in json.loads(out) for b in s.get("backup", [])]
    return [("pgha_backup_last_completion_timestamp_seconds", {}, max(stops))] if stops else []


def sql(cfg, query):
    return run([cfg["psql"], "-X", "-A", "-t", "-F", "\t", "-h", cfg["run_dir"], "-p", str(cfg["port"]),
                "-d", "postgres", "-c", query], user=cfg["postgres_user"])


def postgres(cfg):
    found = []
    out = sql(cfg, "SELECT pg_is_in_recovery()")
    if out is None:
        return found
    if out.strip() == "t":
        status = sql(cfg, "SELECT count(*) FILTER (WHERE status = 'streaming') FROM pg_stat_wal_receiver")
        if status is not None:
            found.append(("pgha_replica_streaming", {}, int(int(status.strip() or 0) > 0)))
        return found
    out = sql(cfg, "SELECT current_setting('archive_mode') <> 'off', coalesce(extract(epoch FROM last_archived_time), 0), "
                   "coalesce(extract(epoch FROM last_failed_time), 0) FROM pg_stat_archiver")
    if out and out.strip():
        archiving, success, failed = out.strip().split("\t")
        if archiving == "t":
            found.append(("pgha_wal_archive_last_success_timestamp_seconds", {}, float(success)))
            found.append(("pgha_wal_archive_failing", {}, int(float(failed) > float(success))))
    out = sql(cfg, "SELECT slot_name, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0) "
                   "FROM pg_replication_slots")
    for line in (out or "").splitlines():
        if "\t" in line:
            slot, size = line.split("\t")
            found.append(("pgha_replication_slot_retained_bytes", {"slot": slot}, float(size)))
    return found


def _number(value):
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def pgbouncer(cfg):
    """SHOW POOLS of each PgBouncer process (pgbouncer:processes: one socket directory each).
    CSV with a header: the columns differ between PgBouncer 1.18 and 1.24, so they are read by
    name. -w: never wait for a password prompt; connect_timeout: a hung PgBouncer must not hold
    the timer."""
    found = []
    env = {"PGPASSFILE": cfg["pgbouncer_pgpass"], "PGCONNECT_TIMEOUT": "5"}
    for process, socket_dir in enumerate(cfg.get("pgbouncer_sockets") or [], start=1):
        try:
            out = run([cfg["psql"], "-X", "-w", "--csv", "-P", "footer=off", "-h", socket_dir,
                       "-p", str(cfg["pgbouncer_port"]), "-U", cfg["pgbouncer_user"], "-d", "pgbouncer",
                       "-c", "SHOW POOLS"], env=env)
            rows = list(csv.DictReader(io.StringIO(out))) if out else None
        except (OSError, subprocess.SubprocessError, csv.Error) as exc:
            print(f"pgha-metrics: pgbouncer process {process}: {exc}", file=sys.stderr)
            rows = None
        found.append(("pgha_pgbouncer_up", {"process": process}, int(rows is not None)))
        for row in rows or []:
            labels = {"process": process, "database": row.get("database", ""), "user": row.get("user", "")}
            found.append(("pgha_pgbouncer_clients_waiting", labels, int(_number(row.get("cl_waiting")))))
            wait = _number(row.get("maxwait")) + _number(row.get("maxwait_us")) / 1e6
            found.append(("pgha_pgbouncer_max_wait_seconds", labels, round(wait, 6)))
    return found


def main(path):
    with open(path, encoding="utf-8") as handle:
        cfg = json.load(handle)
    samples = []
    probes = [certificates]
    if cfg.get("vip"):
        probes.append(vip_present)
    if cfg.get("postgresql"):
        probes.append(postgres)
        if cfg.get("pgbackrest"):
            probes.append(backups)
    if cfg.get("pgbouncer"):
        probes.append(pgbouncer)
    for probe in probes:
        try:
            samples.extend(probe(cfg))
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            print(f"pgha-metrics: {probe.__name__}: {exc}", file=sys.stderr)
    samples.append(("pgha_metrics_last_run_timestamp_seconds", {}, int(time.time())))
    lines = []
    for name, labels, value in samples:
        text = ",".join(f'{key}="{label(val)}"' for key, val in sorted(labels.items()))
        lines.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")
    out_dir = cfg["textfile_dir"]
    with tempfile.NamedTemporaryFile("w", dir=out_dir, prefix=".pgha-", suffix=".tmp", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, os.path.join(out_dir, "pgha.prom"))


if __name__ == "__main__":
    main(sys.argv[1])
