{#- PgBouncer where the cluster uses it (Type A), nothing elsewhere. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

{%- if pgha.pgbouncer.enabled %}
include:
  - {{ tplroot }}.pgbouncer
{%- else %}
pgha-pgbouncer-not-used:
  test.nop:
    - name: PgBouncer is not used (Type B)
{%- endif %}
