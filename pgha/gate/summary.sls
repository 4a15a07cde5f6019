{#- The cluster table and connection string, reported as this state's comment. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-gate-cluster-summary:
  pgha_patroni.summary:
    - vip: {{ pgha.cluster_vip or '' }}
    - port: {{ pgha.postgresql.port }}
