"""
pgha's monitoring (pgha:monitoring), pure Python (no ``__salt__``): what each node publishes
about its metrics endpoints, the scrape configuration a monitor builds from the mine, the alert
and recording rules with their thresholds, and the saved graph links per cluster. The states
(pgha/monitoring, pgha/prometheus) write what these functions return; the unit tests read it back
with Prometheus' own ``promtool``.

Targets carry three labels besides Prometheus' own: ``cluster`` (pgha:cluster_name), ``member``
(the minion id, the same on every exporter of a node, so that rules join on it) and ``role``
(the node's pgha roles, comma-separated). ``exporter`` names the kind of endpoint, so that rules
never depend on a job's name.
"""
import urllib.parse

# The roles whose nodes run exporters when pgha:monitoring:enabled.
EXPORTER_ROLES = ("postgresql", "etcd", "balancer", "pgbackrest")
# Where the textfile job (pgha-metrics) writes; node_exporter reads *.prom there.
PROM_FILE = "pgha.prom"


def _enabled(value, fallback):
    return fallback if value == "auto" else value is True


def pgbouncer_here(cfg):
    """Whether the node whose merged settings are ``cfg`` runs PgBouncer (a database node with
    pgbouncer:enabled, 'auto' following with_haproxy_load_balancing): pgha-metrics then reads
    its SHOW POOLS, whether or not this release runs PgBouncer's exporter
    (monitoring:pgbouncer_exporter, parameters/osfinger)."""
    roles = cfg.get("roles") if isinstance(cfg.get("roles"), list) else []
    pgb = cfg.get("pgbouncer") or {}
    return "postgresql" in roles and _enabled(pgb.get("enabled"), cfg.get("with_haproxy_load_balancing") is True)


def pgbouncer_sockets(cfg):
    """The socket directories of this node's PgBouncer processes, the one pgha-metrics reads
    SHOW POOLS through: process 1 in paths:run_dir, processes 2..N (pgbouncer:processes) in
    /run/pgbouncer-N as pgbouncer.ini.jinja writes them; [] where PgBouncer does not run."""
    if not pgbouncer_here(cfg):
        return []
    count = (cfg.get("pgbouncer") or {}).get("processes") or 1
    return [(cfg.get("paths") or {}).get("run_dir")] + [f"/run/pgbouncer-{n}" for n in range(2, int(count) + 1)]


def endpoints(cfg):
    """
    ``{exporter: {"port", "scheme", "path"}}``: the metrics endpoints of the node whose merged
    settings are ``cfg`` (defaults + pillar), by its roles; {} when monitoring is off or the
    node has no role that exports. Published in the mine with the node's membership, so that a
    monitor builds its targets without reading another cluster's pillar.
    """
    mon = cfg.get("monitoring") or {}
    roles = cfg.get("roles") if isinstance(cfg.get("roles"), list) else []
    if mon.get("enabled") is not True or not set(roles) & set(EXPORTER_ROLES):
        return {}
    ports = mon.get("ports") or {}
    tls = (cfg.get("tls") or {}).get("enabled") is True
    found = {"node": {"port": ports.get("node_exporter"), "scheme": "http", "path": "/metrics"}}
    if "postgresql" in roles:
        found["postgres"] = {"port": ports.get("postgres_exporter"), "scheme": "http", "path": "/metrics"}
        found["patroni"] = {"port": ((cfg.get("patroni") or {}).get("restapi") or {}).get("port"),
                            "scheme": "https" if tls else "http", "path": "/metrics"}
        if pgbouncer_here(cfg) and mon.get("pgbouncer_exporter") is True:
            found["pgbouncer"] = {"port": ports.get("pgbouncer_exporter"), "scheme": "http", "path": "/metrics"}
    if "etcd" in roles and not cfg.get("dcs_exists"):
        # etcd's own plain-HTTP metrics listener: the client port may require a client certificate
        found["etcd"] = {"port": ports.get("etcd_metrics"), "scheme": "http", "path": "/metrics"}
    if "balancer" in roles:
        found["haproxy"] = {"port": ports.get("haproxy_exporter"), "scheme": "http", "path": "/metrics"}
    return found


