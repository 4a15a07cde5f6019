"""
pgha's monitoring on a minion (issue 24, docs/monitoring.md): what the states write, from the
utils module ``pgha_monitoring`` (pure Python) and this minion's settings
(``pgha_settings.render``): its metrics endpoints, and on a monitor the Prometheus and
Alertmanager configuration, built from the mine of the clusters it scrapes. Nothing here
returns a password.
"""
import salt.utils.yaml

__virtualname__ = "pgha_monitoring"


def __virtual__():
    if "pgha_monitoring.endpoints" in __utils__ and "pgha_derive.settings" in __utils__:
        return __virtualname__
    return (False, "pgha's utils modules are not synced (run saltutil.sync_all)")


def _settings(tplroot):
    return __salt__["pgha_settings.render"](tplroot)["pgha"]


def endpoints(tplroot="pgha"):
    """
    This minion's metrics endpoints, ``{exporter: {port, scheme, path}}`` (what it publishes
    in the mine with its membership); {} without pgha:monitoring or a role that exports.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_monitoring.endpoints
    """
    return __utils__["pgha_monitoring.endpoints"](_settings(tplroot))


def pgbouncer_sockets(tplroot="pgha"):
    """
    The socket directories of this minion's PgBouncer processes, which pgha-metrics reads
    SHOW POOLS through (the waiting-clients alert); [] where PgBouncer does not run.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_monitoring.pgbouncer_sockets
    """
    return __utils__["pgha_monitoring.pgbouncer_sockets"](_settings(tplroot))


def clusters(tplroot="pgha"):
    """
    The clusters this monitor scrapes: its own (pgha:cluster_name) and
    pgha:monitoring:clusters.

    CLI Example:

    .. code-block:: bash

        salt mon1 pgha_monitoring.clusters
    """
    cfg = _settings(tplroot)
    return sorted({cfg["cluster_name"], *map(str, cfg["monitoring"].get("clusters") or [])})


def _dump(data):
    return salt.utils.yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


def prometheus_yml(ca_file="", tplroot="pgha"):
    """
    prometheus.yml for this monitor, as text: scrape jobs from the mine (``pgha_member`` of
    every minion, read once), labelled cluster, member, role and exporter; the rule files;
    Alertmanager on this minion. ``ca_file``: the CA that verifies this minion's own cluster's
    https endpoints (pgha:tls), '' for none.

    CLI Example:

    .. code-block:: bash

        salt mon1 pgha_monitoring.prometheus_yml
    """
    cfg = _settings(tplroot)
    mon, paths = cfg["monitoring"], cfg["paths"]
    mine = __salt__["mine.get"]("*", "pgha_member") or {}
    rule_files = [f"{paths['prometheus_rules_dir']}/pgha-alerts.yml", f"{paths['prometheus_rules_dir']}/pgha-records.yml"]
    own = {"prometheus": [f"127.0.0.1:{mon['ports']['prometheus']}"],
           "alertmanager": [f"127.0.0.1:{mon['ports']['alertmanager']}"]}
    ca_files = {cfg["cluster_name"]: ca_file} if ca_file else {}
    return _dump(__utils__["pgha_monitoring.prometheus_config"](clusters(tplroot), mine, mon, rule_files, own,
                                                                ca_files))


def alert_rules_yml(tplroot="pgha"):
    """
    The alert rule file, as text, with the thresholds of pgha:monitoring:alerts.

    CLI Example:

    .. code-block:: bash

        salt mon1 pgha_monitoring.alert_rules_yml
    """
    cfg = _settings(tplroot)
    return _dump(__utils__["pgha_monitoring.alert_rules"](cfg["monitoring"]["alerts"]))


def recording_rules_yml():
    """
    The recording rule file, as text.

    CLI Example:

    .. code-block:: bash

        salt mon1 pgha_monitoring.recording_rules_yml
    """
    return _dump(__utils__["pgha_monitoring.recording_rules"]())


def alertmanager_yml(tplroot="pgha"):
    """
    alertmanager.yml, as text.

    CLI Example:

    .. code-block:: bash

        salt mon1 pgha_monitoring.alertmanager_yml
    """
    return _dump(__utils__["pgha_monitoring.alertmanager_config"](_settings(tplroot)["monitoring"]))


def graph_links(base_url="", tplroot="pgha"):
    """
    ``{cluster: [[title, url]]}``: the saved graphs of each cluster this monitor scrapes
    (Prometheus' /graph links). ``base_url`` defaults to this minion's address and port.

    CLI Example:

    .. code-block:: bash

        salt mon1 pgha_monitoring.graph_links
    """
    cfg = _settings(tplroot)
    if not base_url:
        base_url = f"http://{__salt__['pgha.address']()}:{cfg['monitoring']['ports']['prometheus']}"
    return {name: [list(item) for item in items]
            for name, items in __utils__["pgha_monitoring.graph_links"](base_url, clusters(tplroot)).items()}
