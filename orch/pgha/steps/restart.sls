{#- pgha.restart's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan: the rolling
    restart (pillar pending_only, default true), then the entry point. -#}
{%- from 'pgha/steps/common.jinja' import request, refused, rolling_restart, entry_gates with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='restart', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'restart') }}
{%- else %}
{{ rolling_restart(plan.minions.postgresql, plan.pg_nodes, None, request.get('pending_only', True)) }}

{{ entry_gates(plan.minions.postgresql, plan.minions.balancer, plan.type_a, 'pgha-restart-leader', 'pgha-restart') }}
{%- endif %}
