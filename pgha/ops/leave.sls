{#- Take this node out of service before pgha.remove_node forgets it: Patroni stops (and
    PostgreSQL with it: a replica by now, the orchestration moved leadership away), then
    vip-manager, PgBouncer (and pgbouncer@N of pgbouncer:processes), HAProxy, keepalived, and etcd
    after it left the etcd cluster.
    Data directories stay: nothing is deleted but the etcd member's own data, which etcd
    cannot reuse once the member is removed, and only when it is no system directory
    (pgha_removal.refusals; the validator refuses such a path before, this is the second belt). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set services = [] %}
{%- if 'postgresql' in pgha.roles %}
{%-   do services.extend([pgha.services.patroni, pgha.services.vip_manager, pgha.services.pgbouncer]) %}
{%-   for n in range(2, pgha.pgbouncer.processes + 1) %}{% do services.append(pgha.services.pgbouncer ~ '@' ~ n) %}{% endfor %}
{%- endif %}
{%- if 'balancer' in pgha.roles %}
{%-   do services.extend([pgha.services.keepalived, pgha.services.haproxy]) %}
{%- endif %}
{%- if 'etcd' in pgha.roles and salt['pillar.get']('pgha_ops:etcd_removed', False) %}
{%-   do services.append(pgha.services.etcd) %}
{%- endif %}

{%- if 'postgresql' in pgha.roles %}

{#- the schedule of pgha.patroni.etcd_leader_apart: this node leaves the cluster #}
pgha-ops-leave-etcd-leader-apart-absent:
  schedule.absent:
    - name: pgha-etcd-leader-apart
{%- endif %}

{%- for service in services %}
pgha-ops-leave-{{ service }}-dead:
  service.dead:
    - name: {{ service }}
    - enable: false
{%- endfor %}

{%- set refusals = salt['pgha_removal.refusals'](pgha.cluster_name, [], delete=[pgha.etcd.data_dir])
                   if pgha.services.etcd in services else [] %}
{%- if refusals %}
pgha-ops-leave-etcd-data-refused:
  test.fail_without_changes:
    - name: the etcd data directory stays (nothing was deleted)
    - comment: {{ refusals | join('\n') | json }}
{%- elif pgha.services.etcd in services %}
pgha-ops-leave-etcd-data-absent:
  file.absent:
    - name: {{ pgha.etcd.data_dir }}
    - require:
      - service: pgha-ops-leave-{{ pgha.services.etcd }}-dead
{%- endif %}
{%- if not services %}
pgha-ops-leave-nothing:
  test.nop:
    - name: no pgha service on this node
{%- endif %}
