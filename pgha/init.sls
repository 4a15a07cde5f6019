{#- Highstate entry point: the components of this minion's roles (map.jinja's `components`). #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import components with context %}

include:
{%- for component in components %}
  - {{ tplroot }}.{{ component }}
{%- endfor %}
