{#- salt-run state.orch pgha.prepare [pillar='{"cluster": "NAME"}']: sync pgha's modules to the
    cluster's minions, validate their pillar (nothing changes on a node when it is bad) and
    publish addresses to the mine. Every orchestration runs it first (pgha/stages.jinja), so
    that its steps see a filled-in mine. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('prepare', steps=False) }}
