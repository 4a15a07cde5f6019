{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

pgha-pgbackrest-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.pgbackrest | json }}
    - require:
      - sls: {{ tplroot }}.repo
