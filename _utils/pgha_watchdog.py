"""
Patroni's watchdog (pillar ``pgha:patroni:watchdog``): which mode Patroni gets on this node,
and whether pgha loads ``softdog`` for it. Pure Python, no ``__salt__``: the execution module
``pgha_system.watchdog`` gathers the facts (container? device present?) and calls ``decide``.

Why a watchdog: a leader that hangs (frozen, swapping, stuck in the kernel) keeps its VIP and
its TCP sessions; thawed, it acknowledges commits until Patroni's next loop demotes it, and
those commits are lost to pg_rewind. With a watchdog the kernel resets the node when Patroni
stops feeding it, before the leader key can expire.

Why never in a container: a container shares the host's kernel. Loading softdog there would
load it on the host, and a reset would reset the host with every other container on it.
"""

MODES = ("automatic", "required", "off")
SOFTDOG = "softdog"


def decide(wanted, container, device_present, softdog_loaded=False):
    """
    The watchdog plan for one node:
    ``{"wanted", "mode", "load_softdog", "reason", "error"}``.

    - ``wanted``: pillar's mode (automatic | required | off);
    - ``container``: the container's name (``systemd-nspawn``, ``docker``), '' on a host;
    - ``device_present``: the watchdog device exists (a character device);
    - ``softdog_loaded``: softdog is already loaded (so a missing device will not appear).

    ``mode`` is what Patroni's configuration gets. ``load_softdog``: load the module (and
    persist it) because no device exists yet on a real host. ``reason``: why ``mode`` is not
    ``wanted`` ('' when it is). ``error``: ``required`` cannot be met (the state fails, the
    validator refuses it in a container before anything changes).
    """
    plan = {"wanted": wanted, "mode": wanted, "load_softdog": False, "reason": "", "error": ""}
    if wanted not in MODES:
        plan.update(mode="off", error=f"mode must be one of {', '.join(MODES)} (got {wanted!r})")
        return plan
    if wanted == "off":
        return plan
    if container:
        why = (f"inside a container ({container}): the kernel is the host's, so pgha loads no "
               "softdog and Patroni gets no watchdog")
        plan.update(mode="off", reason=why)
        if wanted == "required":
            plan["error"] = f"mode required is impossible {why}; set patroni:watchdog:mode automatic or off"
        return plan
    if device_present:
        return plan
    if not softdog_loaded:
        # Patroni needs the device when it starts: load softdog now, then check again.
        plan.update(load_softdog=True, reason="no watchdog device yet: softdog is loaded for it")
        return plan
    why = "the watchdog device is missing although softdog is loaded"
    plan.update(mode="off", reason=why)
    if wanted == "required":
        plan["error"] = f"mode required cannot be met: {why}"
    return plan


def disabled_by_timing(ttl, loop_wait, safety_margin):
    """True when Patroni would switch its watchdog off for these timings: it needs
    ``ttl - safety_margin - loop_wait >= 0`` (the watchdog must fire before the leader key
    expires, with the margin to spare, and Patroni feeds it once per loop)."""
    return ttl - safety_margin - loop_wait < 0


def resets_during_dcs_retry(ttl, loop_wait, retry_timeout, safety_margin):
    """True when the watchdog would reset a leader during DCS trouble that Patroni rides out.
    Patroni feeds the watchdog only after it renews the leader key, and the watchdog fires
    ``ttl - safety_margin`` seconds after that. A renewal that fails is retried for up to
    ``retry_timeout`` seconds, from ``loop_wait`` after the last good one, before Patroni
    demotes the leader. So ``loop_wait + retry_timeout <= ttl - safety_margin`` lets a stall
    that the retries cover end without the host being reset."""
    return loop_wait + retry_timeout > ttl - safety_margin


def summary(plan, minion=""):
    """One line for the deploy summary: the effective mode, and why it is not the wanted one."""
    who = f"{minion}: " if minion else ""
    line = f"{who}watchdog {plan['mode']}"
    if plan["mode"] != plan["wanted"]:
        line += f" (wanted {plan['wanted']})"
    if plan.get("reason"):
        line += f": {plan['reason']}"
    if plan.get("error"):
        line += f"; ERROR: {plan['error']}"
    return line
