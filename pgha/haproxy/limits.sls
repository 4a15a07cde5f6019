{#- Before HAProxy's configuration, drop-in or service change: can this host give HAProxy the
    open files pgha:haproxy:maxconn needs? In a container systemd cannot raise a service above
    PID 1's hard limit, whatever the drop-in asks, and HAProxy 3.0 then refuses to start. The
    run stops here naming the key (older HAProxy starts with fewer connections: a warning).
    Checked after the package is installed: its version decides (_utils/pgha_fd_limits.py). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.haproxy.install

pgha-haproxy-fd-limits-checked:
  pgha_haproxy.fd_limits:
    - maxconn: {{ pgha.haproxy.maxconn }}
    - failhard: true
    - require:
      - sls: {{ tplroot }}.haproxy.install
