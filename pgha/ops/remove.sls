{#- One stage of pgha.remove on this node (pillar pgha_ops: stage, remove_data; the
    orchestration checked the confirmation pin):
    - postgres: Patroni (and PostgreSQL with it), vip-manager, PgBouncer, HAProxy and
      keepalived stop and are disabled; pgha's configuration files go; with remove_data the
      PostgreSQL data directory (and WAL directory) too;
    - forget: the cluster leaves the DCS (once Patroni is stopped everywhere; pgha.restore
      uses it too);
    - etcd: etcd stops and is disabled; with remove_data its data directory goes.
    Packages stay installed. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set stage = salt['pillar.get']('pgha_ops:stage') %}
{%- set remove_data = salt['pillar.get']('pgha_ops:remove_data', False) is sameas true %}
{%- set services, files = [], [] %}
{%- if stage == 'postgres' %}
{%-   if 'postgresql' in pgha.roles %}
{%-     do services.extend([pgha.services.patroni, pgha.services.vip_manager, pgha.services.pgbouncer]) %}
{%-     do files.extend([pgha.paths.patroni_config, pgha.paths.pgpass]) %}
{%-     if remove_data %}
{%-       do files.extend([pgha.postgresql.data_dir] + ([pgha.postgresql.wal_dir] if pgha.postgresql.wal_dir else [])) %}
{%-     endif %}
{%-   endif %}
{%-   if 'balancer' in pgha.roles %}
{%-     do services.extend([pgha.services.keepalived, pgha.services.haproxy]) %}
{%-   endif %}
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
{%- elif stage == 'etcd' %}
{%-   if 'etcd' in pgha.roles and not pgha.dcs_exists %}
{%-     do services.append(pgha.services.etcd) %}
{%-     if remove_data %}{% do files.append(pgha.etcd.data_dir) %}{% endif %}
{%-   endif %}
{%- elif stage %}
{{- raise('pgha.ops.remove: unknown stage ' ~ stage) }}
{%- else %}
pgha-ops-remove-not-alone:
  test.fail_without_changes:
    - name: pgha.ops.remove is a step of salt-run state.orch pgha.remove
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
{%- if stage in ('postgres', 'etcd') and not services %}
pgha-ops-remove-nothing-here:
  test.nop:
    - name: nothing of stage {{ stage }} on this node
{%- endif %}
