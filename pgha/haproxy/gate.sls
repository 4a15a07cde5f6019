{#- Gate: HAProxy sends port 5000 to the one primary, and the VIP answers. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-gate-haproxy-ready:
  pgha_haproxy.ready:
    - vip: {{ pgha.cluster_vip or '' }}
    - master_port: {{ pgha.haproxy.ports.master }}
    - port: {{ pgha.haproxy.ports.stats }}
    - user: {{ pgha.haproxy.stats_user }}
    - password: {{ pgha.haproxy.stats_password | json }}
    - timeout: 60
    - order: last
