{#- pgha.monitor's steps: the monitor minions only (pgha.monitors on the master). -#}
{%- set cluster = salt['pillar.get']('cluster', None) %}
{%- set found = salt['saltutil.runner']('pgha.monitors', cluster=cluster) %}
{%- if found.problems %}
pgha-monitor-refused:
  test.fail_without_changes:
    - name: pgha.monitor refused
    - comment: {{ ('pgha.monitor refused (no node was changed):\n' ~ found.problems | join('\n')) | json }}
{%- else %}

pgha-monitor-utils-synced:
  salt.function:
    - name: saltutil.sync_utils
    - tgt: {{ found.minions | join(',') }}
    - tgt_type: list
    - kwarg: {refresh: false}

pgha-monitor-modules-synced:
  salt.function:
    - name: saltutil.sync_modules
    - tgt: {{ found.minions | join(',') }}
    - tgt_type: list
    - kwarg: {refresh: true}
    - require:
      - salt: pgha-monitor-utils-synced

{#- pillar validated, membership (with the clusters it scrapes) published to the mine #}
pgha-monitor-prepared:
  salt.state:
    - tgt: {{ found.minions | join(',') }}
    - tgt_type: list
    - sls: pgha.gate.prepared
    - require:
      - salt: pgha-monitor-modules-synced

pgha-monitor-applied:
  salt.state:
    - tgt: {{ found.minions | join(',') }}
    - tgt_type: list
    - sls:
      - pgha.system
      - pgha.firewall.optional
      - pgha.prometheus
    - require:
      - salt: pgha-monitor-prepared
{%- endif %}
