{#- vip-manager where the cluster uses it (Type B with a cluster_vip), nothing elsewhere. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

{%- if pgha.vip_manager.enabled %}
include:
  - {{ tplroot }}.vip_manager
{%- else %}
pgha-vip-manager-not-used:
  test.nop:
    - name: vip-manager is not used (Type A, or no cluster_vip)
{%- endif %}
