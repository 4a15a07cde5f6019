{#- salt-run state.orch pgha.deploy [pillar='{"cluster": "NAME"}']
    pgha.prepare runs first, while this file renders (modules, pillar validation, mine).
    Then: packages everywhere (parallel), etcd (members together), the primary, replicas one
    at a time, the VIP, users/databases on the leader, a summary. A health gate follows each
    step; the first failed gate stops the run. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- include 'pgha/prepared.jinja' %}
{%- set mine = salt['saltutil.runner']('mine.get', tgt=tgt.postgresql, fun='pgha_address', tgt_type='compound') or {} %}
{%- set pg_nodes = mine.keys() | sort %}
{%- set etcd_nodes = (salt['saltutil.runner']('mine.get', tgt=tgt.etcd, fun='pgha_address', tgt_type='compound') or {}).keys() | list %}
{%- set pillars = salt['saltutil.runner']('cache.pillar', tgt=tgt.postgresql, tgt_type='compound') or {} %}
{%- set site = (pillars.values() | first | default({})).get('pgha', {}) %}
{%- set wanted = site.get('patroni', {}).get('bootstrap_node') %}
{%- if not pg_nodes %}
{{- raise("cluster " ~ cluster_name ~ " has no minion with the postgresql role and a pgha_address in the mine") }}
{%- endif %}
{%- set primary = wanted if wanted in pg_nodes else pg_nodes[0] %}
{%- set replicas = pg_nodes | reject('equalto', primary) | list %}

pgha-packages-installed:
  salt.state:
    - tgt: {{ tgt.all }}
    - tgt_type: compound
    - sls: pgha.packages

{%- if etcd_nodes %}
pgha-etcd-deployed:
  salt.state:
    - tgt: {{ tgt.etcd }}
    - tgt_type: compound
    - sls: pgha.etcd
    - require:
      - salt: pgha-packages-installed
{%- endif %}

pgha-etcd-healthy:
  salt.state:
    - tgt: {{ tgt.postgresql }}
    - tgt_type: compound
    - sls: pgha.gate.etcd
    - require:
      - salt: pgha-packages-installed
{%- if etcd_nodes %}
      - salt: pgha-etcd-deployed
{%- endif %}

{%- set previous = namespace(gate='pgha-etcd-healthy') %}
{%- for node in [primary] + replicas %}
{%-   set role = 'leader' if node == primary else 'member' %}
pgha-patroni-{{ node }}-deployed:
  salt.state:
    - tgt: {{ node }}
    - sls:
      - pgha.postgresql
      - pgha.patroni
    - require:
      - salt: {{ previous.gate }}

pgha-patroni-{{ node }}-healthy:
  salt.state:
    - tgt: {{ node }}
    - sls: pgha.gate.patroni
    - pillar:
        pgha_gate:
          role: {{ role }}
    - require:
      - salt: pgha-patroni-{{ node }}-deployed
{%-   set previous.gate = 'pgha-patroni-' ~ node ~ '-healthy' %}
{%- endfor %}

pgha-vip-deployed:
  salt.state:
    - tgt: {{ tgt.postgresql }}
    - tgt_type: compound
    - sls: pgha.vip_manager.optional
    - require:
      - salt: {{ previous.gate }}

pgha-vip-ready:
  salt.state:
    - tgt: {{ tgt.postgresql }}
    - tgt_type: compound
    - sls: pgha.gate.vip
    - require:
      - salt: pgha-vip-deployed

pgha-users-applied:
  salt.state:
    - tgt: {{ tgt.postgresql }}
    - tgt_type: compound
    - sls: pgha.postgresql.users
    - require:
      - salt: pgha-vip-ready

{#- A report, not a change: the one step whose output is always shown. #}
pgha-cluster-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ primary }}
{%- if site.get('cluster_vip') %}
    - kwarg:
        vip: {{ site.cluster_vip }}
{%- endif %}
    - require:
      - salt: pgha-users-applied
