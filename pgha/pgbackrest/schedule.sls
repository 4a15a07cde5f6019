{#- Scheduled backups (pgha:pgbackrest:schedule) in the postgres user's crontab on every
    database node; each run backs up only where PostgreSQL is not in recovery, so exactly the
    primary of the moment does. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pgbr = pgha.pgbackrest %}
{%- set primary_check = '[ "$(psql -XAtp %s -c "SELECT pg_is_in_recovery()")" = f ]' % pgha.postgresql.port %}

include:
  - {{ tplroot }}.pgbackrest.config

{%- for entry in pgbr.schedule %}
pgha-pgbackrest-{{ entry.type }}-backup-scheduled:
  cron.present:
    - name: {{ (primary_check ~ ' && ' ~ pgha.paths.pgbackrest_bin ~ ' --stanza=' ~ pgbr.stanza ~ ' --type=' ~ entry.type ~ ' backup') | json }}
    - identifier: pgha-pgbackrest-{{ entry.type }}
    - user: {{ pgha.users.postgres }}
{%-   for key in ['minute', 'hour', 'daymonth', 'month', 'dayweek'] if key in entry %}
    - {{ key }}: {{ entry[key] | string | json }}
{%-   endfor %}
    - require:
      - sls: {{ tplroot }}.pgbackrest.config
{%- endfor %}
