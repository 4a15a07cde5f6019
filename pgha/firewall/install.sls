{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

pgha-firewall-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.firewall | json }}
    - require:
      - sls: {{ tplroot }}.repo
