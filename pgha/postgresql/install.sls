{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.repo

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

pgha-postgresql-pkgs-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.postgresql | json }}
    - require:
      - sls: {{ tplroot }}.repo

{#- The distro's umbrella service would start distro clusters at boot; Patroni starts ours. #}
pgha-postgresql-distro-service-dead:
  service.dead:
    - name: {{ pgha.services.postgresql_distro }}
    - enable: false
    - require:
      - pkg: pgha-postgresql-pkgs-installed
