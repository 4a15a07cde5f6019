{#- pgha.add_node's (and pgha.add_balancer's) steps (stage 2, see pgha/stages.jinja), rendered
    from pgha.plan: the plan's targets, one at a time, each with its roles and the cluster's
    members already there. -#}
{%- from 'pgha/steps/common.jinja' import request, refused, entry_gates with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='add_node', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'add_node') }}
{%- else %}
{%- set minions, site = plan.minions, plan.site %}
{%- set previous = namespace(step=None) %}
{%- if site.firewall_enabled %}

{#- Every node's firewall admits the new nodes (their addresses are in the mine) before a new
    etcd member asks the running ones to add it; the new nodes get theirs. #}
pgha-add-firewall-opened:
  salt.state:
    - tgt: {{ minions.all | join(',') }}
    - tgt_type: list
    - sls: pgha.firewall.optional
{%-   set previous.step = 'pgha-add-firewall-opened' %}
{%- endif %}
{%- for item in plan.targets %}
{%-   set target, roles = item.id, item.roles %}
{%-   if site.tls_enabled %}

{#- TLS: the new node's certificates first; its etcd member asks the running ones (https,
    with a client certificate when etcd wants one) while the next step renders. #}
pgha-add-{{ target }}-tls:
  salt.state:
    - tgt: {{ target }}
    - tgt_type: list
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
    - tgt_type: list
    - sls:
      - pgha.system
      - pgha.packages
      - pgha.etcd.dcs
{%-   if 'postgresql' in roles and plan.repo_hosts and site.pgbackrest_enabled %}
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
    - tgt: {{ item.members | join(',') }}
    - tgt_type: list
    - sls: pgha
    - require:
      - salt: pgha-add-{{ target }}-base
{%-   set previous.step = 'pgha-add-' ~ target ~ '-members-updated' %}
{%-   if 'postgresql' in roles %}

pgha-add-{{ target }}-replica:
  salt.state:
    - tgt: {{ target }}
    - tgt_type: list
    - sls:
      - pgha.postgresql
      - pgha.pgbackrest.optional
      - pgha.wal_g.optional
      - pgha.patroni
      - pgha.vip_manager.optional
      - pgha.pgbouncer.optional
      - pgha.patroni.gate
    - pillar: {pgha_gate: {role: replica}}
    - require:
      - salt: {{ previous.step }}
{%-     set previous.step = 'pgha-add-' ~ target ~ '-replica' %}
{%-   endif %}
{%-   if 'balancer' in roles %}

pgha-add-{{ target }}-balancer:
  salt.state:
    - tgt: {{ target }}
    - tgt_type: list
    - sls: pgha.balancer
    - require:
      - salt: {{ previous.step }}
{%-     set previous.step = 'pgha-add-' ~ target ~ '-balancer' %}
{%-   endif %}
{%- endfor %}

{#- Balancers pick up the new database nodes (their HAProxy server lists come from the mine). #}
{%- if plan.type_a %}

pgha-add-balancers-updated:
  salt.state:
    - tgt: {{ minions.balancer | join(',') }}
    - tgt_type: list
    - sls: pgha.balancer
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-add-balancers-updated' %}
{%- endif %}

{{ entry_gates(minions.postgresql, minions.balancer, plan.type_a, previous.step, 'pgha-add') }}

pgha-cluster-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ plan.pg_nodes[0] }}
    - tgt_type: list
    - require:
      - salt: pgha-add-vip-ready

{#- Patroni's watchdog on the new database nodes (see steps/deploy.sls). #}
pgha-watchdog-summary:
  salt.function:
    - name: pgha_system.watchdog_summary
    - tgt: {{ plan.pg_nodes | join(',') }}
    - tgt_type: list
    - require:
      - salt: pgha-cluster-summary
{%- endif %}
