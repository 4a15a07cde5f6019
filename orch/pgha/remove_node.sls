{#- salt-run state.orch pgha.remove_node pillar='{"target": "pg3"}'
    Takes one node out cleanly. Refused before anything changes when it would leave no
    database node, no replica under synchronous_mode_strict, or an etcd without quorum. Then:
    leadership moves off the node (a planned switchover, no failover), Patroni and the node's
    other services stop, its etcd member is removed (quorum checked again) and etcd stopped,
    its address leaves the mine, and the remaining nodes converge (pg_hba, etcd endpoints,
    HAProxy servers, keepalived peers: reloads only). PostgreSQL's data stays on the node.
    Afterwards remove the minion from the cluster's pillar, or the next orchestration adds it
    back to the mine. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, site, type_a with context %}
{%- from 'pgha/targets.jinja' import targets, target_roles with context %}
{%- from 'pgha/steps.jinja' import entry_gates with context %}
{%- if targets | length != 1 %}
{{- raise("pgha.remove_node removes one node per run; pillar target names " ~ targets | join(', ')) }}
{%- endif %}
{%- set target = targets[0] %}
{%- set roles = target_roles[target] %}
{%- set staying = pg_nodes | reject('equalto', target) | list %}
{%- if 'postgresql' in roles and not staying %}
{{- raise("pgha.remove_node refused: " ~ target ~ " is the last database node of cluster " ~ cluster_name) }}
{%- endif %}
{%- if 'postgresql' in roles and site.get('patroni', {}).get('synchronous_mode_strict') and staying | length < 2 %}
{{- raise("pgha.remove_node refused: synchronous_mode_strict is on and removing " ~ target ~ " leaves no replica: writes would stop") }}
{%- endif %}
{%- set helper = staying[0] if staying else pg_nodes[0] %}
{%- if 'etcd' in roles and not site.get('dcs_exists') %}
{%-   set check = salt['saltutil.cmd'](helper, 'pgha_etcd.removal_allowed', arg=[target]) or {} %}
{%-   set answer = (check.values() | first | default({})) %}
{%-   if answer.get('retcode', 1) != 0 %}
{{-     raise("pgha.remove_node refused: " ~ answer.get('ret', 'no answer from ' ~ helper) | string) }}
{%-   endif %}
{%- endif %}
{%- set previous = namespace(step='pgha-remove-checked') %}

pgha-remove-checked:
  test.succeed_without_changes:
    - name: {{ target }} ({{ roles | join(', ') }}) can leave cluster {{ cluster_name }}
{%- if 'postgresql' in roles %}

pgha-remove-leadership-moved:
  salt.state:
    - tgt: {{ helper }}
    - sls: pgha.ops.switchover
    - pillar: {pgha_ops: {away_from: {{ target }}}}
    - require:
      - test: {{ previous.step }}
{%-   set previous.step = 'pgha-remove-leadership-moved' %}
{%- endif %}

pgha-remove-services-stopped:
  salt.state:
    - tgt: {{ target }}
    - sls: pgha.ops.leave
    - require:
      - {{ 'salt' if 'postgresql' in roles else 'test' }}: {{ previous.step }}
{%- set previous.step = 'pgha-remove-services-stopped' %}
{%- if 'etcd' in roles and not site.get('dcs_exists') %}

pgha-remove-etcd-member-removed:
  salt.state:
    - tgt: {{ helper }}
    - sls: pgha.ops.etcd_member_removed
    - pillar: {pgha_ops: {member: {{ target }}}}
    - require:
      - salt: {{ previous.step }}

pgha-remove-etcd-stopped:
  salt.state:
    - tgt: {{ target }}
    - sls: pgha.ops.leave
    - pillar: {pgha_ops: {etcd_removed: true}}
    - require:
      - salt: pgha-remove-etcd-member-removed
{%-   set previous.step = 'pgha-remove-etcd-stopped' %}
{%- endif %}

pgha-remove-address-forgotten:
  salt.function:
    - name: mine.delete
    - tgt: {{ target }}
    - arg:
      - pgha_address
    - require:
      - salt: {{ previous.step }}

pgha-remove-members-updated:
  salt.state:
    - tgt: {{ tgt.all }} and not L@{{ target }}
    - tgt_type: compound
    - sls: pgha
    - require:
      - salt: pgha-remove-address-forgotten

pgha-remove-members-healthy:
  salt.state:
    - tgt: {{ tgt.postgresql }} and not L@{{ target }}
    - tgt_type: compound
    - sls: pgha.gate.patroni
    - require:
      - salt: pgha-remove-members-updated

{{ entry_gates(tgt, type_a, 'pgha-remove-members-healthy', 'pgha-remove', exclude=target) }}
