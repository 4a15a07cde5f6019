{#- etcd's leadership kept off Patroni's leader (pgha:etcd:leader_apart; docs/configuration.md,
    "etcd's leader and Patroni's"). With Patroni's etcd v3 API the leader key lives on a lease,
    and a member that becomes etcd's leader extends every lease by its whole TTL: when the node
    that leads both crashes, the dead leader's key outlives it by ttl plus etcd's election
    instead of ttl minus the time since its last renewal. A Salt schedule on each node that
    runs Patroni and an etcd member asks every 10 s whether this node leads both, and then
    hands etcd's leadership to another healthy member (pgha_etcd.leader_apart). It needs no
    file or secret of its own: the root password of etcd authentication stays in pillar. -#}
{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import pgha, members, etcd_scheme with context %}
{%- set own = (members.etcd | default({})).get(grains.id) %}
{%- if pgha.etcd.leader_apart and own %}

pgha-etcd-leader-apart-scheduled:
  schedule.present:
    - name: pgha-etcd-leader-apart
    - function: pgha_etcd.leader_apart
    - job_kwargs:
        endpoint: {{ (etcd_scheme ~ '://' ~ own ~ ':' ~ pgha.etcd.client_port) | json }}
    - seconds: 10                     # a failover's new leader is checked within 10 s
    - maxrunning: 1
    - return_job: false               # a job return every 10 s would flood the master
    - persist: true
{%- else %}

pgha-etcd-leader-apart-absent:
  schedule.absent:
    - name: pgha-etcd-leader-apart
{%- endif %}
