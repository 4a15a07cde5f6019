{#- Remove etcd member pgha_ops:member from the cluster, asked of the members that stay.
    Refused (nothing changes) when those would have no quorum. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import members, etcd_scheme with context %}
{%- set leaving = salt['pillar.get']('pgha_ops:member', '') %}
{%- set endpoints = [] %}
{%- for name, address in members.etcd | dictsort if name != leaving %}
{%-   do endpoints.append('%s://%s:%s' % (etcd_scheme, address, pgha.etcd.client_port)) %}
{%- endfor %}

pgha-ops-etcd-member-removed:
  pgha_etcd.member_removed:
    - name: {{ leaving | json }}
    - endpoints: {{ endpoints | json }}
