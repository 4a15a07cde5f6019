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
- pgha_metrics_last_run_timestamp_seconds.

PostgreSQL is read as the postgres OS user over the local socket (peer): no password. Each
probe that fails leaves its metric out; the file is replaced atomically.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone


def run(argv, user=None):
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
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
