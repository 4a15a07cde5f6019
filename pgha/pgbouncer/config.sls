{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pgb = pgha.pgbouncer %}
{%- from tplroot ~ "/map.jinja" import tls_files with context %}

include:
  - {{ tplroot }}.pgbouncer.install
{%- if pgha.tls.enabled %}
  - {{ tplroot }}.postgresql.tls
{%- endif %}

pgha-pgbouncer-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.pgbouncer_config }}
    - source: salt://{{ tplroot }}/pgbouncer/files/pgbouncer.ini.jinja
    - template: jinja
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0640'
    - context:
        {#- the auth user's name only: its password goes to the userlist's template alone #}
        pgb: {{ dict(pgb, auth_user={'name': pgb.auth_user.name}) | json }}
        pg_port: {{ pgha.postgresql.port }}
        userlist: {{ pgha.paths.pgbouncer_userlist }}
        run_dir: {{ pgha.paths.run_dir }}
{%- if pgha.tls.enabled %}
        tls:
          ca: {{ tls_files.ca }}
          cert: {{ tls_files.postgres.cert }}
          key: {{ tls_files.postgres.key }}
          client_sslmode: {{ 'require' if pgha.tls.require_ssl else 'prefer' }}
{%- endif %}
    - require:
      - sls: {{ tplroot }}.pgbouncer.install
{%- if pgha.tls.enabled %}
      - sls: {{ tplroot }}.postgresql.tls
{%- endif %}

{#- Only the auth_query role's password: clients are checked against PostgreSQL itself. The
    template reads it from the map, so no secret is among this state's arguments. #}
pgha-pgbouncer-userlist-file-managed:
  file.managed:
    - name: {{ pgha.paths.pgbouncer_userlist }}
    - source: salt://{{ tplroot }}/pgbouncer/files/userlist.txt.jinja
    - template: jinja
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0600'
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
    - require:
      - sls: {{ tplroot }}.pgbouncer.install
