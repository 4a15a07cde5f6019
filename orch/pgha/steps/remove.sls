{#- pgha.remove's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan, which refused
    already without confirm_remove or with a bad flag. Who leads is decided when the steps run:
    Patroni stops on every database node in two stages, the non-leaders first, then the leader
    (pgha.ops.patroni_stopped with pgha_ops:stage asks Patroni on the node), so that nothing
    fails over. -#}
{%- from 'pgha/steps/common.jinja' import request, refused with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='remove', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'remove') }}
{%- else %}
{%- set minions, site, flags = plan.minions, plan.site, plan.flags %}
{#- confirm_remove: the node checks it again against its own pgha:cluster_name (pgha.ops.remove). #}
{%- set ops = {'remove_data': flags.remove_data, 'confirm_remove': plan.cluster} %}

pgha-remove-announced:
  test.succeed_without_changes:
    - name: >-
        cluster {{ plan.cluster }}:
        {{ 'PostgreSQL and Patroni go (' ~ plan.pg_nodes | join(', ') ~ ')' if flags.remove_postgres else 'PostgreSQL stays (remove_postgres is false)' }};
        {{ 'etcd goes' if flags.remove_etcd and not site.dcs_exists else 'etcd stays' }};
        data directories {{ 'are deleted' if flags.remove_data else 'stay (remove_data is false)' }};
        the pgBackRest stanza {{ 'is deleted' if flags.remove_stanza else 'stays' }}
{%- set previous = namespace(step='pgha-remove-announced') %}
{%- if flags.remove_postgres %}
{%-   for stage in ('replicas', 'leader') %}

{#- Patroni stops first, so that the other steps cannot trigger a failover. #}
pgha-remove-patroni-{{ stage }}-stopped:
  salt.state:
    - tgt: {{ plan.pg_nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.patroni_stopped
    - pillar: {pgha_ops: {stage: {{ stage }}}}
    - require:
      - {{ 'salt' if previous.step != 'pgha-remove-announced' else 'test' }}: {{ previous.step }}
{%-     set previous.step = 'pgha-remove-patroni-' ~ stage ~ '-stopped' %}
{%-   endfor %}

pgha-remove-dcs-cleared:
  salt.state:
    - tgt: {{ plan.pg_nodes[0] }}
    - tgt_type: list
    - sls: pgha.ops.remove
    - pillar: {pgha_ops: {{ {'stage': 'forget', 'confirm_remove': plan.cluster} | json }}}
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-remove-dcs-cleared' %}
{%-   if flags.remove_stanza and site.pgbackrest_enabled %}

pgha-remove-stanza-deleted:
  salt.function:
    - name: pgha_pgbackrest.stanza_delete
    - tgt: {{ plan.stanza_host }}
    - tgt_type: list
    - require:
      - salt: {{ previous.step }}
{%-     set previous.step = 'pgha-remove-stanza-deleted' %}
{%-   endif %}

pgha-remove-postgres-removed:
  salt.state:
    - tgt: {{ minions.all | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.remove
    - pillar: {pgha_ops: {{ dict(ops, stage='postgres') | json }}}
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-remove-postgres-removed' %}
{%- endif %}
{%- if flags.remove_etcd and not site.dcs_exists %}

pgha-remove-etcd-removed:
  salt.state:
    - tgt: {{ minions.etcd | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.remove
    - pillar: {pgha_ops: {{ dict(ops, stage='etcd') | json }}}
    - require:
      - {{ 'salt' if previous.step != 'pgha-remove-announced' else 'test' }}: {{ previous.step }}
{%- endif %}
{%- endif %}
