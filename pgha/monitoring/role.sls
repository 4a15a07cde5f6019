{#- The exporters' PostgreSQL role: LOGIN and pg_monitor, nothing else (least privilege). Made
    on the leader; the replicas get it through replication. Its password is read from pillar
    on the minion (password_pillar), never a state argument. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set name = pgha.monitoring.user.name %}

{%- if 'postgresql' in pgha.roles and salt['pgha_patroni.is_leader']() %}
pgha-monitoring-role-present:
  pgha_postgres.role_present:
    - name: {{ name | json }}
    - password_pillar: pgha:monitoring:user:password
    - login: true
    - superuser: false
    - createdb: false
    - createrole: false
    - replication: false
    - runas: {{ pgha.users.postgres | json }}
    - port: {{ pgha.postgresql.port | json }}
    - host: {{ pgha.paths.run_dir | json }}

pgha-monitoring-role-membership:
  pgha_postgres.role_membership:
    - name: {{ name | json }}
    - groups: [pg_monitor]
    - runas: {{ pgha.users.postgres | json }}
    - port: {{ pgha.postgresql.port | json }}
    - host: {{ pgha.paths.run_dir | json }}
    - require:
      - pgha_postgres: pgha-monitoring-role-present
{%- else %}
pgha-monitoring-role-not-here:
  test.nop:
    - name: the exporters' role is made on the leader
{%- endif %}
