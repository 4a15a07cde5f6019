{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/patroni/dcs.jinja" import dcs with context %}

{%- set unit = pgha.services.postgresql_instance %}
{%- set adopting = pgha.postgresql_exists and (salt['service.enabled'](unit) or salt['service.status'](unit)) %}

include:
  - {{ tplroot }}.patroni.config
{%- if adopting %}
  - {{ tplroot }}.postgresql.adopt
{%- endif %}

{#- A config change is applied with a reload (SIGHUP): Patroni then reloads PostgreSQL or marks
    a pending restart. Salt never restarts Patroni, so it never restarts PostgreSQL. #}
pgha-patroni-service-running:
  service.running:
    - name: {{ pgha.services.patroni }}
    - enable: true
    - reload: true
    - watch:
      - sls: {{ tplroot }}.patroni.config
{%- if pgha.tls.enabled %}
      {#- a renewed certificate: Patroni reloads its REST API's, PostgreSQL its own #}
      - sls: {{ tplroot }}.postgresql.tls
{%- endif %}
{%- if adopting %}
    - require:
      - sls: {{ tplroot }}.postgresql.adopt
{%- endif %}

{#- The DCS half of the configuration (ttl, loop_wait, max_connections, ...): patched through
    Patroni's REST API when it drifts from pillar; restart-only parameters become pending.
    WAL archiving paused after a restore stays paused until pgha.config resumes it. #}
pgha-patroni-dynamic-config-managed:
  pgha_patroni.dynamic_config:
    - config: {{ dcs | json }}
    {#- pgha.restore pauses WAL archiving, pgha.config resumes it (pillar resume_archiving) #}
    - archiving: {{ salt['pillar.get']('pgha_archiving', 'keep') }}
    - paused_archive_command: {{ pgha.paused_archive_command | json }}
    {#- the comment says which patched keys follow the failover preset #}
    - preset: {{ pgha.patroni.rto_profile | json }}
    - preset_keys: {{ (pgha.rto_profiles[pgha.patroni.rto_profile].patroni | default({})) | list | sort | json }}
    - cluster: {{ pgha.cluster_name | json }}
    - require:
      - service: pgha-patroni-service-running

{#- Says which parameters wait for `salt-run state.orch pgha.restart`; restarts nothing. #}
pgha-patroni-pending-restart-reported:
  pgha_patroni.pending_restart:
    - watch:
      - sls: {{ tplroot }}.patroni.config
    - require:
      - pgha_patroni: pgha-patroni-dynamic-config-managed
