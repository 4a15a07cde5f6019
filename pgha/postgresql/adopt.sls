{#- Adopt the standalone PostgreSQL of this minion (pillar pgha:postgresql_exists) as the
    cluster's primary, keeping its data. While it still runs: check it is the version and data
    directory pillar names (else stop here, nothing changed), set the superuser's password and
    create the replication role. Then stop it and let Patroni (started right after, by
    pgha.patroni.service) take the data directory over. Included by pgha.patroni.service only
    while the standalone instance is still enabled or running. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set pg = pgha.postgresql %}

{%- from tplroot ~ "/postgresql/system_roles.jinja" import system_roles %}

include:
  - {{ tplroot }}.patroni.config

pgha-postgresql-adopt-announced:
  test.show_notification:
    - text: >-
        PostgreSQL {{ pg.version }} on {{ grains.id }} ({{ pg.data_dir }}) stops for a few
        seconds while Patroni takes it over as the cluster's primary; its data stays.

pgha-postgresql-existing-checked:
  pgha.existing_postgresql_matches:
    - version: {{ pg.version | json }}
    - data_dir: {{ pg.data_dir | json }}
    - require:
      - test: pgha-postgresql-adopt-announced

{{ system_roles(pgha, 'pgha-postgresql-adopt', require={'pgha': 'pgha-postgresql-existing-checked'}) }}

{#- Patroni keeps a data directory's own postgresql.conf as postgresql.base.conf and includes
    it; Debian keeps the instance's settings in /etc/postgresql instead. Those do not come
    along (pillar sets PostgreSQL's parameters), so the base file starts empty. #}
pgha-postgresql-adopt-base-conf-present:
  file.managed:
    - name: {{ pg.data_dir }}/postgresql.base.conf
    - contents: |
        # Created by Salt (pgha) when Patroni adopted this instance; Patroni's postgresql.conf
        # includes it. Set PostgreSQL parameters in pillar (pgha:postgresql:parameters).
    - replace: false
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0600'
    - require:
      - pgha: pgha-postgresql-existing-checked

{#- The stop: the last step before Patroni starts on the same data directory. #}
pgha-postgresql-adopt-instance-stopped:
  service.dead:
    - name: {{ pgha.services.postgresql_instance }}
    - enable: false
    - require:
      - pgha_postgres: {{ ('pgha-postgresql-adopt-' ~ pg.superuser.name ~ '-present') | json }}
      - pgha_postgres: {{ ('pgha-postgresql-adopt-' ~ pg.replication_user.name ~ '-present') | json }}
      - file: pgha-postgresql-adopt-base-conf-present
      - sls: {{ tplroot }}.patroni.config

pgha-postgresql-adopt-distro-service-dead:
  service.dead:
    - name: {{ pgha.services.postgresql_distro }}
    - enable: false
    - require:
      - service: pgha-postgresql-adopt-instance-stopped
