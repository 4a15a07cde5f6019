{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pgbr = pgha.pgbackrest %}

include:
  - {{ tplroot }}.pgbackrest.install

{#- May hold repository credentials (s3 keys): readable by postgres only, never diffed. #}
pgha-pgbackrest-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.pgbackrest_config }}
    - source: salt://{{ tplroot }}/pgbackrest/files/pgbackrest.conf.jinja
    - template: jinja
    - makedirs: true
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0640'
    - show_changes: false
    - context:
        pgbr: {{ pgbr | json }}
        restore_stanza: {{ pgha.restore.stanza | json }}
        data_dir: {{ pgha.postgresql.data_dir | json }}
        port: {{ pgha.postgresql.port }}
        socket: {{ pgha.paths.run_dir | json }}
    - require:
      - sls: {{ tplroot }}.pgbackrest.install
{%- if pgbr.repo.type == 'posix' %}

{#- A posix repository is a path every database node shares (NFS or similar): the primary of
    the moment writes WAL and backups there, any node restores from it. #}
pgha-pgbackrest-repo-dir-managed:
  file.directory:
    - name: {{ pgbr.repo.path }}
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0750'
    - makedirs: true
    - require:
      - sls: {{ tplroot }}.pgbackrest.install
{%- endif %}
