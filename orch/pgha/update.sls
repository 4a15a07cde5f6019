{#- salt-run state.orch pgha.update [pillar='{"cluster": "NAME"}']
    Rolling package update (pgha:operations:update_target = postgres | patroni | system), in
    the autobase order: each replica in turn is drained (Patroni tags nofailover,
    noloadbalance, nosync), checked for lag and long transactions on the leader, updated,
    restarted if its packages changed, healthy again, and restored; then leadership moves to
    an updated replica and the old primary follows the same path. Stops at the first failed
    gate; the drained node keeps its tags so that nobody fails over to it. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, type_a with context %}
{%- from 'pgha/steps.jinja' import entry_gates with context %}
{%- if pg_nodes | length < 2 %}
{{- raise("pgha.update refused: cluster " ~ cluster_name ~ " has one database node; a rolling update needs a replica to switch over to") }}
{%- endif %}
{%- set asked = salt['saltutil.cmd'](pg_nodes[0], 'pgha_patroni.leader') or {} %}
{%- set leader = (asked.values() | first | default({})).get('ret') %}
{%- if leader not in pg_nodes %}
{{- raise("pgha.update refused: cluster " ~ cluster_name ~ " has no running leader (" ~ leader | string ~ ")") }}
{%- endif %}
{%- set drain = {'pgha': {'patroni': {'tags': {'nofailover': True, 'noloadbalance': True, 'nosync': True}}}} %}
{%- set previous = namespace(step=None) %}
{%- for node in pg_nodes | reject('equalto', leader) | list + [leader] %}

pgha-update-{{ node }}-leadership-moved:
  salt.state:
    - tgt: {{ pg_nodes | reject('equalto', node) | first }}
    - sls: pgha.ops.switchover
    - pillar: {pgha_ops: {away_from: {{ node }}}}
{%-   if previous.step %}
    - require:
      - salt: {{ previous.step }}
{%-   endif %}

pgha-update-{{ node }}-updated:
  salt.state:
    - tgt: {{ node }}
    - sls: pgha.ops.update
    - pillar: {{ drain | json }}
    - require:
      - salt: pgha-update-{{ node }}-leadership-moved

pgha-update-{{ node }}-restored:
  salt.state:
    - tgt: {{ node }}
    - sls:
      - pgha.gate.tags
      - pgha.gate.patroni
    - require:
      - salt: pgha-update-{{ node }}-updated
{%-   set previous.step = 'pgha-update-' ~ node ~ '-restored' %}
{%- endfor %}

{{ entry_gates(tgt, type_a, previous.step, 'pgha-update') }}