def monitored_clusters(entry):
    """The clusters a monitor's mine entry watches: its own, and pgha:monitoring:clusters."""
    names = [entry.get("cluster_name")] + list(entry.get("monitors") or [])
    return sorted({name for name in names if isinstance(name, str) and name})


def monitors_of(cluster_name, mine):
    """``{minion: address}`` of the monitors that scrape cluster ``cluster_name``: minions with
    the monitor role whose own cluster it is or whose pgha:monitoring:clusters name it
    (exactly). The cluster's firewall opens the exporter ports to them alone."""
    found = {}
    for minion, entry in sorted((mine or {}).items()):
        if isinstance(entry, dict) and "monitor" in (entry.get("roles") or []) \
                and cluster_name in monitored_clusters(entry):
            found[minion] = entry.get("address")
    return found


def _target(address, port):
    host = f"[{address}]" if ":" in str(address) else str(address)
    return f"{host}:{port}"


def scrape_configs(clusters, mine, ca_files=None):
    """
    Prometheus' ``scrape_configs`` for ``clusters`` (names), from ``mine`` (``{minion:
    pgha_member entry}``: cluster_name, roles, address, metrics). One job per cluster and kind
    of exporter (``pgha-<cluster>-<exporter>``), each target labelled cluster, member, role
    and exporter. ``ca_files`` maps a cluster to the CA file its https endpoints (Patroni
    with pgha:tls) are verified with; without one the certificate is not verified (a shared
    monitor does not hold other clusters' CAs) and the docs say so.
    """
    ca_files = ca_files or {}
    jobs = {}
    for minion, entry in sorted((mine or {}).items()):
        if not isinstance(entry, dict) or entry.get("cluster_name") not in clusters or not entry.get("address"):
            continue
        cluster = entry["cluster_name"]
        role = ",".join(sorted(r for r in entry.get("roles") or [] if r in EXPORTER_ROLES))
        for exporter, point in sorted((entry.get("metrics") or {}).items()):
            if not isinstance(point, dict) or not point.get("port"):
                continue
            name = f"pgha-{cluster}-{exporter}"
            job = jobs.setdefault(name, {"job_name": name, "scheme": point.get("scheme", "http"),
                                         "metrics_path": point.get("path", "/metrics"), "static_configs": []})
            if job["scheme"] == "https":
                job["tls_config"] = ({"ca_file": ca_files[cluster], "insecure_skip_verify": False}
                                     if cluster in ca_files else {"insecure_skip_verify": True})
            job["static_configs"].append({"targets": [_target(entry["address"], point["port"])],
                                          "labels": {"cluster": cluster, "member": str(minion),
                                                     "role": role, "exporter": exporter}})
    return [jobs[name] for name in sorted(jobs)]


def prometheus_config(clusters, mine, mon, rule_files, self_targets, ca_files=None):
    """The whole prometheus.yml as a dict: global intervals from ``mon`` (pgha:monitoring),
    the rule files, Alertmanager(s) at ``self_targets['alertmanager']``, Prometheus' and
    Alertmanager's own metrics, and :py:func:`scrape_configs`."""
    own = [{"job_name": "pgha-monitor-" + kind, "static_configs": [{"targets": list(targets),
                                                                      "labels": {"exporter": kind}}]}
           for kind, targets in sorted(self_targets.items())]
    return {
        "global": {"scrape_interval": mon["scrape_interval"], "evaluation_interval": mon["evaluation_interval"],
                   "external_labels": {"monitor": "pgha"}},
        "rule_files": list(rule_files),
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": list(self_targets["alertmanager"])}]}]},
        "scrape_configs": own + scrape_configs(clusters, mine, ca_files),
    }


