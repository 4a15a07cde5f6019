{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo
  - {{ tplroot }}.postgresql.version_gate   {#- first: a cluster of another major stops the run (issue 19) #}

{%- if pgha.paths.createcluster_conf %}
{#- Written before the packages: postgresql-common must not create a 'main' cluster that
    would compete with Patroni for the port and the data directory. #}
pgha-postgresql-createcluster-conf-managed:
  file.managed:
    - name: {{ pgha.paths.createcluster_conf }}
    - makedirs: true
    - contents: |
        # Managed by Salt (pgha): Patroni creates and owns PostgreSQL clusters.
        create_main_cluster = false
    - require_in:
      - pkg: pgha-postgresql-pkgs-installed
{%- endif %}

{%- set distro_cluster = '/etc/postgresql/' ~ pgha.postgresql.version ~ '/main' %}
{%- if grains.os_family == 'Debian' and salt['file.directory_exists'](distro_cluster)
      and not salt['file.file_exists'](pgha.paths.patroni_config) and not pgha.postgresql_exists %}
{#- Packages installed before pgha came with a distro 'main' cluster: it would hold the port
    and maybe the data directory. pgha never deletes a cluster it did not create. #}
pgha-postgresql-distro-cluster-absent:
  test.fail_without_changes:
    - name: >-
        A distro-created PostgreSQL cluster exists ({{ distro_cluster }}). pgha leaves it
        untouched and stops here. To make it the cluster's primary with its data, set
        pgha:postgresql_exists: true for this minion. If it holds nothing you need, remove
        it with `pg_dropcluster --stop {{ pgha.postgresql.version }} main` and deploy again.
    - failhard: true
{%- endif %}

pgha-postgresql-pkgs-installed:
  pkg.installed:
    {#- a pin (issue 23) names its version: pgha_patroni_features.pinned_pkgs #}
    - pkgs: {{ pgha.pinned_pkgs.postgresql | json }}
    - require:
      - sls: {{ tplroot }}.repo

{#- The distro's umbrella service would start distro clusters at boot; Patroni starts ours.
    A standalone instance being adopted keeps running until pgha.postgresql.adopt stops it. #}
{%- if not pgha.postgresql_exists %}
pgha-postgresql-distro-service-dead:
  service.dead:
    - name: {{ pgha.services.postgresql_distro }}
    - enable: false
    - require:
      - pkg: pgha-postgresql-pkgs-installed
{%- endif %}
