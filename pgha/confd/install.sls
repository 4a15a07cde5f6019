{#- confd is not packaged for Debian: the binary comes from pgha:confd:url and must match
    pgha:confd:source_hash. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-confd-binary-managed:
  file.managed:
    - name: {{ pgha.confd.bin }}
    - source: {{ pgha.confd.url }}
    - source_hash: {{ pgha.confd.source_hash }}
    - mode: '0755'
