{#- pgha.promote's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan: the plan
    asked the main cluster's minions for a leader and the standby leader for its WAL receiver
    (the guard); one node of the standby cluster removes standby_cluster from its DCS and waits
    until its leader accepts writes; then the VIP gate and the summary. -#}
{%- from 'pgha/steps/common.jinja' import request, refused, entry_gates with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='promote', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'promote') }}
{%- else %}

{#- The WAL receiver and lag at the moment of promotion: what may be missing of the main's
    last writes (a report). #}
pgha-promote-lag-reported:
  test.succeed_without_changes:
    - name: {{ ('cluster ' ~ plan.cluster ~ ' at promotion: ' ~ (plan.promote.receiver | json)) | json }}

pgha-promote:
  salt.function:
    - name: pgha_patroni.promote
    - tgt: {{ plan.promote.node }}
    - tgt_type: list
    - kwarg:
        confirm: {{ plan.cluster | json }}
    - require:
      - test: pgha-promote-lag-reported

{{ entry_gates(plan.minions.postgresql, plan.minions.balancer, plan.type_a, 'pgha-promote', 'pgha-promote') }}

pgha-promote-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ plan.promote.node }}
    - tgt_type: list
{%- if plan.site.cluster_vip %}
    - kwarg:
        vip: {{ plan.site.cluster_vip }}
{%- endif %}
    - require:
      - salt: pgha-promote-vip-ready
{%- endif %}
