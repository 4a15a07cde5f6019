{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

pgha-haproxy-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.haproxy | json }}
    - require:
      - sls: {{ tplroot }}.repo
