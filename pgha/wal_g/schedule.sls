{#- Scheduled backups (pgha:wal_g:backup_on_calendar) as a systemd timer on every database
    node; each run backs up only where PostgreSQL is not in recovery, so exactly the primary
    of the moment does, then deletes what retain_full no longer keeps. '' = no timer (one
    left by an earlier pillar is removed). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/wal_g/commands.jinja" import walg with context %}
{%- set unit = 'pgha-wal-g-backup' %}
{%- set job = walg.backup_push %}
{%- if pgha.wal_g.retain_full | int > 0 %}
{%-   set job = job ~ ' && ' ~ walg.delete_retain %}
{%- endif %}

include:
  - {{ tplroot }}.wal_g.config
{%- if pgha.wal_g.backup_on_calendar %}

pgha-wal-g-backup-service-managed:
  file.managed:
    - name: /etc/systemd/system/{{ unit }}.service
    - contents: |
        # Managed by Salt (pgha): a WAL-G backup, on the primary only.
        [Unit]
        Description=WAL-G backup (primary only)
        [Service]
        Type=oneshot
        User={{ pgha.users.postgres }}
        ExecStart=/bin/sh -c '[ "$(psql -XAtp {{ pgha.postgresql.port }} -c "SELECT pg_is_in_recovery()")" != f ] || { {{ job }}; }'
    - require:
      - sls: {{ tplroot }}.wal_g.config

pgha-wal-g-backup-timer-managed:
  file.managed:
    - name: /etc/systemd/system/{{ unit }}.timer
    - contents: |
        # Managed by Salt (pgha).
        [Unit]
        Description=WAL-G backups
        [Timer]
        OnCalendar={{ pgha.wal_g.backup_on_calendar }}
        [Install]
        WantedBy=timers.target

pgha-wal-g-backup-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-wal-g-backup-service-managed
      - file: pgha-wal-g-backup-timer-managed

pgha-wal-g-backup-timer-running:
  service.running:
    - name: {{ unit }}.timer
    - enable: true
    - watch:
      - file: pgha-wal-g-backup-timer-managed
    - require:
      - module: pgha-wal-g-backup-systemd-reloaded
{%- else %}

{#- No schedule: a timer an earlier pillar installed stops and goes. #}
pgha-wal-g-backup-timer-dead:
  service.dead:
    - name: {{ unit }}.timer
    - enable: false

pgha-wal-g-backup-units-absent:
  file.absent:
    - names:
      - /etc/systemd/system/{{ unit }}.timer
      - /etc/systemd/system/{{ unit }}.service
    - require:
      - service: pgha-wal-g-backup-timer-dead
{%- endif %}
