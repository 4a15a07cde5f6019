{#- salt-run state.orch pgha.remove_node pillar='{"target": "pg3"}'
    Takes one node out cleanly. Refused before anything changes when it would leave no
    database node, no replica under synchronous_mode_strict, or an etcd without quorum. Then:
    leadership moves off the node (a planned switchover, no failover), Patroni and the node's
    other services stop, its etcd member is removed (quorum checked again) and etcd stopped,
    its address leaves the mine, and the remaining nodes converge (pg_hba, etcd endpoints,
    HAProxy servers, keepalived peers: reloads only). PostgreSQL's data stays on the node.
    Afterwards remove the minion from the cluster's pillar, or the next orchestration adds it
    back to the mine. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('remove_node') }}
