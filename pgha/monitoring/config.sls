{#- The exporters' settings (Debian reads each one's ARGS from /etc/default) and pgha-metrics.
    The password of the exporters' role is only in files readable by root (systemd reads an
    EnvironmentFile as root) or by the exporter's own user: never in a unit's ExecStart, a
    state argument or Salt's output. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, tls_files with context %}
{%- set mon = pgha.monitoring %}
{%- set paths = pgha.paths %}
{%- set points = salt['pgha_monitoring.endpoints']() %}

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
{%- if 'pgbouncer' in points %}

{#- Debian's pgbouncer exporter (Python) connects over PgBouncer's socket as the exporters'
    role, a stats_users entry of PgBouncer; libpq reads the password from PGPASSFILE. #}
pgha-monitoring-pgbouncer-exporter-config-managed:
  file.managed:
    - name: {{ paths.pgbouncer_exporter_config }}
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha:monitoring)
        host = 0.0.0.0
        port = {{ mon.ports.pgbouncer_exporter }}
        pgbouncer-port = {{ pgha.pgbouncer.port }}
        pgbouncer-user = {{ salt['pgha_formats.ini'](mon.user.name, 'pgha:monitoring:user:name') }}
        pgbouncer-host = {{ paths.run_dir }}
    - require:
      - sls: {{ tplroot }}.monitoring.install

pgha-monitoring-pgbouncer-exporter-pgpass-managed:
  file.managed:
    - name: /etc/pgha/pgbouncer-exporter.pgpass
    - source: salt://{{ tplroot }}/monitoring/files/pgpass.jinja
    - template: jinja
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0600'
    - makedirs: true
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
        port: {{ pgha.pgbouncer.port }}
        database: pgbouncer

pgha-monitoring-pgbouncer-exporter-dropin-managed:
  file.managed:
    - name: /etc/systemd/system/{{ pgha.services.pgbouncer_exporter }}.service.d/pgha.conf
    - makedirs: true
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha:monitoring): the password is in the file, not here
        [Service]
        Environment=PGPASSFILE=/etc/pgha/pgbouncer-exporter.pgpass
        Restart=on-failure
        RestartSec=5
{%- endif %}
