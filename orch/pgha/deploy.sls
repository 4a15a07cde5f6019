{#- salt-run state.orch pgha.deploy [pillar='{"cluster": "NAME"}']
    Prepare every minion of the cluster (modules, pillar validation, mine), then run
    pgha.deploy_cluster, which is rendered only now, with the mine filled in. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}

pgha-deploy-modules-synced:
  salt.state:
    - tgt: {{ tgt.all }}
    - tgt_type: compound
    - sls: pgha.gate.sync

pgha-deploy-pillar-validated:
  salt.state:
    - tgt: {{ tgt.all }}
    - tgt_type: compound
    - sls: pgha.gate.prepared
    - require:
      - salt: pgha-deploy-modules-synced

{#- parallel_runners reports the nested orchestration's own changes (salt.runner would
    report its whole output as a change). #}
pgha-deploy-cluster:
  salt.parallel_runners:
    - runners:
        deploy_cluster:
          name: state.orchestrate
          mods: pgha.deploy_cluster
          pillar:
            cluster: {{ cluster_name }}
    - require:
      - salt: pgha-deploy-pillar-validated
