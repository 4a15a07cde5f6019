{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.etcd.config

{#- A changed config restarts etcd; the orchestration starts all members together. #}
pgha-etcd-service-running:
  service.running:
    - name: {{ pgha.services.etcd }}
    - enable: true
    - watch:
      - sls: {{ tplroot }}.etcd.config
