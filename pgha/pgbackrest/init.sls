{#- pgBackRest on a database node: the package, its configuration (the repository from pillar)
    and the backup schedule. The stanza is created on the leader by pgha.pgbackrest.stanza. #}
include:
  - .install
  - .config
  - .schedule
