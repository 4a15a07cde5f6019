{#- Patroni's log directory (pgha:patroni:log:destination logfile): the postgres user's, not
    world-readable (Patroni logs connection strings and cluster state). With the default
    journal destination Patroni writes to the journal and no directory is made. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.patroni.install
{%- if pgha.patroni.log.destination == 'logfile' %}

pgha-patroni-log-dir-managed:
  file.directory:
    - name: {{ pgha.patroni.log.dir }}
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0750'
    - makedirs: true
    - require:
      - sls: {{ tplroot }}.patroni.install
{%- endif %}
