"""
pgha:monitoring (issue 24): the metrics endpoints a node publishes, the monitors of a cluster,
the scrape configuration a monitor builds from the mine (two clusters), the alert and
recording rules read back by Prometheus' own promtool, and no password on a unit's command
line.
"""
import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import pgha_derive
import pgha_monitoring

REPO = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((REPO / "pgha/parameters/defaults.yaml").read_text())
LAYERS = [DEFAULTS, yaml.safe_load((REPO / "pgha/parameters/os_family/Debian.yaml").read_text())]
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is missing: it comes with Debian's prometheus package (make host installs it)")


def settings(**pgha):
    return pgha_derive.settings(LAYERS, {"cluster_name": "main", **pgha}, {})["pgha"]


def monitoring(**kw):
    return {"enabled": True, "user": {"password": "mon-secret"}, **kw}


def test_endpoints_by_role():
    """A database node: node, postgres, Patroni (https with TLS), PgBouncer where it runs; etcd
    on its own metrics port; HAProxy's exporter on a balancer; nothing without monitoring."""
    assert pgha_monitoring.endpoints(settings(roles=["postgresql", "etcd"])) == {}
    points = pgha_monitoring.endpoints(settings(roles=["postgresql", "etcd"], monitoring=monitoring()))
    assert {k: v["port"] for k, v in points.items()} == {"node": 9100, "postgres": 9187, "patroni": 8008,
                                                         "etcd": 2381}
    assert points["patroni"]["scheme"] == "http"
    points = pgha_monitoring.endpoints(settings(roles=["postgresql"], monitoring=monitoring(pgbouncer_exporter=True),
                                                pgbouncer={"enabled": True}, tls={"enabled": True}))
    assert points["pgbouncer"]["port"] == 9127 and points["patroni"]["scheme"] == "https"
    points = pgha_monitoring.endpoints(settings(roles=["balancer"], with_haproxy_load_balancing=True,
                                                monitoring=monitoring()))
    assert {k: v["port"] for k, v in points.items()} == {"node": 9100, "haproxy": 8405}
    assert pgha_monitoring.endpoints(settings(roles=["monitor"], monitoring=monitoring())) == {}


def test_member_entry_publishes_endpoints_and_watched_clusters():
    entry = pgha_derive.member_entry({"cluster_name": "main", "roles": ["postgresql"], "monitoring": monitoring()},
                                     "10.0.0.1", DEFAULTS)
    assert entry["metrics"]["postgres"]["port"] == 9187 and "monitors" not in entry
    entry = pgha_derive.member_entry({"cluster_name": "ops", "roles": ["monitor"],
                                      "monitoring": monitoring(clusters=["main", "other"])}, "10.0.9.9", DEFAULTS)
    assert entry["metrics"] == {} and entry["monitors"] == ["main", "other"]
    # without monitoring: the entry other clusters' minions already read, unchanged
    assert pgha_derive.member_entry({"cluster_name": "main", "roles": ["etcd"]}, "10.0.0.1") == {
        "cluster_name": "main", "roles": ["etcd"], "address": "10.0.0.1"}


def _node(cluster, address, roles, **pgha):
    # Debian 13's settings: PgBouncer's exporter is a target where PgBouncer runs
    cfg = settings(roles=roles, monitoring=monitoring(pgbouncer_exporter=True), **pgha)
    return {"cluster_name": cluster, "roles": roles, "address": address,
            "metrics": pgha_monitoring.endpoints(cfg)}


MINE = {
    "pg1": _node("main", "10.0.0.11", ["postgresql", "etcd"], pgbouncer={"enabled": True}),
    "pg2": _node("main", "10.0.0.12", ["postgresql", "etcd"], pgbouncer={"enabled": True}),
    "lb1": _node("main", "10.0.0.31", ["balancer"], with_haproxy_load_balancing=True),
    "db1": _node("other", "10.9.0.11", ["postgresql", "etcd"], tls={"enabled": True}),
    "db2": _node("other", "fd00::12", ["postgresql", "etcd"], tls={"enabled": True}),
    "pg8": _node("Main", "10.7.0.11", ["postgresql", "etcd"]),          # main's case twin: not scraped
    "mon1": {"cluster_name": "main", "roles": ["monitor"], "address": "10.0.0.90", "metrics": {}, "monitors": []},
    "mon9": {"cluster_name": "ops", "roles": ["monitor"], "address": "10.0.9.9", "metrics": {},
             "monitors": ["main", "other"]},
    "old": {"cluster_name": "main", "roles": ["postgresql"], "address": "10.0.0.13"},   # published before
}


