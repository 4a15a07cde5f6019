{#- pgha.upgrade_rollback's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan,
    which refused already when no member holds an upgrade record, or when the new cluster
    started on one (with the reason). -#}
{%- from 'pgha/steps/common.jinja' import request, refused with context %}
{%- from 'pgha/steps/upgrade_rollback.jinja' import rollback_steps with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='upgrade_rollback', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'upgrade_rollback') }}
{%- else %}
{{ rollback_steps(plan, plan.upgrade, []) }}
{%- endif %}
