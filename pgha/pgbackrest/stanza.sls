{#- The stanza, created once from the leader (replicas have nothing to add), then checked:
    `pgbackrest check` pushes a WAL segment through archive_command. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.pgbackrest.config

{%- if salt['pgha_patroni.is_leader']() %}
pgha-pgbackrest-stanza-created:
  pgha_pgbackrest.stanza_created:
    - name: {{ pgha.pgbackrest.stanza }}
    - paused_archive_command: {{ pgha.paused_archive_command | json }}
    - require:
      - sls: {{ tplroot }}.pgbackrest.config
{%- else %}
pgha-pgbackrest-stanza-on-the-leader:
  test.nop:
    - name: the stanza is created on the leader
{%- endif %}
