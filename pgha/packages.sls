{#- Every package this minion's roles need, in one batch: the orchestration installs them on
    all nodes in parallel before configuring anything. The package sources first. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import components with context %}

include:
  - {{ tplroot }}.repo
{%- for component in components if component != 'repo' %}
  - {{ tplroot }}.{{ component }}.install
{%- endfor %}
