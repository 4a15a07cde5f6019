{#- The key pair of this etcd member, for its clients and its peers alike: named for this
    minion, its address and localhost (etcd listens on 127.0.0.1 too). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, members with context %}
{%- from tplroot ~ "/tls/pair.jinja" import key_pair with context %}
{%- set me = members.etcd.get(grains.id) or salt['pgha.address']() %}

include:
  - {{ tplroot }}.tls.ca
  - {{ tplroot }}.etcd.install
{{ key_pair('etcd', pgha.users.etcd, ['DNS:' ~ grains.id, 'IP:' ~ me, 'DNS:localhost', 'IP:127.0.0.1'],
            [{'sls': tplroot ~ '.etcd.install'}]) }}
