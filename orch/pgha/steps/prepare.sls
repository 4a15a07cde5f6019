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

pgha-prepare-pillar-validated:
  salt.state:
    - tgt: {{ plan.minions.all | join(',') }}
    - tgt_type: list
    - sls: pgha.gate.prepared

{#- Says why the orchestration stops (the minions' reasons are in the step above). #}
pgha-prepare-failed:
  test.fail_without_changes:
    - name: pgha.prepare failed for cluster {{ plan.cluster }} (no node was changed)
    - comment: {{ ('pgha.prepare failed for cluster ' ~ plan.cluster ~ ' (no node was changed): see the '
                   ~ 'failed states of pgha-prepare-pillar-validated') | json }}
    - onfail:
      - salt: pgha-prepare-pillar-validated
{%- endif %}
