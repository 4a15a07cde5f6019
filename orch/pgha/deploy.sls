{#- salt-run state.orch pgha.deploy [pillar='{"cluster": "NAME"}']
    pgha.prepare runs first, while this file renders (modules, pillar validation, mine).
    Then: packages everywhere and etcd members together (parallel), the primary, replicas one
    at a time, the VIP with users/databases on the leader, a summary. Each step ends with a health
    gate in the same state run; the first failed gate stops the orchestration. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, balancers, repo_hosts, pillars, site, type_a with context %}
{%- set wanted = site.get('patroni', {}).get('bootstrap_node') %}
{%- set primary = wanted if wanted in pg_nodes else pg_nodes[0] %}
{#- A minion with pgha:postgresql_exists keeps its data and becomes the primary. #}
{%- set existing = [] %}
{%- for minion, node_pillar in pillars | dictsort if node_pillar.get("pgha", {}).get("postgresql_exists") %}
{%-   do existing.append(minion) %}
{%- endfor %}
{%- if existing | length > 1 %}
{{- raise("pgha:postgresql_exists is true on " ~ existing | join(', ') ~ ": only one node's data can become the cluster") }}
{%- elif existing %}
{%-   if wanted and wanted != existing[0] %}
{{-     raise("pgha:patroni:bootstrap_node is " ~ wanted ~ " but pgha:postgresql_exists is set on " ~ existing[0]) }}
{%-   endif %}
{%-   set primary = existing[0] %}
{%-   do salt['log.warning']('pgha.deploy: the existing PostgreSQL on ' ~ primary ~ ' will stop for a few seconds while Patroni takes it over (its data stays)') %}
{%- endif %}
{%- set replicas = pg_nodes | reject('equalto', primary) | list %}

{#- Host preparation (kernel settings, limits, locales, /etc/hosts, time) and all packages on
    all nodes in parallel; then, in the same run, the firewall (when enabled:
    the rules admit every node in the mine, so none waits for another's) and the etcd members
    start together and wait for a healthy cluster (quorum). #}
pgha-base-deployed:
  salt.state:
    - tgt: {{ tgt.all }}
    - tgt_type: compound
    - sls:
      - pgha.system
      - pgha.packages
      - pgha.firewall.optional
      - pgha.dcs

{%- set previous = namespace(step='pgha-base-deployed') %}
{%- if repo_hosts and site.get('pgbackrest', {}).get('enabled') %}

{#- A pgBackRest repository host: SSH keys on both sides first (published to the mine), then
    trust, configuration and schedule, before any database node may need the repository. #}
pgha-pgbackrest-ssh-keys:
  salt.state:
    - tgt: {{ tgt.backup }}
    - tgt_type: compound
    - sls: pgha.pgbackrest.ssh_keys
    - require:
      - salt: pgha-base-deployed

pgha-pgbackrest-repository-deployed:
  salt.state:
    - tgt: {{ tgt.backup }}
    - tgt_type: compound
    - sls: pgha.pgbackrest
    - require:
      - salt: pgha-pgbackrest-ssh-keys
{%-   set previous.step = 'pgha-pgbackrest-repository-deployed' %}
{%- endif %}

{#- One node at a time, each ending with its own health gate (in the same state run). Not all
    replicas in one step: the deploy then ended before Patroni had named a synchronous standby
    and HAProxy's port 5002 had a server (lab, test_typea), and no gate waits for that yet. #}
{%- for node in [primary] + replicas %}
pgha-patroni-{{ node }}-deployed:
  salt.state:
    - tgt: {{ node }}
    - sls:
      - pgha.postgresql
      - pgha.pgbackrest.optional
      - pgha.wal_g.optional
      - pgha.patroni
      - pgha.gate.patroni
    - pillar:
        pgha_gate:
          role: {{ 'leader' if node == primary else 'member' }}
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-patroni-' ~ node ~ '-deployed' %}
{%- endfor %}

{#- The VIP gate is ordered last, after the users (which act on the leader only). #}
pgha-vip-and-users-deployed:
  salt.state:
    - tgt: {{ tgt.postgresql }}
    - tgt_type: compound
    - sls:
      - pgha.vip_manager.optional
      - pgha.postgresql.users
      - pgha.gate.vip
    - require:
      - salt: {{ previous.step }}

{%- set last = namespace(step='pgha-vip-and-users-deployed') %}
{%- if site.get('pgbackrest', {}).get('enabled') %}

{#- The stanza from the leader or the repository host (pgBackRest itself came before each
    node's Patroni step). #}
pgha-pgbackrest-deployed:
  salt.state:
    - tgt: {{ tgt.backup }}
    - tgt_type: compound
    - sls:
      - pgha.pgbackrest.stanza
    - require:
      - salt: pgha-vip-and-users-deployed
{%-   set last.step = 'pgha-pgbackrest-deployed' %}
{%- endif %}
{%- if type_a %}
{#- Type A: PgBouncer on every database node, then the balancers (HAProxy + keepalived VIP). #}
pgha-pgbouncer-deployed:
  salt.state:
    - tgt: {{ tgt.postgresql }}
    - tgt_type: compound
    - sls: pgha.pgbouncer.optional
    - require:
      - salt: {{ last.step }}

pgha-balancers-deployed:
  salt.state:
    - tgt: {{ tgt.balancer }}
    - tgt_type: compound
    - sls:
      - pgha.balancer
      - pgha.gate.balancer
    - require:
      - salt: pgha-pgbouncer-deployed
{%- endif %}

{#- A report, not a change: the one step whose output is always shown. #}
pgha-cluster-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ primary }}
{%- if site.get('cluster_vip') %}
    - kwarg:
        vip: {{ site.cluster_vip }}
{%-   if type_a %}
        port: {{ site.get('haproxy', {}).get('ports', {}).get('master', 5000) }}
{%-   endif %}
{%- endif %}
    - require:
      - salt: {{ 'pgha-balancers-deployed' if type_a else last.step }}