# -- rules ---------------------------------------------------------------------------------------
# (name, expression, for, severity, summary). {threshold names} are pgha:monitoring:alerts keys.
ALERTS = [
    ("PghaNoLeader",
     "sum by (cluster) (patroni_primary) < 1 or max by (cluster) (patroni_cluster_unlocked) == 1",
     "{no_leader_for}", "critical", "cluster {{ $labels.cluster }} has no leader"),
    ("PghaLeaderChanged", "changes(pgha:cluster_timeline[{leader_change_window}]) > 0",
     "0s", "warning", "the leader of cluster {{ $labels.cluster }} changed (timeline {{ $value }} change(s))"),
    ("PghaMemberDown", 'up{exporter="patroni"} == 0',
     "{member_down_for}", "critical", "Patroni on {{ $labels.member }} ({{ $labels.cluster }}) does not answer"),
    ("PghaMemberNotStreaming",
     "(patroni_primary == 0 and patroni_postgres_running == 0) or pgha_replica_streaming == 0",
     "{member_down_for}", "critical",
     "{{ $labels.member }} ({{ $labels.cluster }}) is a replica that does not stream from the leader"),
    ("PghaReplicationLag", "pgha:replication_lag_bytes > {replication_lag_bytes}",
     "{lag_for}", "warning", "{{ $labels.member }} ({{ $labels.cluster }}) lags {{ $value | humanize1024 }}B"),
    ("PghaSlotRetainsWAL", "pgha_replication_slot_retained_bytes > {slot_retained_bytes}",
     "{lag_for}", "warning",
     "slot {{ $labels.slot }} on {{ $labels.member }} ({{ $labels.cluster }}) holds {{ $value | humanize1024 }}B of WAL"),
    ("PghaPausedTooLong", "max by (cluster) (patroni_is_paused) == 1",
     "{paused_for}", "warning", "cluster {{ $labels.cluster }} is in maintenance mode (paused): no failover"),
    ("PghaPendingRestart", "patroni_pending_restart == 1",
     "{pending_restart_for}", "info", "{{ $labels.member }} ({{ $labels.cluster }}) waits for a restart"),
    ("PghaEtcdMemberDown", 'up{exporter="etcd"} == 0 or etcd_server_has_leader == 0',
     "{member_down_for}", "critical", "etcd on {{ $labels.member }} ({{ $labels.cluster }}) is down or has no leader"),
    ("PghaEtcdNoQuorum",
     'sum by (cluster) (up{exporter="etcd"}) < on (cluster) (floor(count by (cluster) (up{exporter="etcd"}) / 2) + 1)',
     "{no_leader_for}", "critical", "etcd of cluster {{ $labels.cluster }} has no quorum"),
    ("PghaHAProxyBackendDown", 'haproxy_backend_active_servers{proxy!="stats"} == 0',
     "{member_down_for}", "critical",
     "HAProxy on {{ $labels.member }} ({{ $labels.cluster }}) has no server up behind {{ $labels.proxy }}"),
    ("PghaVIPMissing", "sum by (cluster) (pgha_vip_present) < 1",
     "{member_down_for}", "critical", "no node of cluster {{ $labels.cluster }} holds the VIP"),
    # pgha-metrics' SHOW POOLS, not an exporter's metric: Debian 12 runs no PgBouncer exporter
    ("PghaPgBouncerClientsWaiting",
     "sum by (cluster, member) (pgha_pgbouncer_clients_waiting) > {pgbouncer_waiting_clients}",
     "{lag_for}", "warning", "{{ $value }} PgBouncer client(s) wait for a server on {{ $labels.member }}"),
    ("PghaBackupTooOld",
     "time() - max by (cluster) (pgha_backup_last_completion_timestamp_seconds) > {backup_age_hours} * 3600",
     "0s", "warning", "the newest backup of cluster {{ $labels.cluster }} is {{ $value | humanizeDuration }} old"),
    ("PghaWALArchivingFailing", "max by (cluster, member) (pgha_wal_archive_failing) == 1",
     "{lag_for}", "critical", "WAL archiving fails on {{ $labels.member }} ({{ $labels.cluster }})"),
    ("PghaDiskNearlyFull",
     '100 * node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs|overlay"} / '
     'node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|squashfs|overlay"} < {disk_free_percent}',
     "{lag_for}", "warning", "{{ $labels.mountpoint }} on {{ $labels.member }} has {{ $value | printf \"%.0f\" }}% free"),
    ("PghaCertificateExpiresSoon", "pgha_certificate_expiry_seconds < {cert_days} * 86400",
     "0s", "warning", "{{ $labels.file }} on {{ $labels.member }} expires in {{ $value | humanizeDuration }}"),
    ("PghaExporterDown", 'up{exporter=~"node|postgres|pgbouncer|haproxy"} == 0',
     "{member_down_for}", "warning", "the {{ $labels.exporter }} exporter on {{ $labels.member }} does not answer"),
    ("PghaPgBouncerUnreachable", "pgha_pgbouncer_up == 0",
     "{member_down_for}", "warning", "pgha-metrics cannot read PgBouncer's SHOW POOLS on {{ $labels.member }}"),
    ("PghaTextfileStale", "time() - pgha_metrics_last_run_timestamp_seconds > 600",
     "0s", "warning", "pgha-metrics has not run on {{ $labels.member }} for 10 minutes"),
]

