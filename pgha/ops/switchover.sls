{#- Planned switchover (pillar pgha_ops:candidate, pgha_ops:away_from), gated on replication
    lag. Applied on one node by orch pgha.switchover and pgha.update. With PgBouncer and
    pgbouncer:switchover_pause, every database node's PgBouncer is paused around it (and always
    resumed): clients through port 6432 wait instead of failing. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, members with context %}
{%- set pause = pgha.pgbouncer.enabled and pgha.pgbouncer.switchover_pause %}

pgha-ops-switched-over:
{%- if pause %}
  pgha_pgbouncer.switched_over:
    - hosts: {{ members.postgresql | dictsort | map(attribute=1) | list | json }}
    - port: {{ pgha.pgbouncer.port }}
    - pause_timeout: {{ pgha.pgbouncer.pause_timeout }}
{%- else %}
  pgha_patroni.switched_over:
{%- endif %}
    - candidate: {{ salt['pillar.get']('pgha_ops:candidate', '') | json }}
    - away_from: {{ salt['pillar.get']('pgha_ops:away_from', '') | json }}
    - max_lag_bytes: {{ pgha.operations.max_replication_lag_bytes }}
    - timeout: {{ pgha.operations.restart_timeout }}
