{#- Update one drained replica (orch pgha.update applies it with the drain tags in pillar):
    wait for low lag and no long transaction on the leader, update the packages of
    pgha:operations:update_target, restart what runs them, wait until it streams again. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set ops = pgha.operations %}

include:
  - {{ tplroot }}.gate.tags

pgha-ops-update-ready:
  pgha_patroni.maintenance_ready:
    - max_lag_bytes: {{ ops.max_replication_lag_bytes }}
    - max_transaction_sec: {{ ops.max_transaction_sec }}
    - timeout: 120
    - require:
      - sls: {{ tplroot }}.gate.tags

{#- What moves (issue 23): to the pinned version when pillar pins one (postgresql:version_minor,
    patroni:version, patroni:pip_version), else to the newest the sources have. A pip-installed
    Patroni is upgraded in its virtualenv (the distribution's package is not Patroni there). #}
{%- set pip_patroni = ops.update_target == 'patroni' and pgha.patroni.install_method == 'pip' %}
{%- set component = 'postgresql' if ops.update_target == 'postgres' else ops.update_target %}
{%- set pinned = '' if pip_patroni or ops.update_target == 'system' else pgha.pins.get(component, '') %}
{%- if ops.update_target == 'system' %}
pgha-ops-update-pkgs-latest:
  pkg.uptodate:
    - refresh: true
{%- elif pip_patroni %}
pgha-ops-update-pkgs-latest:
  pip.installed:
    - pkgs:
      - patroni[{{ 'etcd3' if pgha.patroni.dcs_api == 'etcd3' else 'etcd' }}]{{ ('==' ~ pgha.patroni.pip_version) if pgha.patroni.pip_version else '' }}
    - bin_env: {{ pgha.patroni.venv }}
    - upgrade: {{ not pgha.patroni.pip_version }}
{%- elif pinned %}
pgha-ops-update-pkgs-latest:
  pkg.installed:
    - pkgs: {{ pgha.pinned_pkgs[component] | json }}
    - refresh: true
{%- else %}
pgha-ops-update-pkgs-latest:
  pkg.latest:
    - pkgs: {{ (pgha.pkgs.patroni if ops.update_target == 'patroni' else pgha.pkgs.postgresql) | json }}
    - refresh: true
{%- endif %}
    - require:
      - pgha_patroni: pgha-ops-update-ready
{%- if pinned and grains.os_family == 'Debian' %}
{#-   the pin file names the new version before apt moves the packages #}
      - file: pgha-ops-update-pins-managed

pgha-ops-update-pins-managed:
  file.managed:
    - name: {{ pgha.paths.apt_pins }}
    - contents: {{ pgha.apt_preferences | json }}
    - mode: '0644'
    - require:
      - pgha_patroni: pgha-ops-update-ready
{%- endif %}

{%- if ops.update_target == 'patroni' %}
{#- A new Patroni runs only after its service restarts; on a drained replica that also
    restarts PostgreSQL, which is allowed here. #}
pgha-ops-update-patroni-restarted:
  module.run:
    - service.restart:
      - name: {{ pgha.services.patroni }}
    - onchanges:
      - {{ 'pip' if pip_patroni else 'pkg' }}: pgha-ops-update-pkgs-latest
{%-   if not pip_patroni %}
      {#- the included component states install a pinned version first (gate.tags includes
          pgha.patroni): their change, too, means the running Patroni is the old one #}
      - pkg: pgha-patroni-pkgs-installed
{%-   endif %}
{%- else %}
pgha-ops-update-postgresql-restarted:
  pgha_patroni.restarted:
    - stage: replica
    - pending_only: false
    - timeout: {{ ops.restart_timeout }}
    - onchanges:
      - pkg: pgha-ops-update-pkgs-latest
      {#- a pinned minor is installed by the included pgha.postgresql.install already (seen in
          the lab: 15.18 -> 15.20 there, nothing left for the state above, and no restart) #}
      - pkg: pgha-postgresql-pkgs-installed
{%- endif %}

pgha-ops-update-replica-healthy:
  pgha_patroni.healthy:
    - role: replica
    - timeout: {{ ops.restart_timeout }}
    - require:
      - {{ 'pip' if pip_patroni else 'pkg' }}: pgha-ops-update-pkgs-latest
