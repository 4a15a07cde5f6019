{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import members with context %}
{%- set me = members.etcd.get(grains.id) %}
{%- set etcd = pgha.etcd %}

include:
  - {{ tplroot }}.etcd.install

pgha-etcd-data-dir-managed:
  file.directory:
    - name: {{ etcd.data_dir }}
    - user: {{ pgha.users.etcd }}
    - group: {{ pgha.users.etcd }}
    - mode: '0700'
    - require:
      - sls: {{ tplroot }}.etcd.install

pgha-etcd-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.etcd_env }}
    - source: salt://{{ tplroot }}/etcd/files/etcd.env.jinja
    - template: jinja
    - mode: '0644'
    - context:
        etcd: {{ etcd | json }}
        me: {{ me | json }}
        members: {{ members.etcd | json }}
    - require:
      - sls: {{ tplroot }}.etcd.install
