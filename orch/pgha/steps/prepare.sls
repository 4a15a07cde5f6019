{#- Stage 2 of pgha.<workflow>'s preparation (pgha/stages.jinja), and all of pgha.prepare: the
    plan (before the preparation: no cluster check, no mine) names the cluster's minions and
    refuses what needs no minion; then each of them syncs pgha's modules, validates its pillar
    (nothing changes on a node when it is bad) and publishes its address to the mine. -#}
{%- from 'pgha/steps/common.jinja' import request, refused with context %}
{%- set workflow = salt['pillar.get']('workflow', 'prepare') %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow=workflow, prepared=False, **request) %}
{%- if plan.problems %}
{{ refused(plan, workflow) }}
{%- else %}

{#- pgha's utils and modules before the gate's state file renders: its settings come from them
    (map.jinja, pgha_settings.render), and a plain state.sls does not sync (highstate does). #}
pgha-prepare-utils-synced:
  salt.function:
    - name: saltutil.sync_utils
    - tgt: {{ plan.minions.all | join(',') }}
    - tgt_type: list
    - kwarg: {refresh: false}

pgha-prepare-modules-synced:
  salt.function:
    - name: saltutil.sync_modules
    - tgt: {{ plan.minions.all | join(',') }}
    - tgt_type: list
    - kwarg: {refresh: true}
    - require:
      - salt: pgha-prepare-utils-synced

pgha-prepare-pillar-validated:
  salt.state:
    - tgt: {{ plan.minions.all | join(',') }}
    - tgt_type: list
    - sls: pgha.gate.prepared
    - require:
      - salt: pgha-prepare-modules-synced

{#- Says why the orchestration stops (the minions' reasons are in the step above). #}
pgha-prepare-failed:
  test.fail_without_changes:
    - name: pgha.prepare failed for cluster {{ plan.cluster }} (no node was changed)
    - comment: {{ ('pgha.prepare failed for cluster ' ~ plan.cluster ~ ' (no node was changed): see the '
                   ~ 'failed states of pgha-prepare-pillar-validated') | json }}
    - onfail:
      - salt: pgha-prepare-pillar-validated
{%- endif %}
