{#- One stage of a rolling restart on this node (pillar pgha_ops:stage = primary_first |
    replica | leader; see pgha_patroni.restarted). Applied by orch pgha.restart / pgha.config. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-ops-restarted:
  pgha_patroni.restarted:
    - stage: {{ salt['pillar.get']('pgha_ops:stage', 'replica') }}
    - pending_only: {{ salt['pillar.get']('pgha_ops:pending_only', True) | json }}
    - timeout: {{ pgha.operations.restart_timeout }}
