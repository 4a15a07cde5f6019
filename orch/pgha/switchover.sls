{#- salt-run state.orch pgha.switchover [pillar='{"cluster": "NAME", "candidate": "pg2"}']
    Planned switchover to the candidate, or to the best replica (synchronous standby in
    synchronous mode, least lag, no nofailover tag) within
    pgha:operations:max_replication_lag_bytes; then the entry point (VIP or port 5000) must
    serve writes from the new leader. Refused with the reason when no candidate qualifies. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, type_a with context %}
{%- from 'pgha/steps.jinja' import entry_gates with context %}

pgha-switchover:
  salt.state:
    - tgt: {{ pg_nodes[0] }}
    - sls: pgha.ops.switchover
    - pillar: {pgha_ops: {candidate: {{ salt['pillar.get']('candidate', '') | json }}}}

{{ entry_gates(tgt, type_a, 'pgha-switchover', 'pgha-switchover') }}
