{#- salt-run state.orch pgha.restart [pillar='{"cluster": "NAME", "pending_only": false}']
    Rolling restart of the members that wait for one (pgha_patroni.pending_restart): replicas
    one at a time, each healthy again before the next, then a switchover and the old primary.
    pending_only=false restarts every member. Nothing pending: nothing restarts, no changes. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, type_a with context %}
{%- from 'pgha/steps.jinja' import rolling_restart, entry_gates with context %}
{{ rolling_restart(tgt, pg_nodes, None, salt['pillar.get']('pending_only', True)) }}

{{ entry_gates(tgt, type_a, 'pgha-restart-leader', 'pgha-restart') }}
