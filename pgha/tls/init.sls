{#- TLS of this minion's roles (pgha:tls:enabled): the cluster CA's certificate, and the key
    pairs of the services it runs. The components include what they need themselves; this
    is for making the certificates first (pgha.add_node, before a member joins etcd). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.tls.ca
{%- if 'postgresql' in pgha.roles %}
  - {{ tplroot }}.postgresql.tls
{%- endif %}
{%- if 'etcd' in pgha.roles and not pgha.dcs_exists %}
  - {{ tplroot }}.etcd.tls
{%- endif %}
