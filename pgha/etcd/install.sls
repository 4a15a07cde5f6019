{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

pgha-etcd-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.etcd | json }}
    - require:
      - sls: {{ tplroot }}.repo
