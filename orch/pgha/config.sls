{#- salt-run state.orch pgha.config [pillar='{"cluster": "NAME"}']
    Apply pillar changes to a running cluster: every node converges to pillar (files reload,
    the DCS configuration is patched through Patroni), then a summary shows the members whose
    change waits for a restart. With pgha:patroni:pending_restart: true they restart in the
    order PostgreSQL requires (pgha.restart's rolling restart).
    pillar='{"resume_archiving": true}' also resumes WAL archiving paused by a restore. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('config') }}
