{#- salt-run state.orch pgha.switchover [pillar='{"cluster": "NAME", "candidate": "pg2"}']
    Planned switchover to the candidate, or to the best replica (synchronous standby in
    synchronous mode, least lag, no nofailover tag) within
    pgha:operations:max_replication_lag_bytes; then the entry point (VIP or port 5000) must
    serve writes from the new leader. Refused with the reason when no candidate qualifies. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('switchover') }}
