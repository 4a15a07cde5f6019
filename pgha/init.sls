{#- Highstate entry point: the components of this minion's roles. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  {#- the host first: kernel settings, limits and locales before any service starts #}
  - {{ tplroot }}.system
  - {{ tplroot }}.repo
{%- if pgha.firewall.enabled %}
  - {{ tplroot }}.firewall
{%- endif %}
{%- if 'etcd' in pgha.roles and not pgha.dcs_exists %}
  - {{ tplroot }}.etcd
{%- endif %}
{%- if 'postgresql' in pgha.roles %}
  - {{ tplroot }}.postgresql
{#-   backups before Patroni: a replica (or a new cluster) may be restored from them #}
{%-   if pgha.pgbackrest.enabled %}
  - {{ tplroot }}.pgbackrest
{%-   endif %}
{%-   if pgha.wal_g.enabled %}
  - {{ tplroot }}.wal_g
{%-   endif %}
  - {{ tplroot }}.patroni
{%-   if pgha.vip_manager.enabled %}
  - {{ tplroot }}.vip_manager
{%-   endif %}
{%-   if pgha.pgbouncer.enabled %}
  - {{ tplroot }}.pgbouncer
{%-   endif %}
{%- endif %}
{%- if 'balancer' in pgha.roles %}
  - {{ tplroot }}.balancer
{%- endif %}
{%- if 'pgbackrest' in pgha.roles %}
  - {{ tplroot }}.pgbackrest
{%- endif %}
