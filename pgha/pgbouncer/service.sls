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

{#- pgbouncer:processes > 1: processes 2..N as pgbouncer@N, each reloaded when its own file or
    the userlist changes, and restarted when its unit changes. Lowering processes does not stop
    the ones above it: `systemctl disable --now pgbouncer@N` (docs/configuration.md). #}
{%- set processes = pgha.pgbouncer.processes %}
{%- if processes > 1 %}

pgha-pgbouncer-unit-template-managed:
  file.managed:
    - name: {{ pgha.paths.pgbouncer_unit }}
    - source: salt://{{ tplroot }}/pgbouncer/files/pgbouncer@.service.jinja
    - template: jinja
    - mode: '0644'
    - context:
        user: {{ pgha.users.postgres | json }}
        binary: {{ pgha.paths.pgbouncer_bin | json }}
        config_prefix: {{ pgha.paths.pgbouncer_config | replace('.ini', '') | json }}

pgha-pgbouncer-unit-template-daemon-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-pgbouncer-unit-template-managed
{%-   for instance in range(2, processes + 1) %}

pgha-pgbouncer-{{ instance }}-service-running:
  service.running:
    - name: {{ pgha.services.pgbouncer }}@{{ instance }}
    - enable: true
    - reload: true
    - require:
      - module: pgha-pgbouncer-unit-template-daemon-reloaded
      - file: pgha-pgbouncer-unit-template-managed
    - watch:
      - file: pgha-pgbouncer-config-file-{{ instance }}-managed
      - file: pgha-pgbouncer-userlist-file-managed
{%-     if pgha.tls.enabled %}
      - sls: {{ tplroot }}.postgresql.tls
{%-     endif %}
{%-   endfor %}
{%- endif %}
