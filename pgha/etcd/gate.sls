{#- Gate: every etcd member this node will use is healthy (quorum). A node joining a running
    cluster (pillar pgha_etcd:join) checks that cluster's members and itself: minions that
    have the pillar but are not added yet are not members. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import members, etcd_client_urls, etcd_scheme with context %}
{%- set endpoints = etcd_client_urls %}
{%- if salt['pillar.get']('pgha_etcd:join', False) and not pgha.dcs_exists %}
{%-   set endpoints = [] %}
{%-   for member in salt['pgha_etcd.members'](etcd_client_urls) %}
{%-     do endpoints.extend(member.client_urls | reject('in', endpoints) | list) %}
{%-   endfor %}
{%-   if grains.id in members.etcd %}
{%-     set mine = '%s://%s:%s' % (etcd_scheme, members.etcd[grains.id], pgha.etcd.client_port) %}
{%-     do endpoints.append(mine) if mine not in endpoints else None %}
{%-   endif %}
{%- endif %}

pgha-gate-etcd-healthy:
  pgha_etcd.healthy:
    - endpoints: {{ endpoints | json }}
    - timeout: 90
    {#- after whatever else the same run deploys #}
    - order: last
