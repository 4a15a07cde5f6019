{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.haproxy.install
  - {{ tplroot }}.haproxy.limits
{%- if pgha.tls.enabled %}
  - {{ tplroot }}.tls.ca
{%- endif %}

{#- Holds the stats password: readable by root and haproxy only, never diffed in output. The
    template reads it from the map itself, so no secret is among this state's arguments.
    With confd, Salt writes only the first version; confd rewrites it from the DCS. #}
pgha-haproxy-config-file-managed:
  file.managed:
    - name: {{ pgha.paths.haproxy_config }}
    - replace: {{ not pgha.confd.enabled }}
    - source: salt://{{ tplroot }}/haproxy/files/haproxy.cfg.jinja
    - template: jinja
    - user: root
    - group: {{ pgha.users.haproxy }}
    - mode: '0640'
    - show_changes: false
    - check_cmd: /usr/sbin/haproxy -c -q -f
    - context:
        tplroot: {{ tplroot }}
        confd: false
    - require:
      - sls: {{ tplroot }}.haproxy.install
      - sls: {{ tplroot }}.haproxy.limits
{%- if pgha.tls.enabled %}
      - sls: {{ tplroot }}.tls.ca
{%- endif %}

{#- HAProxy needs about 2 file descriptors per connection: maxconn {{ pgha.haproxy.maxconn }}.
    pgha.haproxy.limits checked first that this host allows them. #}
pgha-haproxy-unit-dropin-managed:
  file.managed:
    - name: /etc/systemd/system/{{ pgha.services.haproxy }}.service.d/pgha.conf
    - makedirs: true
    - contents: |
        # Managed by Salt (pgha)
        [Service]
        LimitNOFILE={{ salt['pgha_limits.haproxy_unit_nofile'](pgha.haproxy.maxconn) }}
    - require:
      - sls: {{ tplroot }}.haproxy.install
      - sls: {{ tplroot }}.haproxy.limits

pgha-haproxy-systemd-reloaded:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: pgha-haproxy-unit-dropin-managed
