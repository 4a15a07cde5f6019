{#- Planned switchover (pillar pgha_ops:candidate, pgha_ops:away_from), gated on replication
    lag. Applied on one node by orch pgha.switchover and pgha.update. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-ops-switched-over:
  pgha_patroni.switched_over:
    - candidate: {{ salt['pillar.get']('pgha_ops:candidate', '') | json }}
    - away_from: {{ salt['pillar.get']('pgha_ops:away_from', '') | json }}
    - max_lag_bytes: {{ pgha.operations.max_replication_lag_bytes }}
    - timeout: {{ pgha.operations.restart_timeout }}
