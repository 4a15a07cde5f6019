{#- salt-run state.orch pgha.add_node pillar='{"target": "pg4"}'   (or a list: ["pg4", "pg5"])
    Adds minions that carry the cluster's pillar (pgha:cluster_name, pgha:roles), one at a
    time: host preparation (pgha.system) and packages (and an SSH key for a pgBackRest
    repository host); an etcd member joins the running etcd cluster (member add, then start as
    `existing`); the members already there converge to the new membership (pg_hba, etcd
    endpoints, HAProxy servers, keepalived peers: reloads, no PostgreSQL restart); then the
    new node starts as a Patroni replica (or as a balancer) and must be healthy before the
    next one. pgha.add_balancer is the same orchestration. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('add_node') }}
