"""
pgha:monitoring (issue 24) as the states render it: the exporters of a database node with
their password in root-only files, PgBouncer's stats user, etcd's metrics listener, the
firewall's metrics rule from the cluster's monitors (its own and a shared one that names it);
on a monitor, Prometheus' configuration from the mine of the clusters it scrapes, checked by
promtool when the host has it.
"""
import json
import shutil
import subprocess

import pytest
import yaml

from .render_helpers import NODE_ADDRESS, _render_file, _state, _states

PROMTOOL = shutil.which("promtool")


def test_exporters_of_a_database_node(rendered):
    states = _states(rendered, "show_sls", "debian12", "monitoring")
    _, _, args = _state(states, "pgha-monitoring-pkgs-installed")
    # Debian 12: no PgBouncer exporter (its 1.7 cannot read PgBouncer >= 1.8): see below
    assert args["pkgs"] == ["prometheus-node-exporter", "prometheus-postgres-exporter"]
    module, function, args = _state(states, "pgha-monitoring-postgres-exporter-env-managed")
    assert (args["name"], args["user"], args["mode"], args["show_changes"]) == (
        "/etc/default/prometheus-postgres-exporter", "root", "0600", False)
    text = _render_file(states, "pgha-monitoring-postgres-exporter-env-managed", "debian12", "monitoring")
    lines = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    assert lines["DATA_SOURCE_PASS"] == '"mon-secret"' and lines["DATA_SOURCE_USER"] == '"pgha_monitor"'
    assert "mon-secret" not in lines["ARGS"] and lines["ARGS"] == '"--web.listen-address=:9187"'
    # the exporter's lib/pq refuses sslmode=prefer (measured in the lab: pg_up 0 on every node)
    assert lines["DATA_SOURCE_URI"] == '"127.0.0.1:5432/postgres?sslmode=disable"'
    # pgha-metrics (root) reads PgBouncer's console with this file, though no exporter runs here
    _, _, args = _state(states, "pgha-monitoring-pgbouncer-exporter-pgpass-managed")
    assert (args["user"], args["mode"], args["show_changes"]) == ("postgres", "0600", False)
    pgpass = _render_file(states, "pgha-monitoring-pgbouncer-exporter-pgpass-managed", "debian12", "monitoring")
    assert pgpass.strip() == "*:6432:pgbouncer:pgha_monitor:mon-secret"
    # the role on the leader: LOGIN, pg_monitor, its password by pillar key
    _, function, args = _state(states, "pgha-monitoring-role-present")
    assert (function, args["password_pillar"], args["superuser"]) == (
        "role_present", "pgha:monitoring:user:password", False)
    assert _state(states, "pgha-monitoring-role-membership")[2]["groups"] == ["pg_monitor"]
    # pgha-metrics: its settings (nothing secret) and timer
    _, _, args = _state(states, "pgha-monitoring-metrics-config-managed")
    assert args["dataset"]["vip"] == "10.0.0.100" and args["dataset"]["postgresql"] is True
    assert "mon-secret" not in json.dumps(args)
    assert {k: v for k, v in args["dataset"].items() if k.startswith("pgbouncer")} == {
        "pgbouncer": True, "pgbouncer_sockets": ["/var/run/postgresql"], "pgbouncer_port": 6432,
        "pgbouncer_user": "pgha_monitor", "pgbouncer_pgpass": "/etc/pgha/pgbouncer-exporter.pgpass"}


def test_debian12_runs_no_pgbouncer_exporter(rendered):
    """Debian 12's prometheus-pgbouncer-exporter 1.7 dies on PgBouncer 1.18 (SHOW STATS
    columns renamed in 1.8): no package, file, drop-in or service of it, no firewall port."""
    states = _states(rendered, "show_sls", "debian12", "monitoring")
    assert not [sid for sid in states if "pgbouncer-exporter" in sid and "pgpass" not in sid]
    assert not [sid for sid, body in states.items()
                if "prometheus-pgbouncer-exporter" in json.dumps(body)]


def test_debian13_runs_the_go_pgbouncer_exporter(rendered):
    """Debian 13's exporter (prometheus-community's 0.10.2, Go): its listen address in ARGS,
    its connection string (no password) in the variable it reads, lib/pq's PGPASSFILE a 0600
    file of the exporter's user; Restart=on-failure; the password in no argument nor 0644 file."""
    states = _states(rendered, "show_sls", "debian13", "monitoring")
    assert _state(states, "pgha-monitoring-pkgs-installed")[2]["pkgs"] == [
        "prometheus-node-exporter", "prometheus-postgres-exporter", "prometheus-pgbouncer-exporter"]
    _, _, args = _state(states, "pgha-monitoring-pgbouncer-exporter-env-managed")
    assert (args["name"], args["mode"]) == ("/etc/default/prometheus-pgbouncer-exporter", "0644")
    env = dict(line.split("=", 1) for line in args["contents"].splitlines() if "=" in line and not line.startswith("#"))
    assert env == {"PGBOUNCER_EXPORTER_CONNECTION_STRING":
                   '"host=/var/run/postgresql port=6432 dbname=pgbouncer user=pgha_monitor sslmode=disable"',
                   "PGPASSFILE": '"/etc/pgha/pgbouncer-exporter.pgpass"',
                   "ARGS": '"--web.listen-address=:9127"'}
    _, _, args = _state(states, "pgha-monitoring-pgbouncer-exporter-pgpass-managed")
    # Debian 13's unit runs the exporter as postgres (User=postgres)
    assert (args["user"], args["group"], args["mode"], args["show_changes"]) == ("postgres", "postgres", "0600", False)
    pgpass = _render_file(states, "pgha-monitoring-pgbouncer-exporter-pgpass-managed", "debian13", "monitoring")
    assert pgpass.strip() == "*:6432:pgbouncer:pgha_monitor:mon-secret"
    _, _, args = _state(states, "pgha-monitoring-pgbouncer-exporter-dropin-managed")
    assert "Restart=on-failure" in args["contents"].splitlines()
    watched = _state(states, "pgha-monitoring-pgbouncer-exporter-running")[2]["watch"]
    assert {"file": "pgha-monitoring-pgbouncer-exporter-env-managed"} in watched
    assert "mon-secret" not in json.dumps(states)
    text = _render_file(states, "pgha-firewall-rules-file-managed", "debian13", "monitoring")
    assert [line.strip() for line in text.splitlines() if "metrics (pgha:monitoring)" in line] == [
        'ip saddr @monitors_v4 tcp dport { 2381, 8008, 9100, 9127, 9187 } accept comment "metrics (pgha:monitoring)"']


