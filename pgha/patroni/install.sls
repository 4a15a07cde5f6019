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
    - pkgs: {{ pgha.pkgs.patroni | json }}
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
    - name: python3 -m venv {{ patroni.venv }}
    - creates: {{ patroni.venv }}/bin/pip
    - require:
      - pkg: pgha-patroni-pip-deps-installed

pgha-patroni-pip-installed:
  pip.installed:
    - pkgs:
      - patroni[{{ 'etcd3' if patroni.dcs_api == 'etcd3' else 'etcd' }}]=={{ patroni.pip_version }}
      - psycopg2-binary
    - bin_env: {{ patroni.venv }}
{%-   if pgha.pip.index_url %}
    - index_url: {{ pgha.pip.index_url }}
{%-   endif %}
{%-   if pgha.pip.find_links %}
    - find_links: {{ pgha.pip.find_links }}
{%-   endif %}
    - no_index: {{ pgha.pip.no_index }}
{%-   if pgha.proxy_env %}
    {#- pip's environment only, not its argv: a proxy password stays out of `ps` #}
    - env_vars: {{ pgha.proxy_env | json }}
{%-   endif %}
    - require:
      - cmd: pgha-patroni-venv-created

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
