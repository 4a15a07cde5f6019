{#- salt-run state.orch pgha.deploy [pillar='{"cluster": "NAME"}']
    pgha.prepare runs first (modules, pillar validation, mine), then the steps (steps/deploy.sls).
    Then: packages everywhere and etcd members together (parallel), the primary, replicas one
    at a time, the VIP with users/databases on the leader, a summary. Each step ends with a health
    gate in the same state run; the first failed gate stops the orchestration. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('deploy') }}
