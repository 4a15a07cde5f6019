{#- Patroni stops here, and PostgreSQL with it (a clean shutdown). pgha.restore and
    pgha.remove stop the replicas first, then the leader, so that nothing fails over. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-ops-patroni-dead:
  service.dead:
    - name: {{ pgha.services.patroni }}
