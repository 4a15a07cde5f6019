{#- WAL-G where pillar enables it (pgha:wal_g:enabled), nothing elsewhere. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

{%- if pgha.wal_g.enabled %}
include:
  - {{ tplroot }}.wal_g
{%- else %}
pgha-wal-g-not-used:
  test.nop:
    - name: WAL-G is not enabled (pgha:wal_g:enabled)
{%- endif %}
