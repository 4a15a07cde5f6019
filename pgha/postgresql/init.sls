{#- PostgreSQL binaries only: Patroni owns every cluster (see pgha.patroni). Users,
    databases and extensions are pgha.postgresql.users, applied on the leader. #}
include:
  - .install
  - .extension_pkgs
