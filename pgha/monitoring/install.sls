{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set points = salt['pgha_monitoring.endpoints']() %}
{%- set pkgs = [] %}
{%- for kind in ['node', 'postgres', 'pgbouncer'] if kind in points %}
{%-   do pkgs.extend(pgha.pkgs[kind ~ '_exporter']) %}
{%- endfor %}

include:
  - {{ tplroot }}.repo

{#- Debian's exporter packages start their service on install: with the default (empty)
    settings until config.sls writes pgha's, which service.sls then applies. #}
pgha-monitoring-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pkgs | json }}
    - require:
      - sls: {{ tplroot }}.repo
