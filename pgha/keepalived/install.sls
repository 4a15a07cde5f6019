{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

pgha-keepalived-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.keepalived | json }}
    - require:
      - sls: {{ tplroot }}.repo
