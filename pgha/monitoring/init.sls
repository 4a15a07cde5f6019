{#- pgha:monitoring on a node of the cluster (issue 24, docs/monitoring.md): node_exporter
    everywhere, postgres_exporter and pgbouncer_exporter on database nodes, the exporters'
    PostgreSQL role, and pgha-metrics (the textfile job). #}
include:
  - .install
  - .role
  - .config
  - .service
