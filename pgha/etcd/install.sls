{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

pgha-etcd-pkgs-installed:
  pkg.installed:
    {#- a pin (issue 23) names its version: pgha_patroni_features.pinned_pkgs #}
    - pkgs: {{ pgha.pinned_pkgs.etcd | json }}
    - require:
      - sls: {{ tplroot }}.repo
