"""
PgBouncer states (issue 21): the gate that waits until PgBouncer answers, and a planned
switchover with every node's PgBouncer paused around it (``pgha:pgbouncer:switchover_pause``).
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_pgbouncer"


def __virtual__():
    return __virtualname__


def ready(name, port=6432, timeout=60):
    """
    Gate: PgBouncer answers on 127.0.0.1:``port``. Changes nothing.

    .. code-block:: yaml

        pgha-pgbouncer-gate-ready:
          pgha_pgbouncer.ready:
            - port: 6432
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    if __opts__.get("test"):
        ret.update(result=None, comment=f"would wait until PgBouncer answers on port {port}")
        return ret
    try:
        found = __salt__["pgha_pgbouncer.ready"](port=port, timeout=timeout)
    except CommandExecutionError as exc:
        ret.update(result=False, comment=str(exc))
        return ret
    # SHOW VERSION answers "PgBouncer 1.18.0 ..."
    ret["comment"] = f"{found or 'PgBouncer'} answers on port {port}"
    return ret


def switched_over(name, hosts, port=6432, pause_timeout=10, candidate=None, away_from=None,
                  max_lag_bytes=None, timeout=60):
    """
    ``pgha_patroni.switched_over`` with PgBouncer paused on every database node (``hosts``,
    their cluster addresses) while it runs: clients connected through PgBouncer wait instead of
    getting errors from a PostgreSQL that stops or turns read-only. Every node is resumed
    afterwards, also when the switchover fails; a PAUSE that does not finish within
    ``pause_timeout`` seconds (in session mode it waits for clients to disconnect) is resumed at
    once and the switchover goes on without it on that node.

    .. code-block:: yaml

        pgha-ops-switched-over:
          pgha_pgbouncer.switched_over:
            - hosts: [10.0.0.11, 10.0.0.12, 10.0.0.13]
            - candidate: pg2
    """
    mod = __salt__
    args = {"candidate": candidate, "away_from": away_from, "max_lag_bytes": max_lag_bytes, "timeout": timeout}
    try:
        current = mod["pgha_patroni.leader"]()
    except CommandExecutionError as exc:
        return {"name": name, "result": False, "changes": {}, "comment": str(exc)}
    nothing_to_do = (candidate and current == candidate) or (away_from and current != away_from)
    if nothing_to_do or __opts__.get("test"):
        ret = __states__["pgha_patroni.switched_over"](name, **args)
        if __opts__.get("test") and not nothing_to_do:
            ret["comment"] += f"; PgBouncer paused on {', '.join(hosts)} meanwhile"
        return ret
    notes, paused = [], []
    try:
        for host in hosts:
            try:
                found = mod["pgha_pgbouncer.pause"](port=port, host=host, timeout=pause_timeout)
            except CommandExecutionError as exc:
                notes.append(f"not paused: {exc}")
                continue
            if found.get("paused"):
                paused.append(host)
            else:
                notes.append(found.get("comment", f"{host} not paused"))
        ret = __states__["pgha_patroni.switched_over"](name, **args)
    finally:
        for host in paused:
            try:
                mod["pgha_pgbouncer.resume"](port=port, host=host)
            except CommandExecutionError as exc:   # reported, and the state fails below
                notes.append(f"RESUME FAILED, PgBouncer on {host} still holds its clients: {exc}")
    if paused:
        notes.insert(0, f"PgBouncer paused and resumed on {', '.join(paused)}")
    if any(note.startswith("RESUME FAILED") for note in notes):
        ret["result"] = False
    ret["comment"] = "; ".join([ret.get("comment") or ""] + notes).strip("; ")
    return ret
