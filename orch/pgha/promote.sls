{#- salt-run state.orch pgha.promote pillar='{"cluster": "NAME"}'
    Promotes standby cluster NAME (pgha:standby_cluster, docs/standby-clusters.md): Patroni's
    standby_cluster is removed from its DCS and its standby leader becomes a read-write
    primary; then its VIP serves writes. The cluster must be named (never the only one the
    master knows: promotion is for a lost main site). Refused while the main cluster
    (pgha:standby_cluster:cluster) still has a running leader, or while the standby leader
    still streams from it, unless pillar force: true. Afterwards remove pgha:standby_cluster
    from the cluster's pillar: until then its highstate fails and changes nothing (it never
    demotes). The main cluster's minions are never targeted. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{%- if salt['pillar.get']('cluster', '') %}
{{ two_stages('promote') }}
{%- else %}
pgha-promote-refused:
  test.fail_without_changes:
    - name: pgha.promote refused
    - comment: "pgha.promote needs the standby cluster's name: pillar='{\"cluster\": \"NAME\"}' (nothing was changed)"
{%- endif %}
