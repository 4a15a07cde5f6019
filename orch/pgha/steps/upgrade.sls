{#- pgha.upgrade's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan: the running
    leader is the primary pg_upgrade runs on; the plan's override ({pgha: {postgresql:
    {version, data_dir?, wal_dir?}}}) renders the new major's files while pillar may still name
    the old one. Every step before the new cluster's first start is in `before_start`: when one
    fails, the rollback steps (steps/upgrade_rollback.jinja) run. Per-node health gates: the
    primary, then each replica, must be healthy in its role before the next starts. -#}
{%- from 'pgha/steps/common.jinja' import request, refused, entry_gates with context %}
{%- from 'pgha/steps/upgrade_rollback.jinja' import rollback_steps with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='upgrade', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'upgrade') }}
{%- elif plan.upgrade.get('done') %}
pgha-upgrade-done:
  test.succeed_without_changes:
    - name: cluster {{ plan.cluster }} runs PostgreSQL {{ plan.upgrade.to }} already (nothing to do)
{%- else %}
{%- set up = plan.upgrade %}
{%- set primary, replicas = up.primary, up.replicas %}
{%- set nodes = [primary] + replicas %}
{%- set has = up.steps | map(attribute='step') | list %}
{%- set ops = {'pgha_upgrade': {'to': up.to}} %}
{%- set new = dict(up.override, **ops) %}
{%- set before_start = [] %}

pgha-upgrade-pre-checked:
  salt.runner:
    - name: pgha.upgrade_check
    - cluster: {{ plan.cluster | json }}
    - to: {{ up.to }}

pgha-upgrade-packages-installed:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.upgrade
    - pillar: {{ dict(ops, pgha_ops={'stage': 'install', 'to': up.to}) | json }}
    - require:
      - salt: pgha-upgrade-pre-checked
{%- do before_start.append('pgha-upgrade-packages-installed') %}

pgha-upgrade-initialised:
  salt.function:
    - name: pgha_upgrade.initdb
    - tgt: {{ primary }}
    - tgt_type: list
    - kwarg: {to: {{ up.to }}}
    - require:
      - salt: pgha-upgrade-packages-installed
{%- do before_start.append('pgha-upgrade-initialised') %}

