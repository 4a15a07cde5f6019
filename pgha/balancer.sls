{#- A Type A balancer: HAProxy (its config from Salt, or from the DCS through confd), and
    keepalived holding the cluster VIP. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
include:
  - .haproxy
  - .keepalived
{%- if pgha.confd.enabled %}
  - .confd
{%- endif %}
