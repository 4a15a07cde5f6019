{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

pgha-monitor-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.monitor | json }}
    - require:
      - sls: {{ tplroot }}.repo
