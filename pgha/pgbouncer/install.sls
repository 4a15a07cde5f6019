{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

pgha-pgbouncer-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.pgbouncer | json }}
    - require:
      - sls: {{ tplroot }}.repo
