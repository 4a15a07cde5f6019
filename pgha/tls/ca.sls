{#- The cluster CA's certificate (pillar pgha:tls:ca_cert) that every client of the cluster's
    services verifies them with; public. Its key stays in pillar (see pair.jinja). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, tls_files with context %}

pgha-tls-dir-managed:
  file.directory:
    - name: {{ pgha.paths.tls_dir }}
    - user: root
    - group: root
    - mode: '0755'
    - makedirs: true

pgha-tls-ca-cert-managed:
  file.managed:
    - name: {{ tls_files.ca }}
    - contents_pillar: pgha:tls:ca_cert
    - user: root
    - group: root
    - mode: '0644'
    - require:
      - file: pgha-tls-dir-managed
