{#- salt-run state.orch pgha.prepare: sync pgha's modules to the cluster's minions, validate
    their pillar (nothing changes on a node when it is bad) and publish addresses to the mine.
    pgha.deploy runs it first, while it renders, so that its steps see a filled-in mine. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}

pgha-prepare-pillar-validated:
  salt.state:
    - tgt: {{ tgt.all }}
    - tgt_type: compound
    - sls: pgha.gate.prepared
