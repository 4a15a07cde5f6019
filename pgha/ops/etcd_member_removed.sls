{#- Remove etcd member pgha_ops:member from the cluster, asked of the members that stay.
    Refused (nothing changes) when those would have no quorum. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import members with context %}
{%- set leaving = salt['pillar.get']('pgha_ops:member', '') %}
{%- set endpoints = [] %}
{%- for name, address in members.etcd | dictsort if name != leaving %}
{%-   do endpoints.append('http://%s:%s' % (address, pgha.etcd.client_port)) %}
{%- endfor %}

pgha-ops-etcd-member-removed:
  pgha_etcd.member_removed:
    - name: {{ leaving | json }}
    - endpoints: {{ endpoints | json }}
