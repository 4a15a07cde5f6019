{#- salt-run state.orch pgha.remove pillar='{"confirm_remove": "NAME", "remove_postgres": true,
        "remove_etcd": true}'
    Removes cluster NAME (cluster: NAME picks it as usual). Refused unless pillar
    confirm_remove names the cluster: a pillar or command copied from another environment
    names another cluster. What goes is chosen, and nothing by default:
    - remove_postgres: Patroni and PostgreSQL stop (replicas first, so no failover), then
      vip-manager, PgBouncer, HAProxy, keepalived; the cluster leaves the DCS; pgha's config
      files go;
    - remove_etcd: the cluster's etcd members stop (not with dcs_exists);
    - remove_data: the data directories of what is removed are deleted (PostgreSQL, WAL,
      etcd); without it they stay;
    - remove_stanza: the pgBackRest stanza and its backups are deleted.
    Packages stay installed. Other clusters' minions are never targeted. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('remove') }}
