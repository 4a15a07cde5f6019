{#- Gate: HAProxy sends port 5000 to the one primary, and the VIP answers. The stats password
    is read from pillar on the minion (pgha_haproxy.servers), never passed here. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-gate-haproxy-ready:
  pgha_haproxy.ready:
    - vip: {{ pgha.cluster_vip or '' }}
    - master_port: {{ pgha.haproxy.ports.master }}
    - port: {{ pgha.haproxy.ports.stats }}
    - user: {{ pgha.haproxy.stats_user }}
    - timeout: 60
    - order: last
