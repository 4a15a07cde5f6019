{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import members, etcd_client_urls with context %}

include:
  - {{ tplroot }}.postgresql.version_gate   {#- first: a cluster of another major stops the run (issue 19) #}
  - {{ tplroot }}.patroni.install
  - {{ tplroot }}.patroni.watchdog
  - {{ tplroot }}.patroni.callbacks
  - {{ tplroot }}.patroni.log
{%- if pgha.tls.enabled %}
  - {{ tplroot }}.postgresql.tls
{%- endif %}

pgha-patroni-config-dir-managed:
  file.directory:
    - name: {{ salt['file.dirname'](pgha.paths.patroni_config) }}
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0750'
    - require:
      - sls: {{ tplroot }}.patroni.install

{#- Patroni runs initdb or a base backup into an empty data directory it may create. #}
pgha-patroni-data-dir-managed:
  file.directory:
    - name: {{ pgha.postgresql.data_dir }}
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0700'
    - makedirs: true
    - require:
      - sls: {{ tplroot }}.patroni.install

{#- Holds the superuser, replication and REST passwords: owner-only, never diffed in output. #}
pgha-patroni-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.patroni_config }}
    - source: salt://{{ tplroot }}/patroni/files/config.yml.jinja
    - template: jinja
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0600'
    - show_changes: false
    - context:
        tplroot: {{ tplroot }}
    - require:
      - file: pgha-patroni-config-dir-managed
      - sls: {{ tplroot }}.patroni.watchdog    {#- the file names the mode the node really has #}
      - sls: {{ tplroot }}.patroni.callbacks
{%- if pgha.patroni.log.destination == 'logfile' %}
      - sls: {{ tplroot }}.patroni.log        {#- only then has it a state to require #}
{%- endif %}
{%- if pgha.tls.enabled %}
      - sls: {{ tplroot }}.postgresql.tls
{%- endif %}
