{#- The superuser's and the replication role's passwords equal pillar, for data that did not
    come from Patroni's bootstrap: a restored backup (pgha.restore), before replicas connect. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha with context %}
{%- from tplroot ~ "/postgresql/system_roles.jinja" import system_roles %}
{{ system_roles(pgha, 'pgha-postgresql-system-role') }}
