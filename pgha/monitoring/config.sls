{#- The exporters' settings (Debian reads each one's ARGS from /etc/default) and pgha-metrics.
    The password of the exporters' role is only in files readable by root (systemd reads an
    EnvironmentFile as root) or by the exporter's own user: never in a unit's ExecStart, a
    state argument or Salt's output. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, tls_files with context %}
{%- set mon = pgha.monitoring %}
{%- set paths = pgha.paths %}
{%- set points = salt['pgha_monitoring.endpoints']() %}
{#- PgBouncer on this node: pgha-metrics reads its SHOW POOLS (the waiting-clients alert) on
    every release; its exporter runs only where monitoring:pgbouncer_exporter ('pgbouncer' in
    points, parameters/osfinger). #}
{%- set pgb_sockets = salt['pgha_monitoring.pgbouncer_sockets']() %}
{%- set pgbouncer_here = pgb_sockets | length > 0 %}

include:
  - {{ tplroot }}.monitoring.install

pgha-monitoring-node-exporter-env-managed:
  file.managed:
    - name: {{ paths.node_exporter_env }}
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha:monitoring)
        ARGS={{ salt['pgha_formats.env_value']('--web.listen-address=:' ~ mon.ports.node_exporter ~ ' --collector.textfile.directory=' ~ paths.textfile_dir, 'pgha:monitoring:ports:node_exporter') }}
    - require:
      - sls: {{ tplroot }}.monitoring.install

pgha-monitoring-textfile-dir-managed:
  file.directory:
    - name: {{ paths.textfile_dir }}
    - mode: '0755'
    - makedirs: true

pgha-monitoring-metrics-script-managed:
  file.managed:
    - name: {{ paths.pgha_metrics_bin }}
    - source: salt://{{ tplroot }}/monitoring/files/pgha-metrics.py
    - mode: '0755'
    - makedirs: true

{#- What pgha-metrics looks at on this node (nothing secret). #}
pgha-monitoring-metrics-config-managed:
  file.serialize:
    - name: {{ paths.pgha_metrics_config }}
    - mode: '0644'
    - makedirs: true
    - serializer: json
    - dataset:
        textfile_dir: {{ paths.textfile_dir | json }}
        vip: {{ pgha.cluster_vip | json }}
        certificates: {{ ([tls_files.postgres.cert, tls_files.etcd.cert, tls_files.ca] if pgha.tls.enabled else []) | json }}
        postgresql: {{ ('postgresql' in pgha.roles) | json }}
        pgbackrest: {{ (pgha.pgbackrest.enabled and 'postgresql' in pgha.roles) | json }}
        pgbackrest_bin: {{ paths.pgbackrest_bin | json }}
        stanza: {{ pgha.pgbackrest.stanza | json }}
        psql: {{ (pgha.postgresql.bin_dir ~ '/psql') | json }}
        run_dir: {{ paths.run_dir | json }}
        port: {{ pgha.postgresql.port | json }}
        postgres_user: {{ pgha.users.postgres | json }}
        pgbouncer: {{ pgbouncer_here | json }}
        pgbouncer_sockets: {{ pgb_sockets | json }}
        pgbouncer_port: {{ pgha.pgbouncer.port | json }}
        pgbouncer_user: {{ pgha.monitoring.user.name | json }}
        pgbouncer_pgpass: {{ paths.pgbouncer_monitor_pgpass | json }}

pgha-monitoring-metrics-units-managed:
  file.managed:
    - names:
      - /etc/systemd/system/pgha-metrics.service:
        - source: salt://{{ tplroot }}/monitoring/files/pgha-metrics.service.jinja
      - /etc/systemd/system/pgha-metrics.timer:
        - source: salt://{{ tplroot }}/monitoring/files/pgha-metrics.timer.jinja
    - template: jinja
    - mode: '0644'
    - context:
        bin: {{ paths.pgha_metrics_bin | json }}
        config: {{ paths.pgha_metrics_config | json }}
        interval: {{ mon.textfile_interval | int }}
{%- if 'postgres' in points %}

{#- postgres_exporter: DATA_SOURCE_URI/USER/PASS (not DATA_SOURCE_NAME, which would carry the
    password in a URL). The template reads the password from the map itself. #}
pgha-monitoring-postgres-exporter-env-managed:
  file.managed:
    - name: {{ paths.postgres_exporter_env }}
    - source: salt://{{ tplroot }}/monitoring/files/postgres-exporter.env.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0600'
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
    - require:
      - sls: {{ tplroot }}.monitoring.install
{%- endif %}
{%- if pgbouncer_here %}

{#- The exporters' role's password for PgBouncer's console (a stats_users entry), in libpq's
    password file (0600, postgres): read by pgha-metrics (root) and, where it runs, by the
    exporter (Debian 13's unit: User=postgres) through PGPASSFILE. Never in a command line or
    a world-readable file. #}
pgha-monitoring-pgbouncer-exporter-pgpass-managed:
  file.managed:
    - name: {{ paths.pgbouncer_monitor_pgpass }}
    - source: salt://{{ tplroot }}/monitoring/files/pgpass.jinja
    - template: jinja
    - user: {{ pgha.users.postgres | json }}
    - group: {{ pgha.users.postgres | json }}
    - mode: '0600'
    - makedirs: true
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
        port: {{ pgha.pgbouncer.port }}
        database: pgbouncer
    - require:
      - sls: {{ tplroot }}.monitoring.install
{%- endif %}
{%- if 'pgbouncer' in points %}

{#- PgBouncer's exporter (Debian 13: prometheus-community's pgbouncer_exporter 0.10.2, Go).
    Debian's unit runs it as postgres with $ARGS from /etc/default (EnvironmentFile). Its connection string
    comes from the variable it reads (kingpin Envar PGBOUNCER_EXPORTER_CONNECTION_STRING), with
    no password: lib/pq 1.10.9 reads PGPASSFILE (a 0600 file) itself. #}
pgha-monitoring-pgbouncer-exporter-env-managed:
  file.managed:
    - name: {{ paths.pgbouncer_exporter_env }}
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha:monitoring): no password here (PGPASSFILE, 0600)
        PGBOUNCER_EXPORTER_CONNECTION_STRING={{ salt['pgha_formats.env_value']('host=' ~ salt['pgha_formats.conninfo_value'](paths.run_dir, 'pgha:paths:run_dir') ~ ' port=' ~ pgha.pgbouncer.port ~ ' dbname=pgbouncer user=' ~ salt['pgha_formats.conninfo_value'](mon.user.name, 'pgha:monitoring:user:name') ~ ' sslmode=disable', 'pgha:monitoring:user:name') }}
        PGPASSFILE={{ salt['pgha_formats.env_value'](paths.pgbouncer_monitor_pgpass, 'pgha:paths:pgbouncer_monitor_pgpass') }}
        ARGS={{ salt['pgha_formats.env_value']('--web.listen-address=:' ~ mon.ports.pgbouncer_exporter, 'pgha:monitoring:ports:pgbouncer_exporter') }}
    - require:
      - sls: {{ tplroot }}.monitoring.install

{#- Restart=on-failure: the exporter gives up when PgBouncer is not up yet at boot. #}
pgha-monitoring-pgbouncer-exporter-dropin-managed:
  file.managed:
    - name: /etc/systemd/system/{{ pgha.services.pgbouncer_exporter }}.service.d/pgha.conf
    - makedirs: true
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha:monitoring)
        [Service]
        Restart=on-failure
        RestartSec=5
{%- endif %}
