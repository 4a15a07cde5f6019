{#- A Type A balancer: HAProxy (its config from Salt, or from the DCS through confd), and
    keepalived holding the cluster VIP (map.jinja's `balancer_components`). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import balancer_components with context %}
include:
{%- for component in balancer_components %}
  - {{ tplroot }}.{{ component }}
{%- endfor %}
