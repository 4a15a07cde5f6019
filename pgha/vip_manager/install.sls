{#- Debian's vip-manager (1.0.2, etcd v2 API) by default, or an upstream >= 2 package
    (etcd v3 API) from pgha:vip_manager:pkg_source. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set vm = pgha.vip_manager %}

include:
  - {{ tplroot }}.repo

pgha-vip-manager-pkgs-installed:
  pkg.installed:
{%- if vm.pkg_source %}
    - sources:
      - vip-manager: {{ vm.pkg_source }}
{%-   if vm.pkg_source_hash %}
    - source_hash: {{ vm.pkg_source_hash }}
{%-   endif %}
{%- else %}
    - pkgs: {{ pgha.pkgs.vip_manager | json }}
{%- endif %}
    - require:
      - sls: {{ tplroot }}.repo
