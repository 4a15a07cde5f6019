{#- WAL-G is not packaged for Debian: the binary comes from pgha:wal_g:url (the release's
    binary itself, not its .tar.gz) and must match pgha:wal_g:source_hash. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

pgha-wal-g-binary-managed:
  file.managed:
    - name: {{ pgha.wal_g.bin }}
    - source: {{ pgha.wal_g.url }}
    - source_hash: {{ pgha.wal_g.source_hash }}
    - mode: '0755'
