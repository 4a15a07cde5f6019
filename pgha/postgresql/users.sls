{#- Users, databases and extensions from pillar. Rendered on every database node, acts only on
    the leader (replicas are read-only and receive it all through replication).
    Names reach SQL only as quoted identifiers (pgha_postgres), so any name PostgreSQL allows
    works as it is written (case kept). Passwords are not state arguments: each role state
    names the pillar key that holds its password and reads it on the minion. A state ID holds
    a name as a JSON string (a valid YAML scalar whatever the name contains). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pg = pgha.postgresql %}
{#- As the postgres OS user over the local socket (pg_hba's peer line). #}
{%- set conn = {'runas': pgha.users.postgres, 'port': pg.port, 'host': pgha.paths.run_dir} %}

{%- macro connection() %}
{%-   for key, value in conn.items() %}
    - {{ key }}: {{ value | json }}
{%-   endfor %}
{%- endmacro %}

{%- if salt['pgha_patroni.is_leader']() %}
{%-   for user in pg.users %}
{{ ('pgha-postgresql-user-' ~ user.name ~ '-present') | json }}:
  pgha_postgres.role_present:
    - name: {{ user.name | json }}
    - password_pillar: {{ ('pgha:postgresql:users:' ~ loop.index0 ~ ':password') | json }}
    - login: {{ user.get('login', true) | json }}
    - superuser: {{ user.get('superuser', false) | json }}
    - createdb: {{ user.get('createdb', false) | json }}
    - createrole: {{ user.get('createrole', false) | json }}
    - replication: {{ user.get('replication', false) | json }}
{{- connection() }}
{%-   endfor %}

{%-   for db in pg.databases %}
{{ ('pgha-postgresql-database-' ~ db.name ~ '-present') | json }}:
  pgha_postgres.database_present:
    - name: {{ db.name | json }}
    - owner: {{ db.get('owner', pgha.users.postgres) | json }}
    - encoding: {{ db.get('encoding', pg.encoding) | json }}
    - lc_collate: {{ db.get('lc_collate', pg.locale) | json }}
    - lc_ctype: {{ db.get('lc_ctype', pg.locale) | json }}
{{- connection() }}
{%-     if db.get('owner') in pg.users | map(attribute='name') | list %}
    - require:
      - pgha_postgres: {{ ('pgha-postgresql-user-' ~ db.owner ~ '-present') | json }}
{%-     endif %}
{%-   endfor %}

{%-   for ext in pg.extensions %}
{{ ('pgha-postgresql-extension-' ~ ext.db ~ '-' ~ ext.name ~ '-present') | json }}:
  pgha_postgres.extension_present:
    - name: {{ ext.name | json }}
    - db: {{ ext.db | json }}
{%-     if ext.get('schema') %}
    - schema: {{ ext.schema | json }}
{%-     endif %}
{{- connection() }}
{%-     if ext.db in pg.databases | map(attribute='name') | list %}
    - require:
      - pgha_postgres: {{ ('pgha-postgresql-database-' ~ ext.db ~ '-present') | json }}
{%-     endif %}
{%-   endfor %}

{%-   if pgha.pgbouncer.enabled %}
{%-     set pgb_user = pgha.pgbouncer.auth_user.name %}
{#- PgBouncer's auth_query role: may only call pgbouncer.get_auth(), which reads pg_shadow
    for it (SECURITY DEFINER); created in template1 too, so new databases inherit it. #}
{{ ('pgha-postgresql-user-' ~ pgb_user ~ '-present') | json }}:
  pgha_postgres.role_present:
    - name: {{ pgb_user | json }}
    - password_pillar: pgha:pgbouncer:auth_user:password
    - login: true
{{- connection() }}
{#-     userlist mode (auth_user:enabled false): the role stays, PgBouncer's admin user, with no
        auth function to call #}
{%-     for db in (['template1', 'postgres'] + pg.databases | map(attribute='name') | list)
                  if pgha.pgbouncer.auth_user.enabled %}
{{ ('pgha-postgresql-pgbouncer-auth-function-' ~ db ~ '-present') | json }}:
  pgha_postgres.auth_function_present:
    - name: {{ db | json }}
    - auth_user: {{ pgb_user | json }}
{{- connection() }}
    - require:
      - pgha_postgres: {{ ('pgha-postgresql-user-' ~ pgb_user ~ '-present') | json }}
{%-       if db not in ['template1', 'postgres'] %}
      - pgha_postgres: {{ ('pgha-postgresql-database-' ~ db ~ '-present') | json }}
{%-       endif %}
{%-     endfor %}
{%-   endif %}
{%- else %}
pgha-postgresql-users-not-leader:
  test.nop:
    - name: not the leader; users, databases and extensions are applied there
{%- endif %}
