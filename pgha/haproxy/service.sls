{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.haproxy.config

{#- HAProxy reloads seamlessly (-Ws master-worker): established sessions keep their worker. #}
pgha-haproxy-service-running:
  service.running:
    - name: {{ pgha.services.haproxy }}
    - enable: true
    - reload: true
    - watch:
      - file: pgha-haproxy-config-file-managed
    - require:
      - sls: {{ tplroot }}.haproxy.config

{#- A new file limit only takes effect on a restart; HAProxy restarts in milliseconds and the
    balancer's peer holds the VIP meanwhile only if this one is down long enough to matter. #}
pgha-haproxy-restarted-for-limits:
  cmd.run:
    - name: systemctl restart {{ pgha.services.haproxy }}
    - onchanges:
      - file: pgha-haproxy-unit-dropin-managed
    - require:
      - service: pgha-haproxy-service-running
