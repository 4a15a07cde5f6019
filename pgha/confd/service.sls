{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.confd.config

pgha-confd-unit-file-managed:
  file.managed:
    - name: /etc/systemd/system/confd.service
    - contents: |
        # Managed by Salt (pgha)
        [Unit]
        Description=confd: HAProxy configuration from the DCS
        After=network.target
        [Service]
        ExecStart={{ pgha.confd.bin }} -config-file /etc/confd/confd.toml
        Restart=always
        RestartSec=2
        [Install]
        WantedBy=multi-user.target

pgha-confd-service-running:
  service.running:
    - name: confd
    - enable: true
    - watch:
      - sls: {{ tplroot }}.confd.config
      - file: pgha-confd-unit-file-managed