def test_pgbouncer_and_etcd_for_the_monitors(rendered):
    states = _states(rendered, "show_sls", "debian12", "monitoring")
    ini = _render_file(states, "pgha-pgbouncer-config-file-managed", "debian12", "monitoring")
    assert "stats_users = pgbouncer, pgha_monitor" in ini.splitlines()
    userlist = _render_file(states, "pgha-pgbouncer-userlist-file-managed", "debian12", "monitoring")
    assert userlist.splitlines()[-1] == '"pgha_monitor" "mon-secret"'
    env = _render_file(states, "pgha-etcd-config-file-managed", "debian12", "monitoring")
    assert f'ETCD_LISTEN_METRICS_URLS="http://{NODE_ADDRESS}:2381"' in env.splitlines()


def test_no_metrics_listener_without_monitoring(rendered):
    states = _states(rendered, "show_sls", "debian12", "typeb_vip")
    env = _render_file(states, "pgha-etcd-config-file-managed", "debian12", "typeb_vip")
    assert "METRICS" not in env
    assert _state(states, "pgha-monitoring-pkgs-installed")[2]["pkgs"] == []


def test_firewall_opens_the_metrics_to_the_monitors_only(rendered):
    states = _states(rendered, "show_sls", "debian12", "monitoring")
    text = _render_file(states, "pgha-firewall-rules-file-managed", "debian12", "monitoring")
    # main's own monitor and the shared one that names main; not ops' monitor of other
    assert "set monitors_v4 {" in text and "elements = { 10.0.0.90, 10.0.7.90 }" in text
    assert "10.0.8.90" not in text
    rule = [line.strip() for line in text.splitlines() if "metrics (pgha:monitoring)" in line]
    # Debian 12: no PgBouncer exporter, so no 9127
    assert rule == ['ip saddr @monitors_v4 tcp dport { 2381, 8008, 9100, 9187 } accept '
                    'comment "metrics (pgha:monitoring)"']


def test_monitor_scrapes_its_clusters_from_the_mine(rendered):
    states = _states(rendered, "show_sls", "debian12", "monitor")
    assert _state(states, "pgha-monitor-pkgs-installed")[2]["pkgs"] == ["prometheus", "prometheus-alertmanager"]
    _, _, args = _state(states, "pgha-monitor-prometheus-config-managed")
    assert args["check_cmd"] == "/usr/bin/promtool check config"
    config = yaml.safe_load(args["contents"])
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert sorted(jobs) == ["pgha-main-etcd", "pgha-main-node", "pgha-main-patroni", "pgha-main-postgres",
                            "pgha-monitor-alertmanager", "pgha-monitor-prometheus",
                            "pgha-other-etcd", "pgha-other-node", "pgha-other-patroni", "pgha-other-postgres"]
    members = {sc["labels"]["member"] for sc in jobs["pgha-main-node"]["static_configs"]}
    assert members == {"pg1", "pg2"}                    # not Main's pg8
    assert config["rule_files"] == ["/etc/prometheus/rules/pgha-alerts.yml", "/etc/prometheus/rules/pgha-records.yml"]
    _, _, args = _state(states, "pgha-monitor-prometheus-env-managed")
    assert "--storage.tsdb.retention.time=15d" in args["contents"]
    for state_id in ("pgha-monitor-alert-rules-managed", "pgha-monitor-recording-rules-managed"):
        assert _state(states, state_id)[2]["check_cmd"] == "/usr/bin/promtool check rules"
    # the monitor's firewall: Prometheus and Alertmanager like a client port
    text = _render_file(states, "pgha-firewall-rules-file-managed", "debian12", "monitor")
    assert 'tcp dport { 9090, 9093 } accept comment "Prometheus, Alertmanager"' in text
    assert _state(states, "pgha-firewall-cluster-addresses-known")[1] == "succeed_without_changes"


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is missing: it comes with Debian's prometheus package "
                    "(make host installs it)")
def test_the_monitors_rule_files_pass_promtool(rendered, tmp_path):
    states = _states(rendered, "show_sls", "debian12", "monitor")
    paths = []
    for state_id in ("pgha-monitor-alert-rules-managed", "pgha-monitor-recording-rules-managed"):
        path = tmp_path / f"{state_id}.yml"
        path.write_text(_state(states, state_id)[2]["contents"])
        paths.append(str(path))
    done = subprocess.run([PROMTOOL, "check", "rules", *paths], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
