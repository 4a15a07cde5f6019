{#- pgha.update's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan: the plan's
    order (the replicas, then the leader it asked for), each node drained, updated, restored,
    leadership first moved away from it by another node. -#}
{%- from 'pgha/steps/common.jinja' import request, refused, entry_gates with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='update', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'update') }}
{%- else %}
{%- set drain = {'pgha': {'patroni': {'tags': {'nofailover': True, 'noloadbalance': True, 'nosync': True}}}} %}
{%- set previous = namespace(step=None) %}
{%- for item in plan.rolling_update %}
{%-   set node = item.node %}

pgha-update-{{ node }}-leadership-moved:
  salt.state:
    - tgt: {{ item.via }}
    - tgt_type: list
    - sls: pgha.ops.switchover
    - pillar: {pgha_ops: {away_from: {{ node }}}}
{%-   if previous.step %}
    - require:
      - salt: {{ previous.step }}
{%-   endif %}

pgha-update-{{ node }}-updated:
  salt.state:
    - tgt: {{ node }}
    - tgt_type: list
    - sls: pgha.ops.update
    - pillar: {{ drain | json }}
    - require:
      - salt: pgha-update-{{ node }}-leadership-moved

pgha-update-{{ node }}-restored:
  salt.state:
    - tgt: {{ node }}
    - tgt_type: list
    - sls:
      - pgha.gate.tags
      - pgha.patroni.gate
    - require:
      - salt: pgha-update-{{ node }}-updated
{%-   set previous.step = 'pgha-update-' ~ node ~ '-restored' %}
{%- endfor %}

{{ entry_gates(plan.minions.postgresql, plan.minions.balancer, plan.type_a, previous.step, 'pgha-update') }}
{%- endif %}
