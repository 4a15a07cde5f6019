{#- pgha.config's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan: every node
    converges to pillar, users on the leader, the rolling restart, the stanza when pgBackRest
    is on, then the entry point. pillar resume_archiving resumes WAL archiving. -#}
{%- from 'pgha/steps/common.jinja' import request, refused, rolling_restart, entry_gates with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='config', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'config') }}
{%- else %}
{%- set minions = plan.minions %}

pgha-config-applied:
  salt.state:
    - tgt: {{ minions.all | join(',') }}
    - tgt_type: list
    - sls: pgha
{%- if request.get('resume_archiving') %}
    - pillar: {pgha_archiving: resume}
{%- endif %}

{#- Users, databases and extensions added to pillar (acts on the leader only). #}
pgha-config-users-applied:
  salt.state:
    - tgt: {{ minions.postgresql | join(',') }}
    - tgt_type: list
    - sls: pgha.postgresql.users
    - require:
      - salt: pgha-config-applied

{#- Members whose change needs a restart: restarted in PostgreSQL's order with
    patroni:pending_restart: true; by default (autobase's pending_restart: false) only shown
    in the summary below, for `salt-run state.orch pgha.restart` when it suits. #}
{%- if plan.site.pending_restart %}
{{ rolling_restart(minions.postgresql, plan.pg_nodes, 'pgha-config-users-applied') }}

{%- set last = 'pgha-restart-leader' %}
{%- else %}
{%- set last = 'pgha-config-users-applied' %}
{%- endif %}
{%- if plan.site.pgbackrest_enabled %}

{#- pgBackRest switched on for a running cluster: archive_mode needs a restart first (above
    with patroni:pending_restart, else pgha.restart, then pgha.config again). #}
pgha-config-pgbackrest-stanza:
  salt.state:
    - tgt: {{ minions.backup | join(',') }}
    - tgt_type: list
    - sls: pgha.pgbackrest.stanza
    - require:
      - salt: {{ last }}
{%-   set last = 'pgha-config-pgbackrest-stanza' %}
{%- endif %}

{{ entry_gates(minions.postgresql, minions.balancer, plan.type_a, last, 'pgha-config') }}

{#- A report, not a change: the members, and which of them wait for a restart. #}
pgha-config-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ minions.postgresql | first }}
    - tgt_type: list
{%- if plan.site.standby_of %}
    - kwarg:
        main: {{ plan.site.standby_of | json }}    {#- a standby cluster: of which, with its lag #}
{%- endif %}
    - require:
      - salt: {{ last }}
{%- endif %}
