{#- The key pair of the postgres user's services: PostgreSQL, Patroni (its REST API, and its
    etcd client), PgBouncer. Named for this minion, its address, the cluster VIP (clients
    verify it there: PostgreSQL in Type B, PgBouncer behind HAProxy in Type A), localhost and
    pgha:tls:extra_sans. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, members with context %}
{%- from tplroot ~ "/tls/pair.jinja" import key_pair with context %}
{%- set me = members.postgresql.get(grains.id) or salt['pgha.address']() %}
{%- set names = ['DNS:' ~ grains.id, 'IP:' ~ me] %}
{%- if pgha.cluster_vip %}
{%-   do names.append('IP:' ~ pgha.cluster_vip) %}
{%- endif %}
{%- do names.extend(['DNS:localhost', 'IP:127.0.0.1'] + pgha.tls.extra_sans) %}

include:
  - {{ tplroot }}.tls.ca
  - {{ tplroot }}.postgresql.install
{{ key_pair('postgres', pgha.users.postgres, names | unique | list, [{'sls': tplroot ~ '.postgresql.install'}]) }}
