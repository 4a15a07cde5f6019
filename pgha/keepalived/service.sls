{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.keepalived.config

pgha-keepalived-service-running:
  service.running:
    - name: {{ pgha.services.keepalived }}
    - enable: true
    - reload: true
    - watch:
      - sls: {{ tplroot }}.keepalived.config
