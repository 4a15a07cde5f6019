{#- The packages of the extensions in postgresql:extensions (pgha_extensions: postgis ->
    postgresql-15-postgis-3, ...), on every PostgreSQL node: a replica runs the same queries
    and a failover makes it the primary. CREATE EXTENSION runs later, on the leader
    (pgha.postgresql.users). Libraries an extension must preload are added to
    shared_preload_libraries in Patroni's configuration (a restart the user asks for). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - .install

{%- if pgha.postgresql.extension_packages %}
pgha-postgresql-extension-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.postgresql.extension_packages | json }}
    - require:
      - sls: {{ tplroot }}.postgresql.install
{%- endif %}
