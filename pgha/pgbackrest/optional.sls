{#- pgBackRest where pillar enables it (pgha:pgbackrest:enabled), nothing elsewhere. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

{%- if pgha.pgbackrest.enabled %}
include:
  - {{ tplroot }}.pgbackrest
{%- else %}
pgha-pgbackrest-not-used:
  test.nop:
    - name: pgBackRest is not enabled (pgha:pgbackrest:enabled)
{%- endif %}
