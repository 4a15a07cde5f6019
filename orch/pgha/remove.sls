{#- salt-run state.orch pgha.remove pillar='{"confirm_remove": "NAME", "remove_postgres": true,
        "remove_etcd": true}'
    Removes cluster NAME (cluster: NAME picks it as usual). Refused unless pillar
    confirm_remove names the cluster: a pillar or command copied from another environment
    names another cluster. What goes is chosen, and nothing by default:
    - remove_postgres: Patroni and PostgreSQL stop (replicas first, so no failover), then
      vip-manager, PgBouncer, HAProxy, keepalived; the cluster leaves the DCS; pgha's config
      files go;
    - remove_etcd: the cluster's etcd members stop (not with dcs_exists);
    - remove_data: the data directories of what is removed are deleted (PostgreSQL, WAL,
      etcd); without it they stay;
    - remove_stanza: the pgBackRest stanza and its backups are deleted.
    Packages stay installed. Other clusters' minions are never targeted. -#}
{%- from 'pgha/cluster.jinja' import cluster_name, tgt with context %}
{%- if salt['pillar.get']('confirm_remove') != cluster_name %}
{{- raise("pgha.remove removes cluster " ~ cluster_name ~ ": confirm with pillar='{\"confirm_remove\": \"" ~ cluster_name ~ "\", \"remove_postgres\": true, \"remove_etcd\": true}' (nothing was changed)") }}
{%- endif %}
{%- set flags = {} %}
{%- for flag in ('remove_postgres', 'remove_etcd', 'remove_data', 'remove_stanza') %}
{%-   set value = salt['pillar.get'](flag, False) %}
{%-   if value not in (true, false) %}
{{-     raise("pgha.remove: pillar " ~ flag ~ " must be true or false (got " ~ value | string ~ "); nothing was changed") }}
{%-   endif %}
{%-   do flags.update({flag: value}) %}
{%- endfor %}
{%- if flags.remove_stanza and not flags.remove_postgres %}
{{- raise("pgha.remove: remove_stanza needs remove_postgres (the stanza can only go once PostgreSQL is stopped); nothing was changed") }}
{%- endif %}
{%- include 'pgha/prepared.jinja' %}
{%- from 'pgha/nodes.jinja' import pg_nodes, repo_hosts, site with context %}
{%- set leaders = [] %}
{%- for minion, answer in (salt['saltutil.cmd'](tgt.postgresql, 'pgha_patroni.is_leader', tgt_type='compound') or {}) | dictsort %}
{%-   if answer.get('ret') is sameas true %}{% do leaders.append(minion) %}{% endif %}
{%- endfor %}
{%- set replicas = pg_nodes | reject('in', leaders) | list %}
{%- set ops = {'remove_data': flags.remove_data} %}

pgha-remove-announced:
  test.succeed_without_changes:
    - name: >-
        cluster {{ cluster_name }}:
        {{ 'PostgreSQL and Patroni go (' ~ pg_nodes | join(', ') ~ ')' if flags.remove_postgres else 'PostgreSQL stays (remove_postgres is false)' }};
        {{ 'etcd goes' if flags.remove_etcd and not site.get('dcs_exists') else 'etcd stays' }};
        data directories {{ 'are deleted' if flags.remove_data else 'stay (remove_data is false)' }};
        the pgBackRest stanza {{ 'is deleted' if flags.remove_stanza else 'stays' }}
{%- set previous = namespace(step='pgha-remove-announced') %}
{%- if flags.remove_postgres %}
{%-   for stage, nodes in [('replicas', replicas), ('leader', leaders)] if nodes %}

{#- Patroni stops first, so that the other steps cannot trigger a failover. #}
pgha-remove-patroni-{{ stage }}-stopped:
  salt.state:
    - tgt: {{ nodes | join(',') }}
    - tgt_type: list
    - sls: pgha.ops.patroni_stopped
    - require:
      - {{ 'salt' if previous.step != 'pgha-remove-announced' else 'test' }}: {{ previous.step }}
{%-     set previous.step = 'pgha-remove-patroni-' ~ stage ~ '-stopped' %}
{%-   endfor %}

pgha-remove-dcs-cleared:
  salt.state:
    - tgt: {{ pg_nodes[0] }}
    - sls: pgha.ops.remove
    - pillar: {pgha_ops: {stage: forget}}
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-remove-dcs-cleared' %}
{%-   if flags.remove_stanza and site.get('pgbackrest', {}).get('enabled') %}

pgha-remove-stanza-deleted:
  salt.function:
    - name: pgha_pgbackrest.stanza_delete
    - tgt: {{ (repo_hosts or pg_nodes)[0] }}
    - require:
      - salt: {{ previous.step }}
{%-     set previous.step = 'pgha-remove-stanza-deleted' %}
{%-   endif %}

pgha-remove-postgres-removed:
  salt.state:
    - tgt: {{ tgt.all }}
    - tgt_type: compound
    - sls: pgha.ops.remove
    - pillar: {pgha_ops: {{ dict(ops, stage='postgres') | json }}}
    - require:
      - salt: {{ previous.step }}
{%-   set previous.step = 'pgha-remove-postgres-removed' %}
{%- endif %}
{%- if flags.remove_etcd and not site.get('dcs_exists') %}

pgha-remove-etcd-removed:
  salt.state:
    - tgt: {{ tgt.etcd }}
    - tgt_type: compound
    - sls: pgha.ops.remove
    - pillar: {pgha_ops: {{ dict(ops, stage='etcd') | json }}}
    - require:
      - {{ 'salt' if previous.step != 'pgha-remove-announced' else 'test' }}: {{ previous.step }}
{%- endif %}
