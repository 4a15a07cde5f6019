{#- etcd authentication (pgha:patroni:etcd:username, issue 23): once etcd is healthy, the
    root user and Patroni's user, then auth on, for the API the cluster uses (v2 with
    vip-manager 1.x, else v3). An existing etcd (dcs_exists) is its owner's to configure. #}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, members, etcd_client_urls with context %}
{#- One member does it (the first by name): the users and auth are the cluster's, and two
    members switching auth on at once would lock each other's next request out. #}
{%- set first = (members.etcd | dictsort | first | default([grains.id]))[0] %}

include:
  - {{ tplroot }}.etcd.gate
{%- if first == grains.id %}

pgha-etcd-auth-enabled:
  pgha_etcd_auth.enabled:
    - name: etcd authentication
    - endpoint: {{ etcd_client_urls | first | json }}
    - api: {{ pgha.patroni.dcs_api }}
    - prefix: {{ pgha.patroni.dcs_prefix | json }}
    - order: last
    - require:
      - pgha_etcd: pgha-gate-etcd-healthy
{%- endif %}
