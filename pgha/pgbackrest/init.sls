{#- pgBackRest on a database node or the repository host: the package, its configuration (the
    repository from pillar; SSH trust with a repository host) and the backup schedule. The
    stanza is created by pgha.pgbackrest.stanza. #}
include:
  - .install
  - .config
  - .schedule
