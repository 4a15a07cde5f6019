{#- Gate: the VIP is on the leader and on no other node. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

{%- if pgha.vip_manager.enabled %}
pgha-gate-vip-ready:
  pgha_patroni.vip_ready:
    - name: {{ pgha.cluster_vip }}
    - timeout: 60
    {#- after whatever else the same run deploys #}
    - order: last
{%- else %}
pgha-gate-vip-none:
  test.nop:
    - name: no vip-manager VIP in this cluster
{%- endif %}