def test_scrape_configs_of_two_clusters_from_the_mine():
    jobs = {job["job_name"]: job for job in pgha_monitoring.scrape_configs(["main", "other"], MINE,
                                                                           {"other": "/etc/ca.crt"})}
    assert sorted(jobs) == [f"pgha-main-{k}" for k in ("etcd", "haproxy", "node", "patroni", "pgbouncer", "postgres")] \
        + [f"pgha-other-{k}" for k in ("etcd", "node", "patroni", "postgres")]
    targets = {(job, t) for job, body in jobs.items() for sc in body["static_configs"] for t in sc["targets"]}
    assert ("pgha-main-postgres", "10.0.0.11:9187") in targets and ("pgha-other-node", "[fd00::12]:9100") in targets
    assert not any("10.7.0." in t for _, t in targets), "a case twin's nodes are another cluster"
    assert not any(t.startswith("10.0.0.13") for _, t in targets), "a node without endpoints is not scraped"
    label = jobs["pgha-main-haproxy"]["static_configs"][0]["labels"]
    assert label == {"cluster": "main", "member": "lb1", "role": "balancer", "exporter": "haproxy"}
    assert jobs["pgha-main-patroni"]["static_configs"][1]["labels"] == {
        "cluster": "main", "member": "pg2", "role": "etcd,postgresql", "exporter": "patroni"}
    # https with the CA the monitor has for that cluster; none for main (http)
    assert jobs["pgha-other-patroni"]["scheme"] == "https"
    assert jobs["pgha-other-patroni"]["tls_config"] == {"ca_file": "/etc/ca.crt", "insecure_skip_verify": False}
    assert "tls_config" not in jobs["pgha-main-patroni"]
    # one cluster only: the other's jobs are gone
    assert all(j["job_name"].startswith("pgha-main-") for j in pgha_monitoring.scrape_configs(["main"], MINE))


def test_monitors_of_a_cluster():
    assert pgha_monitoring.monitors_of("main", MINE) == {"mon1": "10.0.0.90", "mon9": "10.0.9.9"}
    assert pgha_monitoring.monitors_of("other", MINE) == {"mon9": "10.0.9.9"}
    assert pgha_monitoring.monitors_of("Main", MINE) == {}


def test_settings_carry_the_monitors():
    found = pgha_derive.settings(LAYERS, {"cluster_name": "other", "roles": ["postgresql"]}, MINE)
    assert found["monitors"] == {"mon9": "10.0.9.9"}


def test_components_of_monitoring():
    def components(roles, **pgha):
        return pgha_derive.settings(LAYERS, {"cluster_name": "main", "roles": roles, **pgha}, {})["components"]
    assert "monitoring" not in components(["postgresql", "etcd"])
    assert components(["postgresql", "etcd"], monitoring=monitoring())[-1] == "monitoring"
    assert components(["monitor"], monitoring=monitoring()) == ["system", "repo", "prometheus"]


def _thresholds():
    return copy.deepcopy(DEFAULTS["monitoring"]["alerts"])


def test_every_alert_threshold_is_filled_and_documented():
    rules = pgha_monitoring.alert_rules(_thresholds())["groups"][0]["rules"]
    for rule in rules:
        assert not re.search(r"\{[a-z_]+\}", rule["expr"] + rule["for"]), rule
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    doc = (REPO / "docs/monitoring.md").read_text()
    for name in names:
        # each alert has its row in the docs' table, with a runbook line
        assert re.search(rf"^\| `{name}` \|.*\|.*\S.*\|$", doc, re.M), f"{name}: no row in docs/monitoring.md"
    for key in _thresholds():
        assert f"`{key}`" in doc, f"monitoring:alerts:{key} is not in docs/monitoring.md"


