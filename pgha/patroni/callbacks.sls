{#- Patroni's callbacks (pgha:patroni:callbacks, autobase patroni_callbacks): one script per
    action in paths:patroni_callbacks_dir, run by Patroni as the postgres user with the
    action, the role and the cluster name as arguments. A script no longer listed is removed
    (clean), so Patroni never runs a forgotten one. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- set dir = pgha.paths.patroni_callbacks_dir %}

include:
  - {{ tplroot }}.patroni.install

pgha-patroni-callbacks-dir-managed:
  file.directory:
    - name: {{ dir }}
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0750'
    - makedirs: true
    - clean: true
    - require:
      - sls: {{ tplroot }}.patroni.install
{%- for entry in pgha.patroni.callbacks %}
      - file: pgha-patroni-callback-{{ entry.action }}-managed
{%- endfor %}

{%- for entry in pgha.patroni.callbacks %}
pgha-patroni-callback-{{ entry.action }}-managed:
  file.managed:
    - name: {{ pgha.patroni.callback_scripts[entry.action] }}
{%-   if entry.get('source') %}
    - source: {{ entry.source | json }}
{%-   else %}
    - contents: {{ entry.get('contents', '') | json }}
{%-   endif %}
    - user: {{ pgha.users.postgres }}
    - group: {{ pgha.users.postgres }}
    - mode: '0750'
    - makedirs: true
    - require:
      - sls: {{ tplroot }}.patroni.install
{%- endfor %}
