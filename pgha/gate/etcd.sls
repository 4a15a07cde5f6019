{#- Gate: every etcd member this node will use is healthy (quorum). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import etcd_client_urls with context %}

pgha-gate-etcd-healthy:
  pgha_etcd.healthy:
    - endpoints: {{ etcd_client_urls | json }}
    - timeout: 90
    {#- after whatever else the same run deploys #}
    - order: last
