{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.postgresql.install

{#- Holds the storage credentials (pgha:wal_g:json): owner-only and never diffed. The template
    reads them from the map itself, so no secret is among this state's arguments. #}
pgha-wal-g-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.wal_g_config }}
    - source: salt://{{ tplroot }}/wal_g/files/walg.json.jinja
    - template: jinja
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0600'
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
    - require:
      - sls: {{ tplroot }}.postgresql.install
{%- set file_prefix = pgha.wal_g.json.get('WALG_FILE_PREFIX', '') %}
{%- if file_prefix %}

{#- File storage is a path every database node shares (NFS or similar): the primary of the
    moment pushes WAL and backups there, any node fetches from it. #}
pgha-wal-g-file-prefix-dir-managed:
  file.directory:
    - name: {{ file_prefix }}
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0750'
    - makedirs: true
    - require:
      - sls: {{ tplroot }}.postgresql.install
{%- endif %}