# Recording rules: the series the saved graphs and some alerts read.
RECORDS = [
    ("pgha:member_is_leader", "max by (cluster, member) (patroni_primary)"),
    ("pgha:cluster_timeline", "max by (cluster) (patroni_postgres_timeline)"),
    ("pgha:replication_lag_bytes",
     "max by (cluster) (patroni_xlog_location) - on (cluster) group_right () "
     "max by (cluster, member) (patroni_xlog_replayed_location and on (cluster, member) patroni_replica == 1)"),
    ("pgha:tps", "sum by (cluster, member) (rate(pg_stat_database_xact_commit[1m]) + "
                 "rate(pg_stat_database_xact_rollback[1m])) and on (cluster, member) patroni_primary == 1"),
    ("pgha:connections", "sum by (cluster, member) (pg_stat_activity_count)"),
    ("pgha:etcd_members_up", 'sum by (cluster) (up{exporter="etcd"})'),
]

# The saved graphs per cluster (Prometheus' /graph links): title, expression.
GRAPHS = [
    ("Leader and role timeline", 'pgha:member_is_leader{cluster="%s"}'),
    ("Replication lag (bytes)", 'pgha:replication_lag_bytes{cluster="%s"}'),
    ("Transactions per second (leader)", 'pgha:tps{cluster="%s"}'),
    ("Connections", 'pgha:connections{cluster="%s"}'),
    ("etcd members up", 'pgha:etcd_members_up{cluster="%s"}'),
]


def _fill(text, thresholds):
    out = text
    for key, value in thresholds.items():
        out = out.replace("{" + key + "}", str(value))
    return out


def alert_rules(thresholds, runbook_url=""):
    """The alert rule file (a dict, Prometheus' rule file format) with ``thresholds``
    (pgha:monitoring:alerts) filled in; each alert's ``runbook`` annotation points at its line
    in docs/monitoring.md."""
    rules = []
    for name, expr, hold, severity, summary in ALERTS:
        rule = {"alert": name, "expr": _fill(expr, thresholds), "for": _fill(hold, thresholds),
                "labels": {"severity": severity},
                "annotations": {"summary": summary,
                                "runbook": f"{runbook_url}#{name.lower()}" if runbook_url else name.lower()}}
        rules.append(rule)
    return {"groups": [{"name": "pgha-alerts", "rules": rules}]}


def recording_rules():
    """The recording rule file (a dict)."""
    return {"groups": [{"name": "pgha-records", "rules": [{"record": name, "expr": expr}
                                                          for name, expr in RECORDS]}]}


def graph_links(base_url, clusters, range_input="1h"):
    """``{cluster: [(title, url)]}``: Prometheus /graph links of GRAPHS for each cluster."""
    links = {}
    for cluster in clusters:
        items = []
        for title, expr in GRAPHS:
            query = urllib.parse.urlencode({"g0.expr": expr % cluster, "g0.tab": "0",
                                            "g0.range_input": range_input})
            items.append((title, f"{base_url.rstrip('/')}/graph?{query}"))
        links[cluster] = items
    return links


def alertmanager_config(mon):
    """Alertmanager's configuration: one route, grouped by cluster and alert, to a receiver
    with no integration by default (the alerts are in its API and UI); pgha:monitoring:
    alertmanager:webhook_url adds a webhook (a chat bridge, a pager)."""
    receiver = {"name": "pgha"}
    hook = (mon.get("alertmanager") or {}).get("webhook_url")
    if hook:
        receiver["webhook_configs"] = [{"url": hook, "send_resolved": True}]
    return {"route": {"receiver": "pgha", "group_by": ["cluster", "alertname"], "group_wait": "10s",
                      "group_interval": "1m", "repeat_interval": "4h"},
            "receivers": [receiver]}
