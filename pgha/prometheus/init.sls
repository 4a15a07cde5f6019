{#- The monitor role (issue 24, docs/monitoring.md): Prometheus and Alertmanager from the
    distribution's packages, scraping the clusters this minion watches (its own, and
    pgha:monitoring:clusters), with pgha's alert and recording rules. #}
include:
  - .install
  - .config
  - .service
