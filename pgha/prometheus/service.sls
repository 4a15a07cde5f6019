{#- Prometheus and Alertmanager reload a changed configuration or rule file (SIGHUP, their
    units' ExecReload); a changed /etc/default file (ARGS) needs a restart. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.prometheus.config

pgha-monitor-prometheus-restarted-for-args:
  cmd.run:
    - name: systemctl restart {{ pgha.services.prometheus }}
    - onchanges:
      - file: pgha-monitor-prometheus-env-managed

pgha-monitor-prometheus-running:
  service.running:
    - name: {{ pgha.services.prometheus }}
    - enable: true
    - reload: true
    - require:
      - cmd: pgha-monitor-prometheus-restarted-for-args
    - watch:
      - file: pgha-monitor-prometheus-config-managed
      - file: pgha-monitor-alert-rules-managed
      - file: pgha-monitor-recording-rules-managed

pgha-monitor-alertmanager-restarted-for-args:
  cmd.run:
    - name: systemctl restart {{ pgha.services.alertmanager }}
    - onchanges:
      - file: pgha-monitor-alertmanager-env-managed

pgha-monitor-alertmanager-running:
  service.running:
    - name: {{ pgha.services.alertmanager }}
    - enable: true
    - reload: true
    - require:
      - cmd: pgha-monitor-alertmanager-restarted-for-args
    - watch:
      - file: pgha-monitor-alertmanager-config-managed
