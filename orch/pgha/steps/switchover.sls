{#- pgha.switchover's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan: the
    switchover to pillar candidate (or the best replica), run from the first database node,
    then the entry point must serve writes from the new leader. -#}
{%- from 'pgha/steps/common.jinja' import request, refused, entry_gates with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='switchover', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'switchover') }}
{%- else %}

pgha-switchover:
  salt.state:
    - tgt: {{ plan.pg_nodes[0] }}
    - tgt_type: list
    - sls: pgha.ops.switchover
    - pillar: {pgha_ops: {candidate: {{ request.get('candidate', '') | json }}}}

{{ entry_gates(plan.minions.postgresql, plan.minions.balancer, plan.type_a, 'pgha-switchover', 'pgha-switchover') }}
{%- endif %}
