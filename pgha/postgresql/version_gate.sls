{#- The highstate's guard against a cluster of another major (issue 19): pillar
    pgha:postgresql:version is the source of truth, and this node's cluster (the PG_VERSION of
    the data directory Patroni's configuration names) must be that major. Otherwise the run
    stops here, before any package or file changes, naming the key: pgha never downgrades or
    reinitialises a cluster, and a highstate does not upgrade one (pgha.upgrade does). During
    an upgrade (an unfinished record) the orchestration owns the node: its own steps pass
    pillar pgha_upgrade:to and are let through. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set upgrading = salt['pillar.get']('pgha_upgrade:to', '') %}
{%- set problem = none if upgrading or 'pgha_upgrade.version_problem' not in salt
                  else salt['pgha_upgrade.version_problem'](pgha.postgresql.version) %}

pgha-postgresql-version-gate:
{%- if problem %}
  test.fail_without_changes:
    - name: {{ problem | json }}
    - failhard: true
{%- else %}
  test.succeed_without_changes:
    - name: pgha:postgresql:version {{ pgha.postgresql.version }} is this node's cluster's major
{%- endif %}
    - order: 1
