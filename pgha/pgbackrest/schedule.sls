{#- Scheduled backups (pgha:pgbackrest:schedule) as systemd timers: on the repository host
    when there is one (pgBackRest finds the primary among the database nodes), else on every
    database node, where each run backs up only if PostgreSQL is not in recovery, so exactly
    the primary of the moment does. (systemd, not cron: every supported node has it.) #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pgbr = pgha.pgbackrest %}
{%- set on_repo_host = 'pgbackrest' in pgha.roles %}
{%- set backup = pgha.paths.pgbackrest_bin ~ ' --stanza=' ~ pgbr.stanza %}

include:
  - {{ tplroot }}.pgbackrest.config

{#- A standby cluster reading its main cluster's repository takes no backup there: the main's
    repository host backs up the main cluster (docs/standby-clusters.md). #}
{%- set main_repo = pgha.standby_repo and not on_repo_host %}
{%- if main_repo %}
pgha-pgbackrest-schedule-none-on-a-standby-cluster:
  test.nop:
    - name: a standby cluster takes no backup in its main cluster's repository (pgha:standby_cluster:pgbackrest)
{%- elif pgbr.repo_host and not on_repo_host %}
pgha-pgbackrest-schedule-on-the-repository-host:
  test.nop:
    - name: backups are scheduled on the repository host
{%- endif %}
{%- for entry in pgbr.schedule if not main_repo and (on_repo_host or not pgbr.repo_host) %}
{%-   set unit = 'pgha-pgbackrest-' ~ entry.type %}
pgha-pgbackrest-{{ entry.type }}-service-managed:
  file.managed:
    - name: /etc/systemd/system/{{ unit }}.service
    - contents: |
        # Managed by Salt (pgha): a {{ entry.type }} backup of stanza {{ pgbr.stanza }}, from the primary.
        [Unit]
        Description=pgBackRest {{ entry.type }} backup of stanza {{ pgbr.stanza }} (from the primary)
        [Service]
        Type=oneshot
{%-   if on_repo_host %}
        User={{ pgbr.repo_host_user }}
        ExecStart={{ backup }} --type={{ entry.type }} backup
{%-   else %}
        User={{ pgha.users.postgres }}
        ExecStart=/bin/sh -c '[ "$(psql -XAtp {{ pgha.postgresql.port }} -c "SELECT pg_is_in_recovery()")" != f ] || exec {{ backup }} --type={{ entry.type }} backup'
{%-   endif %}
    - require:
      - sls: {{ tplroot }}.pgbackrest.config

pgha-pgbackrest-{{ entry.type }}-timer-managed:
  file.managed:
    - name: /etc/systemd/system/{{ unit }}.timer
    - contents: |
        # Managed by Salt (pgha).
        [Unit]
        Description=pgBackRest {{ entry.type }} backups of stanza {{ pgbr.stanza }}
        [Timer]
        OnCalendar={{ entry.on_calendar }}
        [Install]
        WantedBy=timers.target

pgha-pgbackrest-{{ entry.type }}-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-pgbackrest-{{ entry.type }}-service-managed
      - file: pgha-pgbackrest-{{ entry.type }}-timer-managed

pgha-pgbackrest-{{ entry.type }}-timer-running:
  service.running:
    - name: {{ unit }}.timer
    - enable: true
    - watch:
      - file: pgha-pgbackrest-{{ entry.type }}-timer-managed
    - require:
      - module: pgha-pgbackrest-{{ entry.type }}-systemd-reloaded
{%- endfor %}
