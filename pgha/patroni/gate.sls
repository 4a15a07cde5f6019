{#- Gate: this node is healthy in the role the orchestration expects
    (pillar pgha_gate:role = leader | replica | member). When it gives up, its comment quotes
    Patroni's last errors from the journal of Patroni's service. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
pgha-gate-patroni-healthy:
  pgha_patroni.healthy:
    - role: {{ salt['pillar.get']('pgha_gate:role', 'member') }}
    - timeout: {{ salt['pillar.get']('pgha_gate:timeout', 180) }}
    - service: {{ pgha.services.patroni | json }}
    {#- after whatever else the same run deploys #}
    - order: last
