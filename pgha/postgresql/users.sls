{#- Users, databases and extensions from pillar. Rendered on every database node, acts only on
    the leader (replicas are read-only and receive it all through replication). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pg = pgha.postgresql %}
{#- Salt's postgres_* states run psql as the postgres OS user over the local socket (peer). #}
{%- set conn = {'user': pgha.users.postgres, 'db_port': pg.port} %}

{%- if salt['pgha_patroni.is_leader']() %}
{%-   for user in pg.users %}
pgha-postgresql-user-{{ user.name }}-present:
  postgres_user.present:
    - name: {{ user.name }}
    - password: {{ user.password | json }}
    - encrypted: scram-sha-256
    - login: {{ user.get('login', true) }}
    - superuser: {{ user.get('superuser', false) }}
    - createdb: {{ user.get('createdb', false) }}
    - createroles: {{ user.get('createrole', false) }}
    - replication: {{ user.get('replication', false) }}
{%-     for key, value in conn.items() %}
    - {{ key }}: {{ value }}
{%-     endfor %}
{%-   endfor %}

{%-   for db in pg.databases %}
pgha-postgresql-database-{{ db.name }}-present:
  postgres_database.present:
    - name: {{ db.name }}
    - owner: {{ db.get('owner', pgha.users.postgres) }}
    - encoding: {{ db.get('encoding', pg.encoding) }}
    - lc_collate: {{ db.get('lc_collate', pg.locale) }}
    - lc_ctype: {{ db.get('lc_ctype', pg.locale) }}
    - template: template0
{%-     for key, value in conn.items() %}
    - {{ key }}: {{ value }}
{%-     endfor %}
{%-   endfor %}

{%-   for ext in pg.extensions %}
pgha-postgresql-extension-{{ ext.db }}-{{ ext.name }}-present:
  postgres_extension.present:
    - name: {{ ext.name }}
    - maintenance_db: {{ ext.db }}
{%-     if ext.get('schema') %}
    - schema: {{ ext.schema }}
{%-     endif %}
{%-     for key, value in conn.items() %}
    - {{ key }}: {{ value }}
{%-     endfor %}
{%-   endfor %}

{%-   if pgha.pgbouncer.enabled %}
{%-     set pgb_user = pgha.pgbouncer.auth_user.name %}
{#- PgBouncer's auth_query role: may only call pgbouncer.get_auth(), which reads pg_shadow
    for it (SECURITY DEFINER); created in template1 too, so new databases inherit it. #}
pgha-postgresql-user-{{ pgb_user }}-present:
  postgres_user.present:
    - name: {{ pgb_user }}
    - password: {{ pgha.pgbouncer.auth_user.password | json }}
    - encrypted: scram-sha-256
    - login: true
{%-     for key, value in conn.items() %}
    - {{ key }}: {{ value }}
{%-     endfor %}
{%-     for db in ['template1', 'postgres'] + pg.databases | map(attribute='name') | list %}
{%-       set psql = 'psql -X -p ' ~ pg.port ~ ' -d ' ~ db %}
pgha-postgresql-pgbouncer-auth-function-{{ db }}-present:
  cmd.run:
    - name: {{ psql }} -q -v ON_ERROR_STOP=1 -f -
    - runas: {{ pgha.users.postgres }}
    - stdin: |
        CREATE SCHEMA IF NOT EXISTS pgbouncer;
        CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename text)
          RETURNS TABLE(usename name, passwd text) LANGUAGE sql SECURITY DEFINER
          SET search_path = pg_catalog
          AS $$ SELECT usename, passwd FROM pg_shadow WHERE usename = p_usename $$;
        REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
        GRANT USAGE ON SCHEMA pgbouncer TO {{ pgb_user }};
        GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO {{ pgb_user }};
    - unless: {{ psql }} -tAc "SELECT has_function_privilege('{{ pgb_user }}', 'pgbouncer.get_auth(text)', 'EXECUTE')" | grep -qx t
    - require:
      - postgres_user: pgha-postgresql-user-{{ pgb_user }}-present
{%-       if db not in ['template1', 'postgres'] %}
      - postgres_database: pgha-postgresql-database-{{ db }}-present
{%-       endif %}
{%-     endfor %}
{%-   endif %}
{%- else %}
pgha-postgresql-users-not-leader:
  test.nop:
    - name: not the leader; users, databases and extensions are applied there
{%- endif %}
