{#- /etc/hosts (pgha:system:etc_hosts): every cluster member's minion ID, and its short name,
    at its cluster address from the mine, plus pgha:system:etc_hosts:extra. A name pgha
    manages points at that address only: other lines for it go (clean), such as Debian's
    127.0.1.1 line for the node's own name, which would hide its cluster address from itself. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/map.jinja" import members with context %}
{%- set etc_hosts = pgha.system.etc_hosts %}
{%- set entries = {} %}
{%- if etc_hosts.enabled %}
{%-   for role, nodes in members | dictsort %}
{%-     for minion, address in (nodes or {}) | dictsort %}
{%-       for name in [minion, minion.split('.')[0]] if name | regex_match('^([A-Za-z0-9][A-Za-z0-9.-]*)$') %}
{%-         do entries.update({name: address}) %}
{%-       endfor %}
{%-     endfor %}
{%-   endfor %}
{%-   for line in etc_hosts.extra %}
{%-     for name in line.names %}
{%-       do entries.update({name: line.ip}) %}
{%-     endfor %}
{%-   endfor %}
{%- endif %}

{%- for name, ip in entries | dictsort %}
pgha-system-hosts-{{ name }}-present:
  host.present:
    - name: {{ name }}
    - ip: {{ ip }}
    - clean: true
{%- else %}
pgha-system-hosts-not-managed:
  test.nop:
    - name: no /etc/hosts entries (pgha:system:etc_hosts:enabled, or no member in the mine yet)
{%- endfor %}
