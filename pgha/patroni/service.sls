{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.patroni.config

{#- A config change is applied with a reload (SIGHUP): Patroni then reloads PostgreSQL or marks
    a pending restart. Salt never restarts Patroni, so it never restarts PostgreSQL. #}
pgha-patroni-service-running:
  service.running:
    - name: {{ pgha.services.patroni }}
    - enable: true
    - reload: true
    - watch:
      - sls: {{ tplroot }}.patroni.config
