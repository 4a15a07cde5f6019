{#- The exporters run with pgha's settings: restarted when those change (an exporter keeps no
    state worth a reload), and pgha-metrics' timer. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set points = salt['pgha_monitoring.endpoints']() %}

include:
  - {{ tplroot }}.monitoring.config

pgha-monitoring-daemon-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-monitoring-metrics-units-managed
{%- if 'pgbouncer' in points %}
      - file: pgha-monitoring-pgbouncer-exporter-dropin-managed
{%- endif %}

pgha-monitoring-node-exporter-running:
  service.running:
    - name: {{ pgha.services.node_exporter }}
    - enable: true
    - watch:
      - file: pgha-monitoring-node-exporter-env-managed
{%- if 'postgres' in points %}

pgha-monitoring-postgres-exporter-running:
  service.running:
    - name: {{ pgha.services.postgres_exporter }}
    - enable: true
    - watch:
      - file: pgha-monitoring-postgres-exporter-env-managed
{%- endif %}
{%- if 'pgbouncer' in points %}

pgha-monitoring-pgbouncer-exporter-running:
  service.running:
    - name: {{ pgha.services.pgbouncer_exporter }}
    - enable: true
    - require:
      - module: pgha-monitoring-daemon-reloaded
    - watch:
      - file: pgha-monitoring-pgbouncer-exporter-env-managed
      - file: pgha-monitoring-pgbouncer-exporter-pgpass-managed
      - file: pgha-monitoring-pgbouncer-exporter-dropin-managed
{%- endif %}

pgha-monitoring-metrics-timer-running:
  service.running:
    - name: pgha-metrics.timer
    - enable: true
    - require:
      - module: pgha-monitoring-daemon-reloaded
      - file: pgha-monitoring-metrics-script-managed
      - file: pgha-monitoring-metrics-config-managed
      - file: pgha-monitoring-textfile-dir-managed
    - watch:
      - file: pgha-monitoring-metrics-units-managed