{#- Before anything stops: what pg_upgrade would refuse, on the live old cluster #}
pgha-upgrade-checked:
  salt.function:
    - name: pgha_upgrade.check
    - tgt: {{ primary }}
    - tgt_type: list
    - kwarg: {to: {{ up.to }}}
    - require:
      - salt: pgha-upgrade-initialised
{%- do before_start.append('pgha-upgrade-checked') %}
{%- set previous = namespace(step='pgha-upgrade-checked') %}
{%- if replicas %}

pgha-upgrade-ssh-trusted:
  salt.runner:
    - name: pgha.upgrade_ssh
    - cluster: {{ plan.cluster | json }}
    - action: trust
    - primary: {{ primary }}
    - replicas: {{ replicas | json }}
    - require:
      - salt: {{ previous.step }}
{%-   do before_start.append('pgha-upgrade-ssh-trusted') %}
{%-   set previous.step = 'pgha-upgrade-ssh-trusted' %}
{%- endif %}

pgha-upgrade-paused:
  salt.state:
    - tgt: {{ primary }}
    - tgt_type: list
    - sls: pgha.ops.upgrade
    - pillar: {{ dict(ops, pgha_ops={'stage': 'pause', 'to': up.to}) | json }}
    - require:
      - salt: {{ previous.step }}
{%- do before_start.append('pgha-upgrade-paused') %}
{%- set previous.step = 'pgha-upgrade-paused' %}
{%- if 'pgbouncer_paused' in has %}

{#- clients of PgBouncer wait instead of failing (Type A: HAProxy marks the primary down
    and cuts its sessions anyway, see docs/operations.md) #}
pgha-upgrade-pgbouncer-paused:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.upgrade
    - pillar: {{ dict(ops, pgha_ops={'stage': 'pgbouncer_pause'}) | json }}
    - require:
      - salt: {{ previous.step }}
{%-   do before_start.append('pgha-upgrade-pgbouncer-paused') %}
{%-   set previous.step = 'pgha-upgrade-pgbouncer-paused' %}
{%- endif %}

{#- The primary first, while the replicas run: they receive its shutdown checkpoint #}
pgha-upgrade-primary-stopped:
  salt.function:
    - name: pgha_upgrade.stop
    - tgt: {{ primary }}
    - tgt_type: list
    - kwarg: {timeout: {{ up.settings.start_stop_timeout }}}
    - require:
      - salt: {{ previous.step }}
{%- do before_start.append('pgha-upgrade-primary-stopped') %}
{%- set previous.step = 'pgha-upgrade-primary-stopped' %}
{%- if replicas %}

pgha-upgrade-replicas-stopped:
  salt.function:
    - name: pgha_upgrade.stop
    - tgt: {{ replicas | join(',') }}
    - tgt_type: list
    - kwarg: {timeout: {{ up.settings.start_stop_timeout }}}
    - require:
      - salt: {{ previous.step }}
{%-   do before_start.append('pgha-upgrade-replicas-stopped') %}
{%-   set previous.step = 'pgha-upgrade-replicas-stopped' %}
{%- endif %}

pgha-upgrade-checkpoints-compared:
  salt.runner:
    - name: pgha.upgrade_checkpoints
    - nodes: {{ nodes | json }}
    - require:
      - salt: {{ previous.step }}
{%- do before_start.append('pgha-upgrade-checkpoints-compared') %}

pgha-upgrade-patroni-stopped:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.patroni_stopped
    - require:
      - salt: pgha-upgrade-checkpoints-compared
{%- do before_start.append('pgha-upgrade-patroni-stopped') %}

pgha-upgrade-primary-linked:
  salt.function:
    - name: pgha_upgrade.link
    - tgt: {{ primary }}
    - tgt_type: list
    - kwarg: {to: {{ up.to }}}
    - timeout: 86400
    - require:
      - salt: pgha-upgrade-patroni-stopped
{%- do before_start.append('pgha-upgrade-primary-linked') %}
{%- set previous.step = 'pgha-upgrade-primary-linked' %}
{%- for node in replicas %}

pgha-upgrade-replica-{{ node }}-synced:
  salt.function:
    - name: pgha_upgrade.sync_replica
    - tgt: {{ primary }}
    - tgt_type: list
    - kwarg: {{ {'to': up.to, 'host': plan.addresses[node]} | json }}
    - timeout: 86400
    - require:
      - salt: {{ previous.step }}
{%-   do before_start.append('pgha-upgrade-replica-' ~ node ~ '-synced') %}
{%-   set previous.step = 'pgha-upgrade-replica-' ~ node ~ '-synced' %}
{%- endfor %}

{#- Patroni's configuration of the new major: bin_dir, data_dir, the parameters of pillar
    (the pre-checks refused names the new major does not know) #}
pgha-upgrade-configured:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.patroni.config
    - pillar: {{ new | json }}
    - require:
      - salt: {{ previous.step }}
{%- do before_start.append('pgha-upgrade-configured') %}

{#- pg_upgrade gave the cluster a new system identifier: Patroni refuses a DCS with the old
    one. The dynamic configuration was saved at the pause (pgha_upgrade.save_dcs). #}
pgha-upgrade-dcs-reset:
  salt.state:
    - tgt: {{ primary }}
    - tgt_type: list
    - sls: pgha.ops.upgrade
    - pillar: {{ dict(ops, pgha_ops={'stage': 'dcs_reset'}) | json }}
    - require:
      - salt: pgha-upgrade-configured
{%- do before_start.append('pgha-upgrade-dcs-reset') %}

{#- The rollback's boundary: from here the record says started, and a rollback is refused #}
pgha-upgrade-start-marked:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.upgrade
    - pillar: {{ dict(ops, pgha_ops={'stage': 'mark', 'mark': 'started', 'to': up.to}) | json }}
    - require:
      - salt: pgha-upgrade-dcs-reset
{%- do before_start.append('pgha-upgrade-start-marked') %}

pgha-upgrade-primary-started:
  salt.state:
    - tgt: {{ primary }}
    - tgt_type: list
    - sls:
      - pgha.patroni.service
      - pgha.patroni.gate
    - pillar: {{ dict(new, pgha_gate={'role': 'leader', 'timeout': 600}) | json }}
    - require:
      - salt: pgha-upgrade-start-marked

pgha-upgrade-dcs-restored:
  salt.function:
    - name: pgha_upgrade.restore_dcs
    - tgt: {{ primary }}
    - tgt_type: list
    - kwarg: {{ {'old': up['from'], 'new': up.to} | json }}
    - require:
      - salt: pgha-upgrade-primary-started

{#- pillar's dynamic configuration wins over the saved one: the next highstate changes nothing #}
pgha-upgrade-dcs-pillar:
  salt.state:
    - tgt: {{ primary }}
    - tgt_type: list
    - sls: pgha.patroni.service
    - pillar: {{ new | json }}
    - require:
      - salt: pgha-upgrade-dcs-restored
{%- set previous.step = 'pgha-upgrade-dcs-pillar' %}
{%- for node in replicas %}

pgha-upgrade-replica-{{ node }}-started:
  salt.state:
    - tgt: {{ node }}
    - tgt_type: list
    - sls:
      - pgha.patroni.service
      - pgha.patroni.gate
    - pillar: {{ dict(new, pgha_gate={'role': 'replica', 'timeout': 3600}) | json }}
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-upgrade-replica-' ~ node ~ '-started' %}
{%- endfor %}
{%- if 'pgbouncer_resumed' in has %}

pgha-upgrade-pgbouncer-resumed:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.upgrade
    - pillar: {{ dict(ops, pgha_ops={'stage': 'pgbouncer_resume'}) | json }}
    - require:
      - salt: pgha-upgrade-primary-started
{%-   set previous.step = 'pgha-upgrade-pgbouncer-resumed' %}
{%- endif %}

{{ entry_gates(plan.minions.postgresql, plan.minions.balancer, plan.type_a, previous.step, 'pgha-upgrade') }}
{%- set previous.step = 'pgha-upgrade-balancers-ready' if plan.type_a else 'pgha-upgrade-vip-ready' %}
{%- if replicas %}

pgha-upgrade-ssh-revoked:
  salt.runner:
    - name: pgha.upgrade_ssh
    - cluster: {{ plan.cluster | json }}
    - action: revoke
    - require:
      - salt: {{ previous.step }}
{%- endif %}

pgha-upgrade-statistics:
  salt.function:
    - name: pgha_upgrade.statistics
    - tgt: {{ primary }}
    - tgt_type: list
    - kwarg: {{ {'to': up.to, 'jobs': up.settings.vacuumdb_parallel_jobs} | json }}
    - timeout: 86400
    - require:
      - salt: {{ previous.step }}
{%- set previous.step = 'pgha-upgrade-statistics' %}
{%- if up.settings.update_extensions %}

pgha-upgrade-extensions-updated:
  salt.function:
    - name: pgha_upgrade.extensions_update
    - tgt: {{ primary }}
    - tgt_type: list
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-upgrade-extensions-updated' %}
{%- endif %}
{%- if 'stanza_upgraded' in has %}
{%-   set stanza_host = plan.repo_hosts[0] if plan.repo_hosts else primary %}

{#- pgBackRest keeps one history per system identifier: its configuration names the new data
    directory, the stanza is upgraded, a full backup starts the new major's history #}
pgha-upgrade-pgbackrest-configured:
  salt.state:
    - tgt: {{ plan.minions.backup | join(',') }}
    - tgt_type: list
    - sls: pgha.pgbackrest.config
    - pillar: {{ new | json }}
    - require:
      - salt: {{ previous.step }}

pgha-upgrade-stanza-upgraded:
  salt.function:
    - name: pgha_upgrade.stanza_upgrade
    - tgt: {{ stanza_host }}
    - tgt_type: list
    - require:
      - salt: pgha-upgrade-pgbackrest-configured

pgha-upgrade-full-backup:
  salt.function:
    - name: pgha_pgbackrest.backup
    - tgt: {{ stanza_host }}
    - tgt_type: list
    - kwarg: {type: full}
    - timeout: 86400
    - require:
      - salt: pgha-upgrade-stanza-upgraded
{%-   set previous.step = 'pgha-upgrade-full-backup' %}
{%- endif %}

pgha-upgrade-finished:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.upgrade
    - pillar: {{ dict(new, pgha_ops={'stage': 'finished', 'to': up.to, 'from': up['from']}) | json }}
    - require:
      - salt: {{ previous.step }}

pgha-upgrade-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ primary }}
    - tgt_type: list
    - require:
      - salt: pgha-upgrade-finished

pgha-upgrade-next:
  test.succeed_without_changes:
    - name: >-
        cluster {{ plan.cluster }} runs PostgreSQL {{ up.to }}: set pillar pgha:postgresql:version
        to {{ up.to }}{{ ' (and data_dir/wal_dir to the new paths)' if up.override.pgha.postgresql | length > 1 else '' }};
        a highstate refuses the old value
    - require:
      - salt: pgha-upgrade-summary

{#- Automatic rollback: only when a step before the start failed #}
{{ rollback_steps(plan, up, before_start) }}
{%- endif %}
