{#- Update one drained replica (orch pgha.update applies it with the drain tags in pillar):
    wait for low lag and no long transaction on the leader, update the packages of
    pgha:operations:update_target, restart what runs them, wait until it streams again. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set ops = pgha.operations %}

include:
  - {{ tplroot }}.gate.tags

pgha-ops-update-ready:
  pgha_patroni.maintenance_ready:
    - max_lag_bytes: {{ ops.max_replication_lag_bytes }}
    - max_transaction_sec: {{ ops.max_transaction_sec }}
    - timeout: 120
    - require:
      - sls: {{ tplroot }}.gate.tags

{%- if ops.update_target == 'system' %}
pgha-ops-update-pkgs-latest:
  pkg.uptodate:
    - refresh: true
{%- else %}
pgha-ops-update-pkgs-latest:
  pkg.latest:
    - pkgs: {{ (pgha.pkgs.patroni if ops.update_target == 'patroni' else pgha.pkgs.postgresql) | json }}
    - refresh: true
{%- endif %}
    - require:
      - pgha_patroni: pgha-ops-update-ready

{%- if ops.update_target == 'patroni' %}
{#- A new Patroni runs only after its service restarts; on a drained replica that also
    restarts PostgreSQL, which is allowed here. #}
pgha-ops-update-patroni-restarted:
  module.run:
    - service.restart:
      - name: {{ pgha.services.patroni }}
    - onchanges:
      - pkg: pgha-ops-update-pkgs-latest
{%- else %}
pgha-ops-update-postgresql-restarted:
  pgha_patroni.restarted:
    - stage: replica
    - pending_only: false
    - timeout: {{ ops.restart_timeout }}
    - onchanges:
      - pkg: pgha-ops-update-pkgs-latest
{%- endif %}

pgha-ops-update-replica-healthy:
  pgha_patroni.healthy:
    - role: replica
    - timeout: {{ ops.restart_timeout }}
    - require:
      - pkg: pgha-ops-update-pkgs-latest
