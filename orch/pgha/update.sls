{#- salt-run state.orch pgha.update [pillar='{"cluster": "NAME"}']
    Rolling package update (pgha:operations:update_target = postgres | patroni | system), in
    the autobase order: each replica in turn is drained (Patroni tags nofailover,
    noloadbalance, nosync), checked for lag and long transactions on the leader, updated,
    restarted if its packages changed, healthy again, and restored; then leadership moves to
    an updated replica and the old primary follows the same path. Stops at the first failed
    gate; the drained node keeps its tags so that nobody fails over to it. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('update') }}
