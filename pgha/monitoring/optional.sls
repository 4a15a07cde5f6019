{#- The exporters where pgha:monitoring is on and this node has a role that exports, nothing
    elsewhere (pgha.deploy's step). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import components with context %}

{%- if 'monitoring' in components %}
include:
  - {{ tplroot }}.monitoring
{%- else %}
pgha-monitoring-not-used:
  test.nop:
    - name: pgha:monitoring is off, or this node exports nothing
{%- endif %}
