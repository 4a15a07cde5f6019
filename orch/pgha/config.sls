{#- salt-run state.orch pgha.config [pillar='{"cluster": "NAME"}']
    Apply pillar changes to a running cluster: every node converges to pillar (files reload,
    the DCS configuration is patched through Patroni), then the members that need it restart
    in the order PostgreSQL requires (pgha.restart's rolling restart).
    pillar='{"resume_archiving": true}' also resumes WAL archiving paused by a restore. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, site, type_a with context %}
{%- from 'pgha/steps.jinja' import rolling_restart, entry_gates with context %}

pgha-config-applied:
  salt.state:
    - tgt: {{ tgt.all }}
    - tgt_type: compound
    - sls: pgha
{%- if salt['pillar.get']('resume_archiving') %}
    - pillar: {pgha_archiving: resume}
{%- endif %}

{#- Users, databases and extensions added to pillar (acts on the leader only). #}
pgha-config-users-applied:
  salt.state:
    - tgt: {{ tgt.postgresql }}
    - tgt_type: compound
    - sls: pgha.postgresql.users
    - require:
      - salt: pgha-config-applied

{{ rolling_restart(tgt, pg_nodes, 'pgha-config-users-applied') }}

{%- set last = 'pgha-restart-leader' %}
{%- if site.get('pgbackrest', {}).get('enabled') %}

{#- pgBackRest switched on for a running cluster: archive_mode needed the restart above. #}
pgha-config-pgbackrest-stanza:
  salt.state:
    - tgt: {{ tgt.backup }}
    - tgt_type: compound
    - sls: pgha.pgbackrest.stanza
    - require:
      - salt: pgha-restart-leader
{%-   set last = 'pgha-config-pgbackrest-stanza' %}
{%- endif %}

{{ entry_gates(tgt, type_a, last, 'pgha-config') }}
