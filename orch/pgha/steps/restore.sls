{#- pgha.restore's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan, which refused
    already without confirm_restore or pgBackRest, and chose the node to restore on (pillar
    primary, else the running leader it asked for). Before anything stops, a step checks that
    the repository has a backup that reaches the target (pgha_pgbackrest.restorable fails it
    with the reason otherwise). -#}
{%- from 'pgha/steps/common.jinja' import request, refused, entry_gates with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='restore', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'restore') }}
{%- else %}
{%- set restore = plan.restore %}
{%- set primary, replicas, spec = restore.primary, restore.replicas, restore.spec %}
{#- confirm_restore: the node checks it again against its own pgha:cluster_name (pgha.ops.restore). #}
{%- set ops = {'restore': spec, 'confirm_restore': plan.cluster} %}

{#- Refused with the reason before anything stops: a bad target, no backup before it. #}
pgha-restore-checked:
  salt.function:
    - name: pgha_pgbackrest.restorable
    - tgt: {{ primary }}
    - tgt_type: list
    - kwarg: {{ restore.check | json }}

pgha-restore-announced:
  test.succeed_without_changes:
    - name: >-
        cluster {{ plan.cluster }} is restored on {{ primary }} to
        {{ spec.get('type', 'default') }} {{ spec.get('target', '') }} from the backup
        pgha-restore-checked found; replicas {{ replicas | join(', ') or '(none)' }} follow
    - require:
      - salt: pgha-restore-checked

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
    - tgt_type: list
    - sls: pgha.ops.remove
    - pillar: {pgha_ops: {{ {'stage': 'forget', 'confirm_restore': plan.cluster} | json }}}
    - require:
      - salt: pgha-restore-primary-stopped

pgha-restore-primary-recovered:
  salt.state:
    - tgt: {{ primary }}
    - tgt_type: list
    - sls: pgha.ops.restore
    - pillar: {pgha_ops: {{ dict(ops, stage='primary') | json }}}
    - timeout: 86400
    - require:
      - salt: pgha-restore-dcs-cleared

{#- Patroni takes the promoted data directory over as the leader of a new cluster. #}
pgha-restore-primary-started:
  salt.state:
    - tgt: {{ primary }}
    - tgt_type: list
    - sls:
      - pgha.patroni
      - pgha.patroni.gate
    - pillar:
        pgha_gate: {role: leader, timeout: 600}
    - require:
      - salt: pgha-restore-primary-recovered

{#- Once it leads: passwords from pillar (replicas connect with them), archiving paused. #}
pgha-restore-primary-settled:
  salt.state:
    - tgt: {{ primary }}
    - tgt_type: list
    - sls:
      - pgha.postgresql.system_roles
      - pgha.patroni.service
    - pillar:
        pgha_archiving: {{ 'pause' if plan.site.disable_archive_command else 'keep' }}
    - require:
      - salt: pgha-restore-primary-started

{%- set previous = namespace(step='pgha-restore-primary-settled') %}
{%- for node in replicas %}

pgha-restore-replica-{{ node }}-restored:
  salt.state:
    - tgt: {{ node }}
    - tgt_type: list
    - sls: pgha.ops.restore
    - pillar: {pgha_ops: {{ dict(ops, stage='replica') | json }}}
    - timeout: 86400
    - require:
      - salt: {{ previous.step }}

pgha-restore-replica-{{ node }}-started:
  salt.state:
    - tgt: {{ node }}
    - tgt_type: list
    - sls:
      - pgha.patroni
      - pgha.patroni.gate
    - pillar:
        pgha_gate: {role: replica, timeout: 3600}
    - require:
      - salt: pgha-restore-replica-{{ node }}-restored
{%-   set previous.step = 'pgha-restore-replica-' ~ node ~ '-started' %}
{%- endfor %}

{{ entry_gates(plan.minions.postgresql, plan.minions.balancer, plan.type_a, previous.step, 'pgha-restore') }}

pgha-restore-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ primary }}
    - tgt_type: list
    - require:
      - salt: {{ 'pgha-restore-balancers-ready' if plan.type_a else 'pgha-restore-vip-ready' }}
{%- endif %}
