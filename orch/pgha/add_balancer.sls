{#- salt-run state.orch pgha.add_balancer pillar='{"target": "lb3"}'
    A new HAProxy/keepalived node in the configuration of the existing balancers (same
    pillar), joining the VIP group; the database nodes admit it in pg_hba (direct ports).
    The same steps as pgha.add_node, which handles every role. -#}
include:
  - pgha.add_node
