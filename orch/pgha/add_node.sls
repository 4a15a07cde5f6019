{#- salt-run state.orch pgha.add_node pillar='{"target": "pg4"}'   (or a list: ["pg4", "pg5"])
    Adds minions that carry the cluster's pillar (pgha:cluster_name, pgha:roles), one at a
    time: host preparation (pgha.system) and packages (and an SSH key for a pgBackRest
    repository host); an etcd member joins the running etcd cluster (member add, then start as
    `existing`); the members already there converge to the new membership (pg_hba, etcd
    endpoints, HAProxy servers, keepalived peers: reloads, no PostgreSQL restart); then the
    new node starts as a Patroni replica (or as a balancer) and must be healthy before the
    next one. pgha.add_balancer is the same orchestration. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, repo_hosts, site, type_a with context %}
{%- from 'pgha/targets.jinja' import targets, target_roles with context %}
{%- from 'pgha/steps.jinja' import entry_gates with context %}
{%- set previous = namespace(step=None) %}
{%- if site.get('firewall', {}).get('enabled') %}

{#- Every node's firewall admits the new nodes (their addresses are in the mine) before a new
    etcd member asks the running ones to add it; the new nodes get theirs. #}
pgha-add-firewall-opened:
  salt.state:
    - tgt: {{ tgt.all }}
    - tgt_type: compound
    - sls: pgha.firewall.optional
{%-   set previous.step = 'pgha-add-firewall-opened' %}
{%- endif %}
{%- for target in targets %}
{%-   set roles = target_roles[target] %}
{%-   set later = targets[loop.index:] %}
{%-   set members_tgt = tgt.all ~ ' and not L@' ~ ([target] + later) | join(',') %}

{%-   if site.get('tls', {}).get('enabled') %}

{#- TLS: the new node's certificates first; its etcd member asks the running ones (https,
    with a client certificate when etcd wants one) while the next step renders. #}
pgha-add-{{ target }}-tls:
  salt.state:
    - tgt: {{ target }}
    - sls:
      - pgha.packages
      - pgha.tls
{%-     if previous.step %}
    - require:
      - salt: {{ previous.step }}
{%-     endif %}
{%-     set previous.step = 'pgha-add-' ~ target ~ '-tls' %}
{%-   endif %}

pgha-add-{{ target }}-base:
  salt.state:
    - tgt: {{ target }}
    - sls:
      - pgha.system
      - pgha.packages
      - pgha.dcs
{%-   if 'postgresql' in roles and repo_hosts and site.get('pgbackrest', {}).get('enabled') %}
      {#- its SSH key in the mine: the repository host trusts it in the next step #}
      - pgha.pgbackrest.ssh_keys
{%-   endif %}
    - pillar: {pgha_etcd: {join: true}}
{%-   if previous.step %}
    - require:
      - salt: {{ previous.step }}
{%-   endif %}

pgha-add-{{ target }}-members-updated:
  salt.state:
    - tgt: {{ members_tgt }}
    - tgt_type: compound
    - sls: pgha
    - require:
      - salt: pgha-add-{{ target }}-base
{%-   set previous.step = 'pgha-add-' ~ target ~ '-members-updated' %}
{%-   if 'postgresql' in roles %}

pgha-add-{{ target }}-replica:
  salt.state:
    - tgt: {{ target }}
    - sls:
      - pgha.postgresql
      - pgha.pgbackrest.optional
      - pgha.wal_g.optional
      - pgha.patroni
      - pgha.vip_manager.optional
      - pgha.pgbouncer.optional
      - pgha.gate.patroni
    - pillar: {pgha_gate: {role: replica}}
    - require:
      - salt: {{ previous.step }}
{%-     set previous.step = 'pgha-add-' ~ target ~ '-replica' %}
{%-   endif %}
{%-   if 'balancer' in roles %}

pgha-add-{{ target }}-balancer:
  salt.state:
    - tgt: {{ target }}
    - sls: pgha.balancer
    - require:
      - salt: {{ previous.step }}
{%-     set previous.step = 'pgha-add-' ~ target ~ '-balancer' %}
{%-   endif %}
{%- endfor %}

{#- Balancers pick up the new database nodes (their HAProxy server lists come from the mine). #}
{%- if type_a %}

pgha-add-balancers-updated:
  salt.state:
    - tgt: {{ tgt.balancer }}
    - tgt_type: compound
    - sls: pgha.balancer
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-add-balancers-updated' %}
{%- endif %}

{{ entry_gates(tgt, type_a, previous.step, 'pgha-add') }}

pgha-cluster-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ pg_nodes[0] }}
    - require:
      - salt: pgha-add-vip-ready
