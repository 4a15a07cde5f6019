{#- Scheduled backups (pgha:pgbackrest:schedule) as systemd timers on every database node; each
    run backs up only where PostgreSQL is not in recovery, so exactly the primary of the
    moment does. (systemd, not cron: every supported node has it.) #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pgbr = pgha.pgbackrest %}

include:
  - {{ tplroot }}.pgbackrest.config

{%- for entry in pgbr.schedule %}
{%-   set unit = 'pgha-pgbackrest-' ~ entry.type %}
pgha-pgbackrest-{{ entry.type }}-service-managed:
  file.managed:
    - name: /etc/systemd/system/{{ unit }}.service
    - contents: |
        # Managed by Salt (pgha): a {{ entry.type }} backup of stanza {{ pgbr.stanza }}, on the primary only.
        [Unit]
        Description=pgBackRest {{ entry.type }} backup of stanza {{ pgbr.stanza }} (primary only)
        [Service]
        Type=oneshot
        User={{ pgha.users.postgres }}
        ExecStart=/bin/sh -c '[ "$(psql -XAtp {{ pgha.postgresql.port }} -c "SELECT pg_is_in_recovery()")" != f ] || exec {{ pgha.paths.pgbackrest_bin }} --stanza={{ pgbr.stanza }} --type={{ entry.type }} backup'
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
