{#- Every package this minion's roles need, in one batch: the orchestration installs them on
    all nodes in parallel before configuring anything. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo
  - {{ tplroot }}.system.install
{%- if pgha.firewall.enabled %}
  - {{ tplroot }}.firewall.install
{%- endif %}
{%- if 'etcd' in pgha.roles and not pgha.dcs_exists %}
  - {{ tplroot }}.etcd.install
{%- endif %}
{%- if 'postgresql' in pgha.roles %}
  - {{ tplroot }}.postgresql.install
  - {{ tplroot }}.patroni.install
{%-   if pgha.vip_manager.enabled %}
  - {{ tplroot }}.vip_manager.install
{%-   endif %}
{%-   if pgha.pgbouncer.enabled %}
  - {{ tplroot }}.pgbouncer.install
{%-   endif %}
{%-   if pgha.pgbackrest.enabled %}
  - {{ tplroot }}.pgbackrest.install
{%-   endif %}
{%-   if pgha.wal_g.enabled %}
  - {{ tplroot }}.wal_g.install
{%-   endif %}
{%- endif %}
{%- if 'pgbackrest' in pgha.roles %}
  - {{ tplroot }}.pgbackrest.install
{%- endif %}
{%- if 'balancer' in pgha.roles %}
  - {{ tplroot }}.haproxy.install
  - {{ tplroot }}.keepalived.install
{%- endif %}
