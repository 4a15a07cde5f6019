{#- salt-run state.orch pgha.restore pillar='{"confirm_restore": "NAME",
        "restore": {"type": "time", "target": "2026-11-26 04:00:00+00"}}'
    Point-in-time recovery of the whole running cluster from its pgBackRest repository.
    Refused unless pillar confirm_restore names the cluster (cluster: NAME as usual picks it).
    restore: type default (all archived WAL) | time | lsn | name | xid | immediate, target,
    set (a backup label); missing keys come from pgha:restore. Before anything stops: the
    repository must have a backup that reaches the target. Then, as autobase does:
    Patroni stops on the replicas, then on the primary; the cluster leaves the DCS; the
    primary's data directory is restored, recovers to the target and is promoted (its new
    timeline reaches the archive); Patroni starts it and the superuser and replication
    passwords are set from pillar; WAL archiving is paused (disable_archive_command, resumed
    by pgha.config pillar='{"resume_archiving": true}'); each replica restores the same backup
    as a standby and must stream on the new timeline before the next. Everything written
    after the target is gone afterwards: that is what a point-in-time recovery is for. -#}
{%- from 'pgha/stages.jinja' import two_stages with context %}
{{ two_stages('restore') }}
