{#- The firewall where pillar enables it (pgha:firewall:enabled), nothing elsewhere. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

{%- if pgha.firewall.enabled %}
include:
  - {{ tplroot }}.firewall
{%- else %}
pgha-firewall-not-used:
  test.nop:
    - name: no firewall is managed (pgha:firewall:enabled)
{%- endif %}
