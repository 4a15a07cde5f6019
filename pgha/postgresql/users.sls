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

{#- A standby cluster (issue 20) is read-only: its roles and databases are the main cluster's,
    through replication. After pgha.promote and the pillar update, they are applied here. #}
{%- if salt['pgha_patroni.is_leader']() and not pgha.standby_dcs %}
{%-   set present_users = [] %}
{%-   for user in pg.users if user.get('state', 'present') != 'absent' %}{% do present_users.append(user) %}{% endfor %}
{%-   set user_names = present_users | map(attribute='name') | list %}
{#-   every entry in the loop (a removed one skipped inside): loop.index0 is the pillar index #}
{%-   for user in pg.users %}
{%-     if user.get('state', 'present') != 'absent' %}
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
{%-     endif %}
{%-   endfor %}

{#- Membership (autobase's role: a name, names separated by commas, or a list) and the
    connection limit, once every role of the list exists. #}
{%-   for user in present_users if user.get('role') or user.get('conn_limit') is not none %}
{%-     set groups = salt['pgha_postgres.split_names'](user.get('role')) %}
{{ ('pgha-postgresql-user-' ~ user.name ~ '-membership') | json }}:
  pgha_postgres.role_membership:
    - name: {{ user.name | json }}
    - groups: {{ groups | json }}
{%-     if user.get('conn_limit') is not none %}
    - conn_limit: {{ user.conn_limit | int }}
{%-     endif %}
{{- connection() }}
    - require:
{%-     for name in [user.name] + groups if name in user_names %}
      - pgha_postgres: {{ ('pgha-postgresql-user-' ~ name ~ '-present') | json }}
{%-     endfor %}
{%-   endfor %}

{%-   for db in pg.databases if db.get('state', 'present') != 'absent' %}
{{ ('pgha-postgresql-database-' ~ db.name ~ '-present') | json }}:
  pgha_postgres.database_present:
    - name: {{ db.name | json }}
    - owner: {{ db.get('owner', pgha.users.postgres) | json }}
    - encoding: {{ db.get('encoding', pg.encoding) | json }}
    - lc_collate: {{ db.get('lc_collate', pg.locale) | json }}
    - lc_ctype: {{ db.get('lc_ctype', pg.locale) | json }}
{{- connection() }}
{%-     if db.get('owner') in user_names %}
    - require:
      - pgha_postgres: {{ ('pgha-postgresql-user-' ~ db.owner ~ '-present') | json }}
{%-     endif %}
{%-     if db.get('conn_limit') is not none %}
{{ ('pgha-postgresql-database-' ~ db.name ~ '-conn-limit') | json }}:
  pgha_postgres.database_conn_limit:
    - name: {{ db.name | json }}
    - conn_limit: {{ db.conn_limit | int }}
{{- connection() }}
    - require:
      - pgha_postgres: {{ ('pgha-postgresql-database-' ~ db.name ~ '-present') | json }}
{%-     endif %}
{%-   endfor %}
{%-   set db_names = [] %}
{%-   for db in pg.databases if db.get('state', 'present') != 'absent' %}{% do db_names.append(db.name) %}{% endfor %}

{#- Schemas (autobase's postgresql_schemas: schema, db, owner). #}
{%-   for schema in pg.schemas %}
{{ ('pgha-postgresql-schema-' ~ schema.db ~ '-' ~ schema.schema ~ '-present') | json }}:
  pgha_postgres.schema_present:
    - name: {{ schema.schema | json }}
    - db: {{ schema.db | json }}
{%-     if schema.get('owner') %}
    - owner: {{ schema.owner | json }}
{%-     endif %}
{{- connection() }}
{%-     if schema.db in db_names or schema.get('owner') in user_names %}
    - require:
{%-       if schema.db in db_names %}
      - pgha_postgres: {{ ('pgha-postgresql-database-' ~ schema.db ~ '-present') | json }}
{%-       endif %}
{%-       if schema.get('owner') in user_names %}
      - pgha_postgres: {{ ('pgha-postgresql-user-' ~ schema.owner ~ '-present') | json }}
{%-       endif %}
{%-     endif %}
{%-   endfor %}

{%-   for ext in pg.extensions %}
{%-     set ext_id = 'pgha-postgresql-extension-' ~ ext.db ~ '-' ~ ext.name ~ '-present' %}
{%-     set library = salt['pgha_postgres.extension_preload'](ext) %}
{{ ext_id | json }}:
  pgha_postgres.extension_present:
    - name: {{ ext.name | json }}
    - db: {{ ext.db | json }}
{%-       if ext.get('schema') %}
    - schema: {{ ext.schema | json }}
{%-       endif %}
{%-       if library %}
{#-       in shared_preload_libraries of Patroni's configuration (pgha_extensions): until the
          server restarts with it, the state warns and waits (pgha restarts nothing itself) #}
    - preload: {{ library | json }}
{%-       endif %}
{{- connection() }}
{%-       set needs = [] %}
{%-       if ext.db in db_names %}
{%-         do needs.append('pgha-postgresql-database-' ~ ext.db ~ '-present') %}
{%-       endif %}
{%-       for schema in pg.schemas if schema.db == ext.db and schema.schema == ext.get('schema') %}
{%-         do needs.append('pgha-postgresql-schema-' ~ schema.db ~ '-' ~ schema.schema ~ '-present') %}
{%-       endfor %}
{%-       if needs %}
    - require:
{%-         for need in needs %}
      - pgha_postgres: {{ need | json }}
{%-         endfor %}
{%-       endif %}
{%-   endfor %}

{#- Privileges (autobase's postgresql_privs), after the objects above; each entry's
    canonical form comes from pgha_privs (map.jinja: postgresql:privileges). #}
{%-   for priv in pg.privileges %}
{{ ('pgha-' ~ priv.key | replace(':', '-') ~ '-' ~ priv.state) | json }}:
  pgha_postgres.privileges_present:
    - name: {{ priv.key | json }}
{%-     for arg in ['db', 'type', 'roles', 'privs', 'objs', 'schema', 'target_roles', 'grant_option', 'exact'] %}
    - {{ arg }}: {{ priv[arg] | json }}
{%-     endfor %}
    {#- `state` is the state compiler's own key (the module's name): the entry's state goes as `ensure` #}
    - ensure: {{ priv.state | json }}
{{- connection() }}
{%-     set needs = [] %}
{%-     for role in priv.roles + priv.target_roles if role in user_names %}
{%-       do needs.append('pgha-postgresql-user-' ~ role ~ '-present') %}
{%-     endfor %}
{%-     if priv.db in db_names %}
{%-       do needs.append('pgha-postgresql-database-' ~ priv.db ~ '-present') %}
{%-     endif %}
{%-     for schema in pg.schemas if schema.db == priv.db %}
{%-       do needs.append('pgha-postgresql-schema-' ~ schema.db ~ '-' ~ schema.schema ~ '-present') %}
{%-     endfor %}
{%-     for ext in pg.extensions if ext.db == priv.db %}
{%-       do needs.append('pgha-postgresql-extension-' ~ ext.db ~ '-' ~ ext.name ~ '-present') %}
{%-     endfor %}
{%-     if needs %}
    - require:
{%-       for need in needs %}
      - pgha_postgres: {{ need | json }}
{%-       endfor %}
{%-     endif %}
{%-   endfor %}

{#- Removals last: a role's objects go to its heir (reassign_owned_to) after everything
    above exists; a database is dropped only with drop: true (the validator refuses
    state: absent without it, and postgres and the templates always). #}
{%-   for user in pg.users if user.get('state') == 'absent' %}
{{ ('pgha-postgresql-user-' ~ user.name ~ '-absent') | json }}:
  pgha_postgres.role_absent:
    - name: {{ user.name | json }}
{%-     if user.get('reassign_owned_to') %}
    - reassign_owned_to: {{ user.reassign_owned_to | json }}
{%-     endif %}
{{- connection() }}
{%-     if user.get('reassign_owned_to') in user_names %}
    - require:
      - pgha_postgres: {{ ('pgha-postgresql-user-' ~ user.reassign_owned_to ~ '-present') | json }}
{%-     endif %}
{%-   endfor %}
{%-   for db in pg.databases if db.get('state') == 'absent' and db.get('drop') is sameas true %}
{{ ('pgha-postgresql-database-' ~ db.name ~ '-absent') | json }}:
  pgha_postgres.database_absent:
    - name: {{ db.name | json }}
{{- connection() }}
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
{%-     for db in ['template1', 'postgres'] + db_names if pgha.pgbouncer.auth_user.enabled %}
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
{%- elif pgha.standby_dcs %}
pgha-postgresql-users-standby-cluster:
  test.nop:
    - name: a standby cluster; users, databases and extensions come from its main cluster
{%- else %}
pgha-postgresql-users-not-leader:
  test.nop:
    - name: not the leader; users, databases and extensions are applied there
{%- endif %}
