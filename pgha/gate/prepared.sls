{#- Orchestration step 2: reject bad pillar before any node changes, then publish this node's
    address to the mine for its peers. Changes nothing on the node. #}
pgha-gate-pillar-valid:
  pgha.pillar_valid: []

pgha-gate-address-published:
  pgha.address_published:
    - require:
      - pgha: pgha-gate-pillar-valid