def test_thresholds_from_pillar_reach_the_rules():
    thresholds = dict(_thresholds(), replication_lag_bytes=12345, paused_for="2h")
    rules = {r["alert"]: r for r in pgha_monitoring.alert_rules(thresholds)["groups"][0]["rules"]}
    assert rules["PghaReplicationLag"]["expr"].endswith("> 12345")
    assert rules["PghaPausedTooLong"]["for"] == "2h"


def _promtool(*args):
    return subprocess.run([PROMTOOL, *map(str, args)], capture_output=True, text=True, check=False)


@needs_promtool
def test_rule_files_pass_promtool(tmp_path):
    alerts, records = tmp_path / "alerts.yml", tmp_path / "records.yml"
    alerts.write_text(yaml.safe_dump(pgha_monitoring.alert_rules(_thresholds())))
    records.write_text(yaml.safe_dump(pgha_monitoring.recording_rules()))
    done = _promtool("check", "rules", alerts, records)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_prometheus_config_passes_promtool(tmp_path):
    rule_files = []
    for name, data in (("alerts.yml", pgha_monitoring.alert_rules(_thresholds())),
                       ("records.yml", pgha_monitoring.recording_rules())):
        (tmp_path / name).write_text(yaml.safe_dump(data))
        rule_files.append(str(tmp_path / name))
    (tmp_path / "ca.crt").write_text("")
    config = pgha_monitoring.prometheus_config(
        ["main", "other"], MINE, DEFAULTS["monitoring"], rule_files,
        {"prometheus": ["127.0.0.1:9090"], "alertmanager": ["127.0.0.1:9093"]}, {"other": str(tmp_path / "ca.crt")})
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = _promtool("check", "config", tmp_path / "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_rules_behave_in_promtool_unit_tests(tmp_path):
    """promtool test rules: a replica whose PostgreSQL stops (Patroni paused) raises
    PghaMemberNotStreaming; a timeline change raises PghaLeaderChanged, which resolves after
    the window."""
    thresholds = dict(_thresholds(), leader_change_window="5m", member_down_for="1m")
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(pgha_monitoring.alert_rules(thresholds)))
    (tmp_path / "records.yml").write_text(yaml.safe_dump(pgha_monitoring.recording_rules()))
    labels = 'cluster="main",member="pg2",exporter="patroni"'
    tests = {"rule_files": ["alerts.yml", "records.yml"], "evaluation_interval": "30s", "tests": [{
        "interval": "30s",
        "input_series": [
            {"series": f"patroni_primary{{{labels}}}", "values": "0x20"},
            {"series": f"patroni_postgres_running{{{labels}}}", "values": "1 1 0x18"},
            {"series": 'patroni_postgres_timeline{cluster="main",member="pg1",exporter="patroni"}',
             "values": "1x4 2x16"},
        ],
        "alert_rule_test": [
            {"eval_time": "30s", "alertname": "PghaMemberNotStreaming", "exp_alerts": []},
            {"eval_time": "3m", "alertname": "PghaMemberNotStreaming", "exp_alerts": [{
                "exp_labels": {"severity": "critical", "cluster": "main", "member": "pg2", "exporter": "patroni"},
                "exp_annotations": {"summary": "pg2 (main) is a replica that does not stream from the leader",
                                    "runbook": "pghamembernotstreaming"}}]},
            {"eval_time": "3m", "alertname": "PghaLeaderChanged", "exp_alerts": [{
                "exp_labels": {"severity": "warning", "cluster": "main"},
                "exp_annotations": {"summary": "the leader of cluster main changed (timeline 1 change(s))",
                                    "runbook": "pghaleaderchanged"}}]},
            {"eval_time": "9m", "alertname": "PghaLeaderChanged", "exp_alerts": []},
        ]}]}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests))
    done = _promtool("test", "rules", tmp_path / "tests.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def _unit_files():
    for path in sorted((REPO / "pgha").rglob("*")):
        if path.is_file() and (".service" in path.name or ".timer" in path.name):
            yield path
    for path in sorted((REPO / "pgha").rglob("*.sls")):
        yield path


def test_no_password_in_any_units_execstart():
    """Every ExecStart pgha writes (unit templates and drop-ins in SLS files) names no password,
    secret, or the pillar keys that hold them; the exporters read theirs from files."""
    found = []
    for path in _unit_files():
        for line in path.read_text().splitlines():
            if "ExecStart" in line and re.search(r"password|passwd|secret|PGPASSWORD|DATA_SOURCE_PASS\b", line, re.I):
                found.append(f"{path.relative_to(REPO)}: {line.strip()}")
    assert not found, found
    env = (REPO / "pgha/monitoring/files/postgres-exporter.env.jinja").read_text()
    args = [line for line in env.splitlines() if line.startswith("ARGS=")]
    assert args and "password" not in args[0] and "DATA_SOURCE_PASS=" in env
    # Debian's units run `$ARGS` from /etc/default: the password is never among the ARGS pgha writes
    config = (REPO / "pgha/monitoring/config.sls").read_text()
    assert "PGPASSFILE=" in config and "PGPASSWORD" not in config


def test_pgpass_line_escapes_what_libpq_splits_on():
    import pgha_formats  # pylint: disable=import-outside-toplevel
    assert pgha_formats.pgpass_line("*", 6432, "pgbouncer", "mon", "a:b\\c") == "*:6432:pgbouncer:mon:a\\:b\\\\c"
    with pytest.raises(ValueError, match="newline"):
        pgha_formats.pgpass_line("*", 6432, "pgbouncer", "mon", "a\nb")


def test_pgha_metrics_writes_the_textfile(tmp_path):
    """The textfile job without PostgreSQL: the VIP (on loopback here) and its own timestamp,
    in node_exporter's text format, replaced atomically."""
    config = tmp_path / "metrics.json"
    config.write_text('{"textfile_dir": "%s", "vip": "127.0.0.1", "certificates": ["/nonexistent.crt"], '
                      '"postgresql": false}' % tmp_path)
    done = subprocess.run(["python3", str(REPO / "pgha/monitoring/files/pgha-metrics.py"), str(config)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "pgha.prom").read_text().splitlines()
    assert lines[0] == 'pgha_vip_present{vip="127.0.0.1"} 1' or not shutil.which("ip")
    assert lines[-1].startswith("pgha_metrics_last_run_timestamp_seconds ")
    assert not list(tmp_path.glob(".pgha-*"))


# -- PgBouncer: the exporter per release, the waiting clients from pgha-metrics (h9-mon) ---------
def _release(osfinger):
    return [*LAYERS, yaml.safe_load((REPO / f"pgha/parameters/osfinger/{osfinger}.yaml").read_text())]


@pytest.mark.parametrize("osfinger, exporter", [("Debian-12", False), ("Debian-13", True)])
def test_pgbouncer_exporter_per_release(osfinger, exporter):
    """Debian 12's packaged exporter cannot read PgBouncer >= 1.8: no target there, so the
    monitor scrapes nothing that would stay down; Debian 13's Go exporter is a target."""
    cfg = pgha_derive.settings(_release(osfinger), {"cluster_name": "main", "roles": ["postgresql"],
                                                    "pgbouncer": {"enabled": True}, "monitoring": monitoring()},
                               {})["pgha"]
    assert cfg["monitoring"]["pgbouncer_exporter"] is exporter
    assert pgha_monitoring.pgbouncer_here(cfg)
    points = pgha_monitoring.endpoints(cfg)
    assert ("pgbouncer" in points) is exporter
    mine = {"pg1": {"cluster_name": "main", "roles": ["postgresql"], "address": "10.0.0.11", "metrics": points}}
    jobs = [job["job_name"] for job in pgha_monitoring.scrape_configs(["main"], mine)]
    assert ("pgha-main-pgbouncer" in jobs) is exporter and "pgha-main-postgres" in jobs


def test_no_pgbouncer_no_exporter_nor_probe():
    cfg = settings(roles=["postgresql"], pgbouncer={"enabled": False}, monitoring=monitoring(pgbouncer_exporter=True))
    assert not pgha_monitoring.pgbouncer_here(cfg) and "pgbouncer" not in pgha_monitoring.endpoints(cfg)
    assert pgha_monitoring.pgbouncer_sockets(cfg) == []
    cfg = settings(roles=["postgresql"], pgbouncer={"enabled": True, "processes": 3}, monitoring=monitoring())
    assert pgha_monitoring.pgbouncer_sockets(cfg) == ["/var/run/postgresql", "/run/pgbouncer-2", "/run/pgbouncer-3"]
    assert not pgha_monitoring.pgbouncer_here(settings(roles=["etcd"], pgbouncer={"enabled": True}))


def test_waiting_clients_alert_reads_pgha_metrics():
    rules = {r["alert"]: r for r in pgha_monitoring.alert_rules({"pgbouncer_waiting_clients": 5,
                                                                 "lag_for": "2m", "member_down_for": "1m"})
             ["groups"][0]["rules"]}
    expr = rules["PghaPgBouncerClientsWaiting"]["expr"]
    assert expr == "sum by (cluster, member) (pgha_pgbouncer_clients_waiting) > 5"
    assert rules["PghaPgBouncerUnreachable"]["expr"] == "pgha_pgbouncer_up == 0"


def _metrics_module():
    import importlib.util  # pylint: disable=import-outside-toplevel
    spec = importlib.util.spec_from_file_location("pgha_metrics_job", REPO / "pgha/monitoring/files/pgha-metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PGB_CFG = {"textfile_dir": "", "vip": "", "certificates": [], "postgresql": False, "pgbouncer": True,
           "pgbouncer_sockets": ["/var/run/postgresql", "/run/pgbouncer-2"], "pgbouncer_port": 6432,
           "pgbouncer_user": "pgha_monitor", "pgbouncer_pgpass": "/etc/pgha/pgbouncer-exporter.pgpass",
           "psql": "/usr/lib/postgresql/15/bin/psql"}
# psql --csv of PgBouncer 1.18's SHOW POOLS (1.24 adds columns: they are read by name)
POOLS_118 = ("database,user,cl_active,cl_waiting,cl_cancel_req,sv_active,sv_idle,sv_used,sv_tested,"
             "sv_login,maxwait,maxwait_us,pool_mode\n"
             "appdb,app,20,7,0,20,0,0,0,0,2,500000,transaction\n"
             '"we,ird","us""er",1,0,0,1,0,0,0,0,0,0,session\n'
             "pgbouncer,pgbouncer,1,0,0,0,0,0,0,0,0,0,statement\n")


def test_pgha_metrics_reads_show_pools(tmp_path):
    """Each PgBouncer process' SHOW POOLS through psql: argv only, the password file by
    PGPASSFILE (never an argument), waiting clients and the oldest wait per pool, label values
    escaped; a process that does not answer is pgbouncer_up 0, not a crash of the job."""
    job = _metrics_module()
    calls = []

    def run(argv, user=None, env=None):
        calls.append((argv, user, env))
        return POOLS_118 if "/var/run/postgresql" in argv else None

    job.run = run
    samples = job.pgbouncer(PGB_CFG)
    argv, user, env = calls[0]
    assert argv == ["/usr/lib/postgresql/15/bin/psql", "-X", "-w", "--csv", "-P", "footer=off",
                    "-h", "/var/run/postgresql", "-p", "6432", "-U", "pgha_monitor", "-d", "pgbouncer",
                    "-c", "SHOW POOLS"]
    assert env["PGPASSFILE"] == "/etc/pgha/pgbouncer-exporter.pgpass" and user is None
    assert not any("password" in a.lower() for a in argv)
    assert ("pgha_pgbouncer_up", {"process": 1}, 1) in samples
    assert ("pgha_pgbouncer_up", {"process": 2}, 0) in samples
    waiting = {(l["database"], l["user"]): v for n, l, v in samples if n == "pgha_pgbouncer_clients_waiting"}
    assert waiting == {("appdb", "app"): 7, ("we,ird", 'us"er'): 0, ("pgbouncer", "pgbouncer"): 0}
    waits = {l["database"]: v for n, l, v in samples if n == "pgha_pgbouncer_max_wait_seconds"}
    assert waits["appdb"] == 2.5

    # the whole job: the textfile in node_exporter's format, label values escaped
    job.run = lambda argv, user=None, env=None: POOLS_118 if "/var/run/postgresql" in argv else None
    cfg = tmp_path / "metrics.json"
    cfg.write_text(json.dumps(dict(PGB_CFG, textfile_dir=str(tmp_path))))
    job.main(str(cfg))
    text = (tmp_path / "pgha.prom").read_text().splitlines()
    assert 'pgha_pgbouncer_clients_waiting{database="appdb",process="1",user="app"} 7' in text
    assert 'pgha_pgbouncer_clients_waiting{database="we,ird",process="1",user="us\\"er"} 0' in text
    assert 'pgha_pgbouncer_max_wait_seconds{database="appdb",process="1",user="app"} 2.5' in text
    assert 'pgha_pgbouncer_up{process="2"} 0' in text


def test_pgha_metrics_survives_a_missing_psql(tmp_path):
    """No psql, a timeout: pgbouncer_up 0 and the rest of the file still written."""
    job = _metrics_module()

    def boom(argv, user=None, env=None):
        raise subprocess.TimeoutExpired(argv, 30)

    job.run = boom
    cfg = tmp_path / "metrics.json"
    cfg.write_text(json.dumps(dict(PGB_CFG, textfile_dir=str(tmp_path), pgbouncer_sockets=["/nonexistent"])))
    job.main(str(cfg))
    text = (tmp_path / "pgha.prom").read_text().splitlines()
    assert 'pgha_pgbouncer_up{process="1"} 0' in text
    assert text[-1].startswith("pgha_metrics_last_run_timestamp_seconds ")


def test_pgbouncer_exporter_refused_on_debian12():
    """Set in pillar on Debian 12, before anything changes on a node: its exporter cannot work."""
    import pgha_validate  # pylint: disable=import-outside-toplevel
    pillar = {"cluster_name": "main", "roles": ["postgresql"], "pgbouncer": {"enabled": True,
              "auth_user": {"password": "pgb"}}, "monitoring": monitoring(pgbouncer_exporter=True)}
    problems = pgha_validate.check(pillar, _merged("Debian-12"), {"os_family": "Debian", "os": "Debian-12"})
    assert [p for p in problems if p.startswith("pgha:monitoring:pgbouncer_exporter: is true on Debian-12")], problems
    problems = pgha_validate.check(pillar, _merged("Debian-13"), {"os_family": "Debian", "os": "Debian-13"})
    assert not [p for p in problems if "pgbouncer_exporter" in p], problems


def _merged(osfinger):
    merged = {}
    for layer in _release(osfinger):
        merged = _deep_merge(merged, layer)
    return merged


def _deep_merge(base, more):
    out = copy.deepcopy(base)
    for key, value in more.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_conninfo_value_reads_back_as_libpq_splits_it():
    """The exporter's connection string: a plain word as it is; quotes and backslashes escaped
    the way libpq and lib/pq read them (not PgBouncer's doubled quote)."""
    import pgha_formats  # pylint: disable=import-outside-toplevel
    assert pgha_formats.conninfo_value("/var/run/postgresql") == "/var/run/postgresql"
    assert pgha_formats.conninfo_value("pgha_monitor") == "pgha_monitor"
    assert pgha_formats.conninfo_value("o'ne tw\\o") == "'o\\'ne tw\\\\o'"
    psycopg2_ext = pytest.importorskip("psycopg2.extensions")
    for value in ("o'ne tw\\o", "a b", "pgha_monitor"):
        assert psycopg2_ext.parse_dsn("host=/run user=" + pgha_formats.conninfo_value(value))["user"] == value
    with pytest.raises(ValueError):
        pgha_formats.conninfo_value("")
    with pytest.raises(ValueError, match="newline"):
        pgha_formats.conninfo_value("a\nb")
