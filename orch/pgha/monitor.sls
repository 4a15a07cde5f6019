{#- salt-run state.orch pgha.monitor [pillar='{"cluster": "NAME"}']
    A monitor shared by several clusters (pgha:monitoring:clusters): its scrape targets come
    from the mine of every cluster it names. This orchestration changes the monitor minions
    only (all minions with the monitor role, or those of cluster NAME): it syncs pgha's
    modules to them, validates their pillar, publishes their membership, then applies
    pgha.monitor. The clusters' own nodes are not touched: their firewalls learn a new
    monitor on their next pgha.config (docs/monitoring.md). -#}
{%- set request = {} %}
{%- set cluster = salt['pillar.get']('cluster', None) %}
{%- if cluster is not none %}{% do request.update({'cluster': cluster}) %}{% endif %}
pgha-monitor-runners-synced:
  salt.runner:
    - name: saltutil.sync_runners

pgha-monitor-utils-synced:
  salt.runner:
    - name: saltutil.sync_utils

pgha-monitor-steps:
  salt.runner:
    - name: state.orchestrate
    - mods: pgha.steps.monitor
    - pillar: {{ request | json }}
    - require:
      - salt: pgha-monitor-runners-synced
      - salt: pgha-monitor-utils-synced
