{#- One stage of pgha.remove on this node (pillar pgha_ops: stage, remove_data, and the
    confirmation confirm_remove, which must be this node's own pgha:cluster_name):
    - postgres: Patroni (and PostgreSQL with it), vip-manager, PgBouncer, HAProxy and
      keepalived stop and are disabled; pgha's configuration files go; with remove_data the
      PostgreSQL data directory (and WAL directory) too;
    - forget: the cluster leaves the DCS (once Patroni is stopped everywhere; pgha.restore
      uses it too, with confirm_restore);
    - etcd: etcd stops and is disabled, not while Patroni still runs here or its configuration
      exists; with remove_data its data directory goes.
    The orchestration checked the confirmation already; the node checks it again
    (pgha_removal.refusals), and that no directory it would delete is or contains a system
    directory, because this SLS can be applied directly. A refusal renders one failing state
    and nothing else. Packages stay installed. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set stage = salt['pillar.get']('pgha_ops:stage') %}
{%- set remove_data = salt['pillar.get']('pgha_ops:remove_data', False) is sameas true %}
{%- set services, files, guard, timers = [], [], {}, [] %}
{%- if stage == 'postgres' %}
{%-   if 'postgresql' in pgha.roles %}
{%-     do services.extend([pgha.services.patroni, pgha.services.vip_manager, pgha.services.pgbouncer]) %}
{%-     for n in range(2, pgha.pgbouncer.processes + 1) %}{% do services.append(pgha.services.pgbouncer ~ '@' ~ n) %}{% endfor %}
{%-     do files.extend([pgha.paths.patroni_config, pgha.paths.pgpass]) %}
{%-     if remove_data %}
{%-       do files.extend([pgha.postgresql.data_dir] + ([pgha.postgresql.wal_dir] if pgha.postgresql.wal_dir else [])) %}
{%-     endif %}
{%-   endif %}
{%-   if 'balancer' in pgha.roles %}
{%-     do services.extend([pgha.services.keepalived, pgha.services.haproxy]) %}
{%-   endif %}
{#-   The backup timers (pgBackRest's per schedule entry, WAL-G's) stop, are disabled and
      their units go, whether or not backups are on now: an earlier pillar may have made them,
      and a timer left behind would start a backup of a cluster that is gone. #}
{%-   if 'postgresql' in pgha.roles or 'pgbackrest' in pgha.roles %}
{%-     for entry in pgha.pgbackrest.schedule | default([]) %}
{%-       do timers.append('pgha-pgbackrest-' ~ entry.type) %}
{%-     endfor %}
{%-     do timers.append('pgha-wal-g-backup') %}
{%-   endif %}
{%- elif stage == 'etcd' and 'etcd' in pgha.roles and not pgha.dcs_exists %}
{%-   do services.append(pgha.services.etcd) %}
{%-   do guard.update(patroni_service=pgha.services.patroni, patroni_config=pgha.paths.patroni_config) %}
{%-   if remove_data %}{% do files.append(pgha.etcd.data_dir) %}{% endif %}
{%- endif %}
{%- set pins = ['confirm_remove', 'confirm_restore'] if stage == 'forget' else ['confirm_remove'] %}
{%- set refusals = salt['pgha_removal.refusals'](pgha.cluster_name, pins, delete=files, **guard)
                   if stage in ('postgres', 'forget', 'etcd') else [] %}
{%- if refusals %}
{%-   set services, files, timers = [], [], [] %}
pgha-ops-remove-refused:
  test.fail_without_changes:
    - name: {{ ('pgha.ops.remove refused on this node (stage ' ~ stage ~ '; nothing was changed)') | json }}
    - comment: {{ refusals | join('\n') | json }}
{%- elif stage == 'forget' %}
{%-   if salt['file.file_exists'](pgha.paths.patroni_config) %}
pgha-ops-remove-cluster-forgotten:
  pgha_patroni.cluster_removed:
    - name: {{ pgha.cluster_name }}
    - patronictl: {{ pgha.paths.patroni_bin.rsplit('/', 1)[0] ~ '/patronictl' }}
{%-   else %}
pgha-ops-remove-cluster-forgotten:
  test.nop:
    - name: no Patroni configuration here any more (the cluster was removed before)
{%-   endif %}
{%- elif not stage %}
pgha-ops-remove-not-alone:
  test.fail_without_changes:
    - name: pgha.ops.remove is a step of salt-run state.orch pgha.remove
{%- elif stage not in ('postgres', 'etcd') %}
{{- raise('pgha.ops.remove: unknown stage ' ~ stage) }}
{%- endif %}

{%- for unit in timers %}
pgha-ops-remove-{{ unit }}-timer-dead:
  service.dead:
    - name: {{ unit }}.timer
    - enable: false

pgha-ops-remove-{{ unit }}-units-absent:
  file.absent:
    - names:
      - /etc/systemd/system/{{ unit }}.timer
      - /etc/systemd/system/{{ unit }}.service
    - require:
      - service: pgha-ops-remove-{{ unit }}-timer-dead
{%- endfor %}
{%- if timers %}

pgha-ops-remove-timers-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
{%-   for unit in timers %}
      - file: pgha-ops-remove-{{ unit }}-units-absent
{%-   endfor %}
{%- endif %}

{%- if stage == 'postgres' and 'postgresql' in pgha.roles and not refusals %}

{#- the schedule of pgha.patroni.etcd_leader_apart: nothing left for it to look after #}
pgha-ops-remove-etcd-leader-apart-absent:
  schedule.absent:
    - name: pgha-etcd-leader-apart
{%- endif %}

{%- for service in services %}
pgha-ops-remove-{{ service }}-dead:
  service.dead:
    - name: {{ service }}
    - enable: false
{%- endfor %}

{%- for path in files %}
pgha-ops-remove-{{ path }}-absent:
  file.absent:
    - name: {{ path }}
{%-   if services %}
    - require:
{%-     for service in services %}
      - service: pgha-ops-remove-{{ service }}-dead
{%-     endfor %}
{%-   endif %}
{%- endfor %}
{%- if stage in ('postgres', 'etcd') and not services and not refusals %}
pgha-ops-remove-nothing-here:
  test.nop:
    - name: {{ ('nothing of stage ' ~ stage ~ ' on this node') | json }}
{%- endif %}
