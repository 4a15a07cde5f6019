{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.pgbouncer.config

{#- PgBouncer reloads its config on SIGHUP without dropping client connections. #}
pgha-pgbouncer-service-running:
  service.running:
    - name: {{ pgha.services.pgbouncer }}
    - enable: true
    - reload: true
    - watch:
      - sls: {{ tplroot }}.pgbouncer.config
{%- if pgha.tls.enabled %}
      {#- a renewed certificate: a reload reads it #}
      - sls: {{ tplroot }}.postgresql.tls
{%- endif %}

{#- listen_addr/listen_port are read only at start: the first configuration (the package
    started PgBouncer on localhost) or a port change needs one restart. #}
pgha-pgbouncer-restarted-to-listen:
  cmd.run:
    - name: systemctl restart {{ pgha.services.pgbouncer }}
    - unless: ss -Hltn 'sport = :{{ pgha.pgbouncer.port }}' | grep -q '0.0.0.0:{{ pgha.pgbouncer.port }}'
    - require:
      - service: pgha-pgbouncer-service-running
