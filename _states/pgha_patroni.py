"""
Patroni health gates for orchestrations. They wait and report; they never change a node, so
they report no changes and keep a re-run of an orchestration quiet. With ``test=True`` they
look once and do not wait (result ``None`` when not healthy yet).
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_patroni"


def __virtual__():
    if "pgha_patroni.wait_healthy" in __salt__:
        return __virtualname__
    return (False, "the pgha_patroni execution module is not loaded")


def _gate(name, func, *args, timeout, **kwargs):
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    # test=True looks once instead of waiting: in a dry run nothing was deployed to wait for.
    wait = 0 if __opts__.get("test") else timeout
    try:
        ret["comment"] = func(*args, timeout=wait, **kwargs)
    except CommandExecutionError as exc:
        if __opts__.get("test"):
            ret.update(result=None, comment=f"would wait up to {timeout}s: {exc}")
        else:
            ret.update(result=False, comment=str(exc))
    return ret


def healthy(name, role="member", timeout=120, service="patroni"):
    """
    Wait until this node is healthy as ``leader``, ``replica`` or ``member``
    (see ``pgha_patroni.wait_healthy``). When it gives up, the comment quotes Patroni's last
    errors from the journal of systemd unit ``service``.

    .. code-block:: yaml

        pgha-patroni-healthy:
          pgha_patroni.healthy:
            - role: replica
    """
    return _gate(name, __salt__["pgha_patroni.wait_healthy"], role=role, timeout=timeout, service=service)


def vip_ready(name, timeout=60):
    """
    Wait until the VIP ``name`` is on this node exactly when it is the leader.

    .. code-block:: yaml

        10.0.0.100:
          pgha_patroni.vip_ready: []
    """
    return _gate(name, __salt__["pgha_patroni.wait_vip"], name, timeout=timeout)


def tags_applied(name, timeout=30):
    """
    Wait until Patroni runs with the tags of its configuration file.

    .. code-block:: yaml

        pgha-patroni-tags-applied:
          pgha_patroni.tags_applied: []
    """
    return _gate(name, __salt__["pgha_patroni.wait_tags"], timeout=timeout)


def maintenance_ready(name, max_lag_bytes, max_transaction_sec, timeout=60):
    """
    Wait until replication lag and the leader's longest transaction are within limits
    (see ``pgha_patroni.wait_maintenance_ready``).

    .. code-block:: yaml

        pgha-maintenance-ready:
          pgha_patroni.maintenance_ready:
            - max_lag_bytes: 10485760
            - max_transaction_sec: 15
    """
    return _gate(name, __salt__["pgha_patroni.wait_maintenance_ready"], max_lag_bytes,
                 max_transaction_sec, timeout=timeout)


def _fail(ret, exc):
    ret.update(result=False, comment=str(exc))
    return ret


def _restart_hint(names):
    return (f"pending restart: {', '.join(names)} (salt-run state.orch pgha.restart applies it)"
            if names else "no restart pending")


ARCHIVING = ("keep", "pause", "resume")
RESUME_HINT = ("WAL archiving is paused since a restore: resume it with "
               "salt-run state.orch pgha.config pillar='{\"resume_archiving\": true}'")


def _archiving(config, archiving, paused_command, current=None):
    """The configuration to enforce, given whether WAL archiving is paused after a restore
    (the DCS archive_command is ``paused_command``) and what to do about it; and a note."""
    params = config.get("postgresql", {}).get("parameters", {})
    if archiving not in ARCHIVING:
        raise CommandExecutionError(f"archiving must be one of {', '.join(ARCHIVING)}, not {archiving!r}")
    if not paused_command or "archive_command" not in params or archiving == "resume":
        return config, ""
    if archiving == "keep":
        current = current if current is not None else __salt__["pgha_patroni.show_config"]()
        params_now = (current.get("postgresql") or {}).get("parameters") or {}
        if params_now.get("archive_command") != paused_command:
            return config, ""
    patched = dict(config, postgresql=dict(config["postgresql"],
                                           parameters=dict(params, archive_command=paused_command)))
    return patched, RESUME_HINT


def _preset_note(diff, preset, preset_keys):
    """Says that patched keys follow the failover preset: a change of a preset's values (a
    new pgha version, or another preset) reaches running clusters this way."""
    keys = sorted(k for k in diff if k in (preset_keys or ()))
    if not preset or not keys:
        return ""
    return (f"{', '.join(keys)} from failover preset {preset} (pgha:patroni:rto_profile): a preset "
            "change alters the DCS of an existing cluster at its next highstate, with a reload and "
            "no PostgreSQL restart")


def dynamic_config(name, config, archiving="keep", paused_archive_command=None, preset=None, preset_keys=None,
                   cluster=None):
    """
    Keep Patroni's dynamic configuration (in the DCS) equal to ``config``: the keys given are
    patched when they differ, other keys are left alone. Parameters that need a PostgreSQL
    restart are reported as pending, never restarted. Without a running leader there is
    nothing to patch yet (bootstrap writes the configuration).

    After a restore, WAL archiving is paused: archive_command is ``paused_archive_command``.
    ``archiving`` says what to do about it: ``keep`` a pause that is in place, ``pause``
    archiving now, or ``resume`` it with ``config``'s archive_command.

    ``preset`` (the failover preset's name) and ``preset_keys`` (the Patroni keys it sets): the
    comment says when patched keys follow the preset, whose change reaches running clusters.

    A standby cluster (``standby_cluster`` in ``config``, issue 20): the state fails, changing
    nothing, when the DCS no longer has ``standby_cluster`` (the cluster was promoted) or has it
    while ``config`` does not (``cluster``, the cluster's name, is quoted in the message).

    .. code-block:: yaml

        pgha-patroni-dynamic-config:
          pgha_patroni.dynamic_config:
            - config:
                loop_wait: 10
                postgresql:
                  parameters:
                    max_connections: 200
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        leader = __salt__["pgha_patroni.leader"]()
    except CommandExecutionError as exc:  # Patroni just started (or the service state failed)
        leader, why = None, str(exc)
    else:
        why = "no running leader yet"
    if not leader:
        ret["comment"] = f"{why}: nothing to patch (Patroni's bootstrap writes this configuration)"
        return ret
    try:
        # a standby cluster (issue 20): pillar and the DCS must agree on being one; pgha never
        # demotes a running primary, and only pgha.promote promotes
        current = __salt__["pgha_patroni.show_config"]()
        conflict = __utils__["pgha_standby.dcs_conflict"](config, current, cluster or "")
        if conflict:
            return _fail(ret, conflict)
        config, note = _archiving(config, archiving, paused_archive_command, current)
        diff = __salt__["pgha_patroni.edit_config"](config, test=True)["changes"]
        if not diff:
            ret["comment"] = "; ".join(filter(None, ["the dynamic configuration matches", note]))
            return ret
        preset_note = _preset_note(diff, preset, preset_keys)
        if __opts__.get("test"):
            ret.update(result=None, changes=diff,
                       comment="; ".join(filter(None, [f"would patch {', '.join(sorted(diff))}", preset_note])))
            return ret
        __salt__["pgha_patroni.edit_config"](config)
    except CommandExecutionError as exc:
        return _fail(ret, exc)
    ret["changes"] = diff
    params = [k.rsplit(".", 1)[1] for k in diff if k.startswith("postgresql.parameters.")]
    try:
        restart = __salt__["pgha_patroni.restart_params"](params) if params else []
    except CommandExecutionError as exc:
        restart = [f"(unknown: {exc})"]
    ret["comment"] = f"patched {', '.join(sorted(diff))}; " + (
        f"needs a restart: {', '.join(sorted(restart))} (salt-run state.orch pgha.restart)"
        if restart else "applied with a reload") + (f"; {note}" if note else "") + (
        f"; {preset_note}" if preset_note else "")
    return ret


def pending_restart(name):
    """
    Report the parameters on this node that wait for a PostgreSQL restart. Changes nothing.
    When it watches the Patroni configuration file and the file changed, it first waits
    until Patroni has applied the change.

    .. code-block:: yaml

        pgha-patroni-pending-restart:
          pgha_patroni.pending_restart:
            - watch:
              - sls: pgha.patroni.config
    """
    return _pending(name, wait=False)


def mod_watch(name, sfun=None, **kwargs):  # pylint: disable=unused-argument
    if sfun == "pending_restart":
        return _pending(name, wait=True)
    return {"name": name, "result": False, "changes": {},
            "comment": f"pgha_patroni.{sfun} does not support watch"}


def _pending(name, wait):
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        state = __salt__["pgha_patroni.status"]().get("state")
    except CommandExecutionError:
        state = None
    if state != "running":
        ret["comment"] = f"PostgreSQL is not running under Patroni ({state or 'no answer'}): nothing to report"
        return ret
    if __opts__.get("test"):
        wait = False
    try:
        names = (__salt__["pgha_patroni.wait_applied"](timeout=30) if wait
                 else __salt__["pgha_patroni.pending_restart"]())
    except CommandExecutionError as exc:
        return _fail(ret, exc)
    ret["comment"] = _restart_hint(names)
    return ret


def restarted(name, stage, pending_only=True, timeout=300):
    """
    One step of a rolling restart; acts only when this node is in the role the stage is for
    and (with ``pending_only``) has a restart pending:

    - ``primary_first``: the leader, when a hot-standby-critical parameter
      (max_connections, ...) goes down: PostgreSQL needs the primary to run with the lower
      value before its replicas do. Restarts in place.
    - ``replica``: a replica restarts and waits until it streams again.
    - ``leader``: the leader switches over to a healthy replica (which restarts it as a
      replica with the new settings), then restarts if anything is still pending.

    .. code-block:: yaml

        pgha-patroni-restarted:
          pgha_patroni.restarted:
            - stage: replica
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    if stage not in ("primary_first", "replica", "leader"):
        return _fail(ret, f"stage must be primary_first, replica or leader, not {stage!r}")
    mod = __salt__
    try:
        leads = mod["pgha_patroni.is_leader"]()
        if leads != (stage != "replica"):
            ret["comment"] = f"not a {'replica' if stage == 'replica' else 'leader'}: nothing to do in stage {stage}"
            return ret
        pending = mod["pgha_patroni.pending_restart"]()
        if pending_only and not pending:
            ret["comment"] = "no restart pending"
            return ret
        if stage == "primary_first":
            lower = mod["pgha_patroni.decreasing"]()
            if not lower:
                ret["comment"] = "no hot-standby parameter goes down: the leader restarts last"
                return ret
        if __opts__.get("test"):
            ret.update(result=None, comment=f"would restart ({stage}): {_restart_hint(pending)}")
            return ret
        if pending:  # Patroni applies a DCS change in its next loop: restart after that
            mod["pgha_patroni.wait_restart_flagged"]()
        if stage == "leader":
            moved = mod["pgha_patroni.switchover"]()
            ret["changes"]["switchover"] = {"old": moved["from"], "new": moved["to"]}
            mod["pgha_patroni.wait_healthy"](role="replica", timeout=timeout)
            pending = mod["pgha_patroni.pending_restart"]() if pending_only else pending
        if stage == "replica":
            mod["pgha_patroni.wait_replayed"](timeout=timeout)
        if pending or not pending_only:
            mod["pgha_patroni.restart"](timeout=timeout)
            ret["changes"]["restarted"] = pending or ["(all)"]
        role = "leader" if stage == "primary_first" else "replica"
        mod["pgha_patroni.wait_healthy"](role=role, timeout=timeout)
        left = mod["pgha_patroni.pending_restart"]()
    except CommandExecutionError as exc:
        return _fail(ret, exc)
    if left:
        ret.update(result=False, comment=f"still pending after the restart: {', '.join(left)}")
        return ret
    ret["comment"] = f"restarted ({stage}); {role} healthy, no restart pending"
    return ret


def switched_over(name, candidate=None, away_from=None, max_lag_bytes=None, timeout=60):
    """
    Planned switchover to ``candidate`` (or the best candidate), then wait until the new
    leader accepts writes. Does nothing when ``candidate`` already leads, or when
    ``away_from`` is given and is not the leader (moving leadership off a node to maintain it).

    .. code-block:: yaml

        pgha-switchover:
          pgha_patroni.switched_over:
            - candidate: pg2
            - max_lag_bytes: 1048576

        pgha-leadership-off-pg1:
          pgha_patroni.switched_over:
            - away_from: pg1
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    mod = __salt__
    try:
        current = mod["pgha_patroni.leader"]()
        if candidate and current == candidate:
            ret["comment"] = f"{candidate} is already the leader"
            return ret
        if away_from and current != away_from:
            ret["comment"] = f"{away_from} is not the leader ({current} is)"
            return ret
        if __opts__.get("test"):
            chosen = candidate or mod["pgha_patroni.candidate"](max_lag_bytes=max_lag_bytes)
            ret.update(result=None, changes={"leader": {"old": current, "new": chosen}},
                       comment=f"would switch over from {current} to {chosen}")
            return ret
        moved = mod["pgha_patroni.switchover"](candidate=candidate or None,
                                               max_lag_bytes=max_lag_bytes, timeout=timeout)
        ret["changes"] = {"leader": {"old": moved["from"], "new": moved["to"]}}
        mod["pgha_patroni.wait_healthy"](role="leader", timeout=timeout)
    except CommandExecutionError as exc:
        return _fail(ret, exc)
    ret["comment"] = f"switched over from {moved['from']} to {moved['to']}; the leader accepts writes"
    return ret


def cluster_removed(name, patronictl="patronictl"):
    """
    Remove cluster ``name`` from the DCS once Patroni is stopped on every member
    (``pgha_patroni.remove_cluster``). The restored primary then starts it anew.

    .. code-block:: yaml

        main:
          pgha_patroni.cluster_removed: []
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    if __opts__.get("test"):
        ret.update(result=None, changes={"removed": name}, comment=f"would remove cluster {name} from the DCS")
        return ret
    try:
        ret["comment"] = __salt__["pgha_patroni.remove_cluster"](name, patronictl=patronictl)
    except CommandExecutionError as exc:
        return _fail(ret, exc)
    ret["changes"] = {"removed": name}
    return ret
