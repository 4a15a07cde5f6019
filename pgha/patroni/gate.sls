{#- Gate: this node is healthy in the role the orchestration expects
    (pillar pgha_gate:role = leader | replica | member). #}
pgha-gate-patroni-healthy:
  pgha_patroni.healthy:
    - role: {{ salt['pillar.get']('pgha_gate:role', 'member') }}
    - timeout: {{ salt['pillar.get']('pgha_gate:timeout', 180) }}
    {#- after whatever else the same run deploys #}
    - order: last
