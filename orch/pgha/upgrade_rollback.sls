{#- salt-run state.orch pgha.upgrade_rollback pillar='{"cluster": "NAME"}'
    Bring a cluster whose pgha.upgrade stopped before the new cluster first started back on
    its old major with its data: the old control file back (pg_upgrade --link renamed it),
    the new directories and packages removed, Patroni's configuration of the old major, the
    saved dynamic configuration, the primary then each replica started behind a health gate,
    PgBouncer resumed, the temporary SSH trust removed. Refused, with the reason, once the new
    cluster has started on any member: with --link the old data directory shares its files
    with the new one, which wrote to them. pgha.upgrade runs the same steps by itself when
    one of its steps fails before the start. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('upgrade_rollback') }}
