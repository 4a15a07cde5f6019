{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.vip_manager.config

pgha-vip-manager-service-running:
  service.running:
    - name: {{ pgha.services.vip_manager }}
    - enable: true
    - watch:
      - sls: {{ tplroot }}.vip_manager.config
{%- if pgha.tls.enabled and pgha.tls.etcd_client_cert_auth %}
      {#- a renewed client certificate: vip-manager reads it at start only #}
      - sls: {{ tplroot }}.postgresql.tls
{%- endif %}
