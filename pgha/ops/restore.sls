{#- One stage of pgha.restore on this node (pillar pgha_ops:stage, the restore target in
    pgha_ops:restore, the confirmation pgha_ops:confirm_restore; the orchestration checked it,
    the node checks it again against its own pgha:cluster_name, and that the data directory
    pgBackRest's --delta rewrites is no system directory: this SLS can be applied directly):
    - primary: the data directory is restored, recovers to the target and is promoted,
      then stopped for Patroni;
    - replica: the backup the primary restored from is restored as a standby, which follows
      the archive to the new timeline (Patroni then streams from the new primary). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set stage = salt['pillar.get']('pgha_ops:stage') %}
{%- set spec = salt['pillar.get']('pgha_ops:restore', {}) %}
{%- set source = spec.get('stanza') or pgha.pgbackrest.stanza %}
{%- set pg = pgha.postgresql %}

{%- set refusals = salt['pgha_removal.refusals'](pgha.cluster_name, ['confirm_restore'],
                                                 delete=[pg.data_dir]) if stage in ('primary', 'replica') else [] %}

{%- if refusals %}
pgha-ops-restore-refused:
  test.fail_without_changes:
    - name: {{ ('pgha.ops.restore refused on this node (stage ' ~ stage ~ '; nothing was changed)') | json }}
    - comment: {{ refusals | join('\n') | json }}

{%- elif stage in ('primary', 'replica') %}
pgha-ops-restore-{{ stage }}-restored:
  pgha_pgbackrest.restored:
    - name: {{ source }}
    - data_dir: {{ pg.data_dir }}
    - bin_dir: {{ pg.bin_dir }}
    - port: {{ pg.port }}
    - socket_dir: {{ pgha.paths.run_dir }}
    - target_type: {{ spec.get('type', 'default') }}
    - target: {{ spec.get('target') | json }}
    - backup_set: {{ spec.get('set') | json }}
    - standby: {{ stage == 'replica' }}

{%- elif not stage %}
pgha-ops-restore-not-alone:
  test.fail_without_changes:
    - name: pgha.ops.restore is a step of salt-run state.orch pgha.restore

{%- else %}
{{- raise('pgha.ops.restore: unknown stage ' ~ stage | string) }}
{%- endif %}
