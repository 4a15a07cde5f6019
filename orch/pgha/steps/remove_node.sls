{#- pgha.remove_node's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan, which
    refused already what it can see (not one target, the last database node, no replica left
    under synchronous_mode_strict). An etcd member's removal is checked first, by a step: the
    members left must keep a quorum (pgha_etcd.removal_allowed fails the step otherwise, and
    nothing changes). -#}
{%- from 'pgha/steps/common.jinja' import request, refused, entry_gates with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='remove_node', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'remove_node') }}
{%- else %}
{%- set removal = plan.removal %}
{%- set target, roles, helper = removal.target, removal.roles, removal.helper %}
{%- if removal.etcd_member %}

pgha-remove-etcd-checked:
  salt.function:
    - name: pgha_etcd.removal_allowed
    - tgt: {{ helper }}
    - tgt_type: list
    - arg:
      - {{ target }}
{%- endif %}

pgha-remove-checked:
  test.succeed_without_changes:
    - name: {{ target }} ({{ roles | join(', ') }}) can leave cluster {{ plan.cluster }}
{%- if removal.etcd_member %}
    - require:
      - salt: pgha-remove-etcd-checked
{%- endif %}
{%- set previous = namespace(step='pgha-remove-checked') %}
{%- if 'postgresql' in roles %}

pgha-remove-leadership-moved:
  salt.state:
    - tgt: {{ helper }}
    - tgt_type: list
    - sls: pgha.ops.switchover
    - pillar: {pgha_ops: {away_from: {{ target }}}}
    - require:
      - test: {{ previous.step }}
{%-   set previous.step = 'pgha-remove-leadership-moved' %}
{%- endif %}

pgha-remove-services-stopped:
  salt.state:
    - tgt: {{ target }}
    - tgt_type: list
    - sls: pgha.ops.leave
    - require:
      - {{ 'salt' if 'postgresql' in roles else 'test' }}: {{ previous.step }}
{%- set previous.step = 'pgha-remove-services-stopped' %}
{%- if removal.etcd_member %}

pgha-remove-etcd-member-removed:
  salt.state:
    - tgt: {{ helper }}
    - tgt_type: list
    - sls: pgha.etcd.member_removed
    - pillar: {pgha_ops: {member: {{ target }}}}
    - require:
      - salt: {{ previous.step }}

pgha-remove-etcd-stopped:
  salt.state:
    - tgt: {{ target }}
    - tgt_type: list
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
    - tgt_type: list
    - arg:
      - pgha_address
    - require:
      - salt: {{ previous.step }}

{#- the membership the remaining nodes read their cluster's members from (map.jinja) #}
pgha-remove-member-forgotten:
  salt.function:
    - name: mine.delete
    - tgt: {{ target }}
    - tgt_type: list
    - arg:
      - pgha_member
    - require:
      - salt: pgha-remove-address-forgotten

pgha-remove-members-updated:
  salt.state:
    - tgt: {{ removal.staying.all | join(',') }}
    - tgt_type: list
    - sls: pgha
    - require:
      - salt: pgha-remove-member-forgotten

pgha-remove-members-healthy:
  salt.state:
    - tgt: {{ removal.staying.postgresql | join(',') }}
    - tgt_type: list
    - sls: pgha.patroni.gate
    - require:
      - salt: pgha-remove-members-updated

{{ entry_gates(removal.staying.postgresql, removal.staying.balancer, plan.type_a, 'pgha-remove-members-healthy', 'pgha-remove') }}
{%- endif %}
