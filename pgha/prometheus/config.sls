{#- Prometheus' and Alertmanager's files. Each is checked by the tool of its package before it
    replaces the running one (promtool, amtool); the scrape targets come from the mine
    (pgha_monitoring.prometheus_yml), so a member added or removed changes them on the next run. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, tls_files with context %}
{%- set mon = pgha.monitoring %}
{%- set paths = pgha.paths %}
{%- set env = salt['pgha_formats.env_value'] %}
{#- with pgha:tls, Patroni's https /metrics is verified with the cluster CA (pgha.tls.ca) #}
{%- set ca_file = tls_files.ca if pgha.tls.enabled else '' %}

include:
  - {{ tplroot }}.prometheus.install
{%- if ca_file %}
  - {{ tplroot }}.tls.ca
{%- endif %}

pgha-monitor-prometheus-env-managed:
  file.managed:
    - name: {{ paths.prometheus_env }}
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha:monitoring)
        ARGS={{ env('--config.file=' ~ paths.prometheus_config ~ ' --storage.tsdb.path=' ~ paths.prometheus_data
                    ~ ' --storage.tsdb.retention.time=' ~ mon.retention ~ ' --web.listen-address=:' ~ mon.ports.prometheus
                    ~ ' --web.console.templates=' ~ paths.prometheus_consoles
                    ~ ' --web.console.libraries=/etc/prometheus/console_libraries', 'pgha:monitoring') }}
    - require:
      - sls: {{ tplroot }}.prometheus.install

pgha-monitor-rules-dir-managed:
  file.directory:
    - name: {{ paths.prometheus_rules_dir }}
    - mode: '0755'
    - require:
      - sls: {{ tplroot }}.prometheus.install

pgha-monitor-alert-rules-managed:
  file.managed:
    - name: {{ paths.prometheus_rules_dir }}/pgha-alerts.yml
    - contents: {{ salt['pgha_monitoring.alert_rules_yml'](tplroot) | json }}
    - mode: '0644'
    - check_cmd: /usr/bin/promtool check rules
    - require:
      - file: pgha-monitor-rules-dir-managed

pgha-monitor-recording-rules-managed:
  file.managed:
    - name: {{ paths.prometheus_rules_dir }}/pgha-records.yml
    - contents: {{ salt['pgha_monitoring.recording_rules_yml']() | json }}
    - mode: '0644'
    - check_cmd: /usr/bin/promtool check rules
    - require:
      - file: pgha-monitor-rules-dir-managed
pgha-monitor-prometheus-config-managed:
  file.managed:
    - name: {{ paths.prometheus_config }}
    - contents: {{ salt['pgha_monitoring.prometheus_yml'](ca_file, tplroot) | json }}
    - mode: '0644'
    - check_cmd: /usr/bin/promtool check config
    - require:
      - file: pgha-monitor-alert-rules-managed
      - file: pgha-monitor-recording-rules-managed
{%- if ca_file %}
      - sls: {{ tplroot }}.tls.ca
{%- endif %}

{#- The saved graphs per cluster: Prometheus serves this page at /consoles/pgha.html. #}
pgha-monitor-console-managed:
  file.managed:
    - name: {{ paths.prometheus_consoles }}/pgha.html
    - source: salt://{{ tplroot }}/prometheus/files/pgha.html.jinja
    - template: jinja
    - makedirs: true
    - mode: '0644'
    - context:
        links: {{ salt['pgha_monitoring.graph_links']('', tplroot) | json }}
    - require:
      - sls: {{ tplroot }}.prometheus.install

pgha-monitor-alertmanager-env-managed:
  file.managed:
    - name: {{ paths.alertmanager_env }}
    - mode: '0644'
    - contents: |
        # Managed by Salt (pgha:monitoring); one Alertmanager per monitor, no gossip cluster
        ARGS={{ env('--config.file=' ~ paths.alertmanager_config ~ ' --web.listen-address=:' ~ mon.ports.alertmanager
                    ~ ' --cluster.listen-address=', 'pgha:monitoring') }}
    - require:
      - sls: {{ tplroot }}.prometheus.install

pgha-monitor-alertmanager-config-managed:
  file.managed:
    - name: {{ paths.alertmanager_config }}
    - contents: {{ salt['pgha_monitoring.alertmanager_yml'](tplroot) | json }}
    - mode: '0640'
    - group: prometheus
    - show_changes: false
    - check_cmd: /usr/bin/amtool check-config
    - require:
      - sls: {{ tplroot }}.prometheus.install
