{#- WAL-G on a database node: the binary (from pgha:wal_g:url), its configuration (storage and
    credentials from pillar) and the backup timer. The WAL archive itself is Patroni's
    archive_command (patroni/dcs.jinja). #}
include:
  - .install
  - .config
  - .schedule
