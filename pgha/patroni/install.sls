{#- Patroni from the distro (default: security updates with the OS, works offline from the
    same mirror) or a pinned PyPI release in a virtualenv (newer Patroni than the distro's). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set patroni = pgha.patroni %}

include:
  - {{ tplroot }}.repo
  - {{ tplroot }}.postgresql.install

{%- if patroni.install_method == 'pkg' %}
pgha-patroni-pkgs-installed:
  pkg.installed:
    {#- a pin (issue 23) names its version: pgha_patroni_features.pinned_pkgs #}
    - pkgs: {{ pgha.pinned_pkgs.patroni | json }}
    - require:
      - sls: {{ tplroot }}.repo
{%- else %}
pgha-patroni-pip-deps-installed:
  pkg.installed:
    - pkgs: {{ pgha.pkgs.patroni_pip_deps | json }}
    - require:
      - sls: {{ tplroot }}.repo

pgha-patroni-venv-created:
  cmd.run:
    {#- Constant command text: the path arrives in the environment, never as shell syntax. #}
    - name: python3 -m venv "$PGHA_VENV"
    - env:
      - PGHA_VENV: {{ patroni.venv | json }}
    - creates: {{ (patroni.venv ~ '/bin/pip') | json }}
    - require:
      - pkg: pgha-patroni-pip-deps-installed

{#- Where pip gets Patroni, and its proxy, in the virtualenv's own pip.conf (pip reads
    <venv>/pip.conf): an index URL or a proxy may hold a password, which must stay out of
    argv, the environment, Salt's state output and the state's arguments (the template reads
    them from the map). #}
pgha-patroni-pip-conf-managed:
  file.managed:
    - name: {{ patroni.venv }}/pip.conf
    - source: salt://{{ tplroot }}/patroni/files/pip.conf.jinja
    - template: jinja
    - mode: '0600'
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
    - require:
      - cmd: pgha-patroni-venv-created

pgha-patroni-pip-installed:
  pip.installed:
    - pkgs:
      - patroni[{{ 'etcd3' if patroni.dcs_api == 'etcd3' else 'etcd' }}]=={{ patroni.pip_version }}
      - psycopg2-binary
    - bin_env: {{ patroni.venv }}
    - require:
      - file: pgha-patroni-pip-conf-managed

pgha-patroni-unit-file-managed:
  file.managed:
    - name: /etc/systemd/system/{{ pgha.services.patroni }}.service
    - source: salt://{{ tplroot }}/patroni/files/patroni.service.jinja
    - template: jinja
    - context:
        patroni_bin: {{ patroni.venv }}/bin/patroni
        config: {{ pgha.paths.patroni_config }}
        user: {{ pgha.users.postgres }}

pgha-patroni-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-patroni-unit-file-managed
{%- endif %}
