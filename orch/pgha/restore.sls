{#- salt-run state.orch pgha.restore pillar='{"confirm_restore": "NAME",
        "restore": {"type": "time", "target": "2026-11-26 04:00:00+00"}}'
    Point-in-time recovery of the whole running cluster from its pgBackRest repository.
    Refused unless pillar confirm_restore names the cluster (cluster: NAME as usual picks it).
    restore: type default (all archived WAL) | time | lsn | name | xid | immediate, target,
    set (a backup label); missing keys come from pgha:restore. Before anything stops: the
    repository must have a backup that reaches the target. Then, as autobase does:
    Patroni stops on the replicas, then on the primary; the cluster leaves the DCS; the
    primary's data directory is restored, recovers to the target and is promoted (its new
    timeline reaches the archive); Patroni starts it and the superuser and replication
    passwords are set from pillar; WAL archiving is paused (disable_archive_command, resumed
    by pgha.config pillar='{"resume_archiving": true}'); each replica restores the same backup
    as a standby and must stream on the new timeline before the next. Everything written
    after the target is gone afterwards: that is what a point-in-time recovery is for. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- if salt['pillar.get']('confirm_restore') != cluster_name %}
{{- raise("pgha.restore replaces the data of cluster " ~ cluster_name ~ " with a backup: confirm with pillar='{\"confirm_restore\": \"" ~ cluster_name ~ "\", ...}' (nothing was changed)") }}
{%- endif %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, site, type_a with context %}
{%- from 'pgha/steps.jinja' import entry_gates with context %}
{%- if not site.get('pgbackrest', {}).get('enabled') %}
{{- raise("pgha.restore restores from pgBackRest, but pgha:pgbackrest:enabled is false for cluster " ~ cluster_name) }}
{%- endif %}
{%- set spec = dict(site.get('restore', {}), **salt['pillar.get']('restore', {})) %}

{#- The primary to restore: the leader now, or pillar primary when no leader runs. #}
{%- set leaders = [] %}
{%- for minion, answer in (salt['saltutil.cmd'](tgt.postgresql, 'pgha_patroni.is_leader', tgt_type='compound') or {}) | dictsort %}
{%-   if answer.get('ret') is sameas true %}{% do leaders.append(minion) %}{% endif %}
{%- endfor %}
{%- set primary = salt['pillar.get']('primary') or (leaders | first) %}
{%- if primary not in pg_nodes %}
{{- raise("pgha.restore: cluster " ~ cluster_name ~ " has no running leader; name the node to restore on with pillar primary (one of " ~ pg_nodes | join(', ') ~ ")") }}
{%- endif %}
{%- set replicas = pg_nodes | reject('equalto', primary) | list %}

{#- Refused with the reason before anything stops: a bad target, no backup before it. #}
{%- set check = (salt['saltutil.cmd'](primary, 'pgha_pgbackrest.restorable',
                   kwarg={'target_type': spec.get('type', 'default'), 'target': spec.get('target') or None,
                          'backup_set': spec.get('set') or None, 'stanza': spec.get('stanza') or None})
                 or {}).values() | first | default({}) %}
{%- if check.get('retcode', 1) != 0 %}
{{- raise("pgha.restore refused (nothing was changed): " ~ check.get('ret', 'no answer from ' ~ primary) | string) }}
{%- endif %}
{%- set ops = {'restore': spec} %}

pgha-restore-announced:
  test.succeed_without_changes:
    - name: >-
        cluster {{ cluster_name }} is restored on {{ primary }} to
        {{ spec.get('type', 'default') }} {{ spec.get('target', '') }} from backup
        {{ check.ret.label }}; replicas {{ replicas | join(', ') or '(none)' }} follow

{%- for stage, nodes in [('replicas', replicas), ('primary', [primary])] if nodes %}

pgha-restore-{{ stage }}-stopped:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.patroni_stopped
    - require:
      - test: pgha-restore-announced
{%-   if stage == 'primary' and replicas %}
      - salt: pgha-restore-replicas-stopped
{%-   endif %}
{%- endfor %}

pgha-restore-dcs-cleared:
  salt.state:
    - tgt: {{ primary }}
    - sls: pgha.ops.remove
    - pillar: {pgha_ops: {stage: forget}}
    - require:
      - salt: pgha-restore-primary-stopped

pgha-restore-primary-recovered:
  salt.state:
    - tgt: {{ primary }}
    - sls: pgha.ops.restore
    - pillar: {pgha_ops: {{ dict(ops, stage='primary') | json }}}
    - timeout: 86400
    - require:
      - salt: pgha-restore-dcs-cleared

{#- Patroni takes the promoted data directory over as the leader of a new cluster. #}
pgha-restore-primary-started:
  salt.state:
    - tgt: {{ primary }}
    - sls:
      - pgha.patroni
      - pgha.gate.patroni
    - pillar:
        pgha_gate: {role: leader, timeout: 600}
    - require:
      - salt: pgha-restore-primary-recovered

{#- Once it leads: passwords from pillar (replicas connect with them), archiving paused. #}
pgha-restore-primary-settled:
  salt.state:
    - tgt: {{ primary }}
    - sls:
      - pgha.postgresql.system_roles
      - pgha.patroni.service
    - pillar:
        pgha_archiving: {{ 'pause' if site.get('disable_archive_command', True) else 'keep' }}
    - require:
      - salt: pgha-restore-primary-started

{%- set previous = namespace(step='pgha-restore-primary-settled') %}
{%- for node in replicas %}

pgha-restore-replica-{{ node }}-restored:
  salt.state:
    - tgt: {{ node }}
    - sls: pgha.ops.restore
    - pillar: {pgha_ops: {{ dict(ops, stage='replica') | json }}}
    - timeout: 86400
    - require:
      - salt: {{ previous.step }}

pgha-restore-replica-{{ node }}-started:
  salt.state:
    - tgt: {{ node }}
    - sls:
      - pgha.patroni
      - pgha.gate.patroni
    - pillar:
        pgha_gate: {role: replica, timeout: 3600}
    - require:
      - salt: pgha-restore-replica-{{ node }}-restored
{%-   set previous.step = 'pgha-restore-replica-' ~ node ~ '-started' %}
{%- endfor %}

{{ entry_gates(tgt, type_a, previous.step, 'pgha-restore') }}

pgha-restore-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ primary }}
    - require:
      - salt: {{ 'pgha-restore-balancers-ready' if type_a else 'pgha-restore-vip-ready' }}
