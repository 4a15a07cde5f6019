{#- Gate: Patroni's configuration from pillar is in place and Patroni runs with its tags
    (pgha.update drains a node with nofailover/noloadbalance/nosync, then restores them). #}
{%- set tplroot = tpldir.split('/')[0] %}

include:
  - {{ tplroot }}.patroni

pgha-gate-patroni-tags-applied:
  pgha_patroni.tags_applied:
    - timeout: 60
    - require:
      - sls: {{ tplroot }}.patroni
