{#- salt-run state.orch pgha.upgrade pillar='{"cluster": "NAME", "to": 18}'
    PostgreSQL major upgrade of a running cluster with pg_upgrade --link (issue 19;
    docs/operations.md, Major upgrade). Before anything changes: the pre-checks (salt-run
    pgha.upgrade_check: packages, disk, replication, lag, long and prepared transactions,
    extensions, standby clusters, paths, parameters), each failure with what to do. Then: the
    new major's packages on every member, initdb of the new cluster (same encoding, locale,
    checksums) and pg_upgrade --check on the primary; Patroni paused and PgBouncer's pools
    paused; the primary stopped first, then the replicas, their checkpoint locations
    compared; pg_upgrade --link on the primary, the replicas brought along with rsync
    --hard-links --size-only (pg_upgrade's documented procedure, over a temporary SSH key);
    Patroni's configuration moved to the new major, the cluster's DCS state reset (a new
    system identifier) and its saved dynamic configuration re-applied; the primary started,
    then each replica behind a health gate; PgBouncer resumed; statistics, ALTER EXTENSION
    UPDATE, pgBackRest's stanza-upgrade and a full backup. A failure before the new cluster
    first starts rolls back automatically; afterwards it cannot (pg_upgrade --link). Then
    set pillar pgha:postgresql:version to the new major. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('upgrade') }}
