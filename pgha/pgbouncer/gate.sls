{#- Gate: PgBouncer answers on its port (its admin console's SHOW VERSION), where it runs. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

{%- if pgha.pgbouncer.enabled %}
pgha-pgbouncer-gate-ready:
  pgha_pgbouncer.ready:
    - port: {{ pgha.pgbouncer.port }}
    - timeout: 60
    {#- after whatever else the same run deploys #}
    - order: last
{%- else %}
pgha-pgbouncer-gate-none:
  test.nop:
    - name: PgBouncer is not used in this cluster
{%- endif %}
