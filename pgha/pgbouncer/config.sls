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
        pgb: {{ dict(pgb, auth_user={'name': pgb.auth_user.name, 'enabled': pgb.auth_user.enabled}) | json }}
        pg_port: {{ pgha.postgresql.port }}
        userlist: {{ pgha.paths.pgbouncer_userlist }}
        run_dir: {{ pgha.paths.run_dir }}
        monitor_user: {{ (pgha.monitoring.user.name if pgha.monitoring.enabled else '') | json }}
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

{#- auth_query mode: only the auth_query role's password, clients are checked against PostgreSQL
    itself. Userlist mode (pgbouncer:auth_user:enabled false): the SCRAM verifiers of that role and
    of every postgresql:users entry with a password, as PostgreSQL stores them (the same salt, so
    PgBouncer logs in to PostgreSQL with the client's SCRAM proof). The template reads them itself,
    so no secret is among this state's arguments. #}
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

{#- pgbouncer:processes > 1: processes 2..N are pgbouncer@N (a template unit, see service.sls),
    each with its own copy of the configuration (its own Unix socket directory), all sharing
    the port through so_reuseport. #}
{%- for instance in range(2, pgb.processes + 1) %}

pgha-pgbouncer-config-file-{{ instance }}-managed:
  file.managed:
    - name: {{ pgha.paths.pgbouncer_config | replace('.ini', '-' ~ instance ~ '.ini') }}
    - source: salt://{{ tplroot }}/pgbouncer/files/pgbouncer.ini.jinja
    - template: jinja
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0640'
    - context:
        pgb: {{ dict(pgb, auth_user={'name': pgb.auth_user.name, 'enabled': pgb.auth_user.enabled}) | json }}
        instance: {{ instance }}
        pg_port: {{ pgha.postgresql.port }}
        userlist: {{ pgha.paths.pgbouncer_userlist }}
        run_dir: {{ pgha.paths.run_dir }}
        monitor_user: {{ (pgha.monitoring.user.name if pgha.monitoring.enabled else '') | json }}
{%-   if pgha.tls.enabled %}
        tls:
          ca: {{ tls_files.ca }}
          cert: {{ tls_files.postgres.cert }}
          key: {{ tls_files.postgres.key }}
          client_sslmode: {{ 'require' if pgha.tls.require_ssl else 'prefer' }}
{%-   endif %}
    - require:
      - sls: {{ tplroot }}.pgbouncer.install
{%-   if pgha.tls.enabled %}
      - sls: {{ tplroot }}.postgresql.tls
{%-   endif %}
{%- endfor %}
