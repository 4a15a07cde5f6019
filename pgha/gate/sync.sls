{#- Orchestration step 1: this formula's execution and state modules on the minion. #}
pgha-gate-modules-synced:
  saltutil.sync_all:
    - refresh: true
