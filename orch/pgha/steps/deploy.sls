{#- pgha.deploy's steps (stage 2, see pgha/stages.jinja), rendered from pgha.plan: packages
    everywhere and etcd members together (parallel), the primary, replicas one at a time, the
    VIP with users/databases on the leader, a summary. The plan chose the primary
    (patroni:bootstrap_node, or a node with pgha:postgresql_exists, else the first). -#}
{%- from 'pgha/steps/common.jinja' import request, refused with context %}
{%- set plan = salt['saltutil.runner']('pgha.plan', workflow='deploy', **request) %}
{%- if plan.problems %}
{{ refused(plan, 'deploy') }}
{%- else %}
{%- set minions, site = plan.minions, plan.site %}

{#- Host preparation (kernel settings, limits, locales, /etc/hosts, time) and all packages on
    all nodes in parallel; then, in the same run, the firewall (when enabled:
    the rules admit every node in the mine, so none waits for another's) and the etcd members
    start together and wait for a healthy cluster (quorum). #}
pgha-base-deployed:
  salt.state:
    - tgt: {{ minions.all | join(',') }}
    - tgt_type: list
    - sls:
      - pgha.system
      - pgha.packages
      - pgha.firewall.optional
      - pgha.etcd.dcs

{%- set previous = namespace(step='pgha-base-deployed') %}
{%- if plan.repo_hosts and site.pgbackrest_enabled %}

{#- A pgBackRest repository host: SSH keys on both sides first (published to the mine), then
    trust, configuration and schedule, before any database node may need the repository. #}
pgha-pgbackrest-ssh-keys:
  salt.state:
    - tgt: {{ minions.backup | join(',') }}
    - tgt_type: list
    - sls: pgha.pgbackrest.ssh_keys
    - require:
      - salt: pgha-base-deployed

pgha-pgbackrest-repository-deployed:
  salt.state:
    - tgt: {{ minions.backup | join(',') }}
    - tgt_type: list
    - sls: pgha.pgbackrest
    - require:
      - salt: pgha-pgbackrest-ssh-keys
{%-   set previous.step = 'pgha-pgbackrest-repository-deployed' %}
{%- endif %}

{%- if site.standby_repo_stanza and site.pgbackrest_enabled %}

{#- A standby cluster restoring from its main cluster's repository host (standby_cluster:pgbackrest):
    its nodes' SSH keys (published to the mine), the host key and pgbackrest.conf, then a check
    from the first node that the main's stanza has a backup it may read. Without it Patroni
    would fall back to basebackup silently; the check fails with pgBackRest's reason instead
    (e.g. "Permission denied (publickey)": run pgha.config on the main cluster, which trusts
    the keys published here, then this deploy again). Only this cluster's minions change. #}
pgha-pgbackrest-standby-ssh-keys:
  salt.state:
    - tgt: {{ minions.postgresql | join(',') }}
    - tgt_type: list
    - sls: pgha.pgbackrest.config
    - require:
      - salt: {{ previous.step }}

pgha-pgbackrest-main-repository-checked:
  salt.function:
    - name: pgha_pgbackrest.restorable
    - tgt: {{ plan.primary }}
    - tgt_type: list
    - kwarg:
        stanza: {{ site.standby_repo_stanza | json }}
    - require:
      - salt: pgha-pgbackrest-standby-ssh-keys
{%-   set previous.step = 'pgha-pgbackrest-main-repository-checked' %}
{%- endif %}

{#- One node at a time, each ending with its own health gate (in the same state run). Not all
    replicas in one step: the deploy then ended before Patroni had named a synchronous standby
    and HAProxy's port 5002 had a server (lab, test_typea), and no gate waits for that yet. #}
{%- for node in [plan.primary] + plan.replicas %}

pgha-patroni-{{ node }}-deployed:
  salt.state:
    - tgt: {{ node }}
    - tgt_type: list
    - sls:
      - pgha.postgresql
      - pgha.pgbackrest.optional
      - pgha.wal_g.optional
      - pgha.patroni
      - pgha.patroni.gate
    - pillar:
        pgha_gate:
          role: {{ 'leader' if node == plan.primary else 'member' }}
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-patroni-' ~ node ~ '-deployed' %}
{%- endfor %}

{#- The VIP gate is ordered last, after the users (which act on the leader only). #}
pgha-vip-and-users-deployed:
  salt.state:
    - tgt: {{ minions.postgresql | join(',') }}
    - tgt_type: list
    - sls:
      - pgha.vip_manager.optional
      - pgha.postgresql.users
      - pgha.gate.vip
    - require:
      - salt: {{ previous.step }}

{%- set last = namespace(step='pgha-vip-and-users-deployed') %}
{%- if site.pgbackrest_enabled %}

{#- The stanza from the leader or the repository host (pgBackRest itself came before each
    node's Patroni step). #}
pgha-pgbackrest-deployed:
  salt.state:
    - tgt: {{ minions.backup | join(',') }}
    - tgt_type: list
    - sls:
      - pgha.pgbackrest.stanza
    - require:
      - salt: pgha-vip-and-users-deployed
{%-   set last.step = 'pgha-pgbackrest-deployed' %}
{%- endif %}
{%- if site.pgbouncer_enabled %}

{#- PgBouncer on every database node (Type A, and Type B with pgbouncer:enabled: true), each
    pointing at its own PostgreSQL; the gate waits until it answers on its port. In Type B the
    VIP is on the leader only, so VIP:6432 reaches the leader's PgBouncer. #}
pgha-pgbouncer-deployed:
  salt.state:
    - tgt: {{ minions.postgresql | join(',') }}
    - tgt_type: list
    - sls:
      - pgha.pgbouncer.optional
      - pgha.pgbouncer.gate
    - require:
      - salt: {{ last.step }}
{%-   set last.step = 'pgha-pgbouncer-deployed' %}
{%- endif %}
{%- if plan.type_a %}

{#- Type A: the balancers (HAProxy + keepalived VIP), after PgBouncer. #}
pgha-balancers-deployed:
  salt.state:
    - tgt: {{ minions.balancer | join(',') }}
    - tgt_type: list
    - sls:
      - pgha.balancer
      - pgha.haproxy.gate
    - require:
      - salt: {{ last.step }}
{%- endif %}

{%- set summary_after = 'pgha-balancers-deployed' if plan.type_a else last.step %}
{%- if site.monitoring_enabled %}

{#- pgha:monitoring (issue 24): the exporters on the cluster's nodes, then Prometheus and
    Alertmanager on the cluster's own monitors (a shared monitor: pgha.monitor). #}
pgha-monitoring-deployed:
  salt.state:
    - tgt: {{ minions.monitored | join(',') }}
    - tgt_type: list
    - sls: pgha.monitoring.optional
    - require:
      - salt: {{ summary_after }}
{%-   set summary_after = 'pgha-monitoring-deployed' %}
{%-   if minions.monitor %}

pgha-monitor-deployed:
  salt.state:
    - tgt: {{ minions.monitor | join(',') }}
    - tgt_type: list
    - sls: pgha.prometheus
    - require:
      - salt: pgha-monitoring-deployed
{%-     set summary_after = 'pgha-monitor-deployed' %}
{%-   endif %}
{%- endif %}

{#- A report, not a change: the one step whose output is always shown. #}
pgha-cluster-summary:
  salt.function:
    - name: pgha_patroni.table
    - tgt: {{ plan.primary }}
    - tgt_type: list
{%- if site.cluster_vip %}
    - kwarg:
        vip: {{ site.cluster_vip }}
{%-   if plan.type_a %}
        port: {{ site.haproxy_master_port }}
{%-   endif %}
{%-   if site.standby_of %}
        main: {{ site.standby_of | json }}    {#- a standby cluster: of which, with its lag #}
{%-   endif %}
{%- endif %}
    - require:
      - salt: {{ summary_after }}

{#- Patroni's watchdog on each database node: the mode it got, and why not the wanted one
    (off in a container, or without a device). A report, shown like the summary. #}
pgha-watchdog-summary:
  salt.function:
    - name: pgha_system.watchdog_summary
    - tgt: {{ minions.postgresql | join(',') }}
    - tgt_type: list
    - require:
      - salt: pgha-cluster-summary
{%- endif %}
