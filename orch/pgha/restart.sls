{#- salt-run state.orch pgha.restart [pillar='{"cluster": "NAME", "pending_only": false}']
    Rolling restart of the members that wait for one (pgha_patroni.pending_restart): replicas
    one at a time, each healthy again before the next, then a switchover and the old primary.
    pending_only=false restarts every member. Nothing pending: nothing restarts, no changes. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('restart') }}
