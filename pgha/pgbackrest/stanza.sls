{#- The stanza, created once (replicas have nothing to add) and checked: `pgbackrest check`
    pushes a WAL segment through archive_command. From the repository host when there is
    one (it reaches the primary over SSH), else from the leader. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pgbr = pgha.pgbackrest %}
{%- set here = ('pgbackrest' in pgha.roles) if pgbr.repo_host
               else ('postgresql' in pgha.roles and salt['pgha_patroni.is_leader']()) %}
{#- A standby cluster (issue 20) has no primary for pgBackRest to back up until promoted. #}
{%- set here = here and not pgha.standby_dcs %}

include:
  - {{ tplroot }}.pgbackrest.config

{%- if here %}
pgha-pgbackrest-stanza-created:
  pgha_pgbackrest.stanza_created:
    - name: {{ pgbr.stanza }}
{%-   if not pgbr.repo_host %}
    - paused_archive_command: {{ pgha.paused_archive_command | json }}
{%-   endif %}
    - require:
      - sls: {{ tplroot }}.pgbackrest.config
{%- else %}
pgha-pgbackrest-stanza-elsewhere:
  test.nop:
    - name: the stanza is created on {{ 'the repository host' if pgbr.repo_host else 'the leader' }}
{%- endif %}
