{#- The DCS as this node needs it: an etcd member (configured, started, then checked healthy),
    or, on a database node of a cluster that uses an existing etcd (dcs_exists), only the check. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

{%- if 'etcd' in pgha.roles and not pgha.dcs_exists %}
include:
  - {{ tplroot }}.etcd
  - {{ tplroot }}.etcd.gate
{%-   if pgha.patroni.etcd.username %}
  - {{ tplroot }}.etcd.auth
{%-   endif %}
{%- elif 'postgresql' in pgha.roles %}
include:
  - {{ tplroot }}.etcd.gate
{%-   if pgha.tls.enabled %}
  {#- the CA and the client certificate the gate asks etcd with #}
  - {{ tplroot }}.postgresql.tls
{%-   endif %}
{%- else %}
pgha-dcs-not-used-here:
  test.nop:
    - name: no etcd role and no database here
{%- endif %}
