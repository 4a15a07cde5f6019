{#- pgbackrest.conf from pillar. Without a repository host every database node reaches the
    repository itself (a shared posix path, s3, gcs, azure). With one (the minion with role
    pgbackrest), the repository lives there: the database nodes reach it over SSH, and it
    reaches every database node to back up the primary of the moment. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pgbr = pgha.pgbackrest %}
{%- set on_repo_host = 'pgbackrest' in pgha.roles %}
{%- set owner = pgbr.repo_host_user if on_repo_host else pgha.users.postgres %}

include:
  - {{ tplroot }}.pgbackrest.install
{%- if pgbr.repo_host or pgha.standby_repo %}
  - {{ tplroot }}.pgbackrest.ssh_trust
{%- endif %}

{#- May hold repository credentials (s3 keys): its user's alone (0600; pgBackRest runs as that
    user: postgres on a database node, the repository user on the repository host), never
    diffed. The template reads them from the map, so no secret is among this state's
    arguments. #}
pgha-pgbackrest-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.pgbackrest_config }}
    - source: salt://{{ tplroot }}/pgbackrest/files/pgbackrest.conf.jinja
    - template: jinja
    - makedirs: true
    - user: {{ owner }}
    - group: {{ owner }}
    - mode: '0600'
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
    - require:
      - sls: {{ tplroot }}.pgbackrest.install
{%- if pgbr.repo.type == 'posix' and (on_repo_host or not (pgbr.repo_host or pgha.standby_repo)) %}

{#- A posix repository: on the repository host, or a path every database node shares (NFS
    or similar) where the primary of the moment writes and any node restores from. #}
pgha-pgbackrest-repo-dir-managed:
  file.directory:
    - name: {{ pgbr.repo.path }}
    - user: {{ owner }}
    - group: {{ owner }}
    - mode: '0750'
    - makedirs: true
    - require:
      - sls: {{ tplroot }}.pgbackrest.install
{%- endif %}
{%- if on_repo_host %}

pgha-pgbackrest-log-dir-managed:
  file.directory:
    - name: {{ pgha.paths.pgbackrest_log }}
    - user: {{ owner }}
    - group: {{ owner }}
    - mode: '0750'
    - require:
      - sls: {{ tplroot }}.pgbackrest.install
{%- endif %}
