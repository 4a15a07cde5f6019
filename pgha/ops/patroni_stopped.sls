{#- Patroni stops here, and PostgreSQL with it (a clean shutdown). pgha.restore and
    pgha.remove stop the replicas first, then the leader, so that nothing fails over.
    pillar pgha_ops:stage (pgha.remove) decides on the node, when the step runs: `replicas`
    stops it unless it is the running leader, `leader` only if it is (a node that is
    stopped already is no leader: nothing to do). Without a stage it stops. -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set stage = salt['pillar.get']('pgha_ops:stage', '') %}
{%- if stage in ('replicas', 'leader') and salt['pgha_patroni.is_leader']() != (stage == 'leader') %}

pgha-ops-patroni-dead:
  test.succeed_without_changes:
    - name: {{ ('the running leader stops in the leader stage' if stage == 'replicas'
                else 'not the running leader: stopped in the replicas stage') | json }}
{%- else %}

pgha-ops-patroni-dead:
  service.dead:
    - name: {{ pgha.services.patroni }}
{%- endif %}
