{#- Host preparation (pgha:system), before any role's service: kernel settings, huge pages,
    transparent huge pages, open-file limits, locales, /etc/hosts and time synchronisation.
    Each part has its own switch; a part switched off renders a nop that says which. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}

include:
  - {{ tplroot }}.system.sysctl
  - {{ tplroot }}.system.hugepages
  - {{ tplroot }}.system.thp
  - {{ tplroot }}.system.limits
  - {{ tplroot }}.system.locale
  - {{ tplroot }}.system.hosts
  - {{ tplroot }}.system.time
