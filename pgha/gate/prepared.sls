{#- Orchestration step 1: this formula's modules on the minion, then reject bad pillar before
    any node changes, then publish this node's address to the mine for its peers.
    Changes nothing on the node itself. -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{#- Only what pgha ships (sync_all would scan every loader type: ~4 s instead of ~0.5 s).
    utils: pgha_cluster, the cluster checks behind pgha.check_cluster. #}
pgha-gate-utils-synced:
  saltutil.sync_utils:
    - refresh: false

pgha-gate-modules-synced:
  saltutil.sync_modules:
    - refresh: false

pgha-gate-states-synced:
  saltutil.sync_states:
    - refresh: true
    {#- the states below come from the modules synced here #}
    - reload_modules: true

pgha-gate-pillar-valid:
  pgha.pillar_valid:
    - require:
      - saltutil: pgha-gate-utils-synced
      - saltutil: pgha-gate-modules-synced
      - saltutil: pgha-gate-states-synced

pgha-gate-address-published:
  pgha.address_published:
    - require:
      - pgha: pgha-gate-pillar-valid

{#- The cluster, roles and address in which the other nodes find their cluster's members by
    exact name (map.jinja's members); published here too for pillars whose mine_functions
    list only pgha_address. #}
pgha-gate-member-published:
  pgha_settings.member_published:
    - require:
      - pgha: pgha-gate-pillar-valid

{#- A standalone PostgreSQL to adopt must match pillar before any node changes. #}
{%- if pgha.postgresql_exists %}
pgha-gate-existing-postgresql-checked:
  pgha.existing_postgresql_matches:
    - version: {{ pgha.postgresql.version | json }}
    - data_dir: {{ pgha.postgresql.data_dir | json }}
    - require:
      - pgha: pgha-gate-pillar-valid
{%- endif %}
