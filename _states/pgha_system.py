"""
Kernel settings of pgha's host preparation, applied to the running kernel.

The files that apply them at boot (/etc/sysctl.d, a systemd unit) are ordinary
``file.managed`` states; this state only makes the running kernel match. A setting this
host cannot change (a container's read-only /proc/sys or /sys, a key that is not per network
namespace) is reported in the comment, not failed: in a container the host's kernel settings
apply, and the state run goes on.
"""
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_system"


def __virtual__():
    if "pgha_system.kernel_set" in __salt__:
        return __virtualname__
    return (False, "the pgha_system execution module is not loaded (run saltutil.sync_all)")


def _join(keys):
    return ", ".join(keys)


def kernel_applied(name, settings):
    """
    Make the running kernel hold ``settings``: sysctl names (``vm.swappiness``) or files
    under /sys (``/sys/kernel/mm/transparent_hugepage/enabled``), each mapped to its value.
    Only differing settings are written; ``changes`` holds ``{key: {old, new}}``. Settings
    this host cannot change are listed in the comment with the reason, and the result stays
    True; a value the kernel refuses fails.

    .. code-block:: yaml

        pgha-system-sysctl-applied:
          pgha_system.kernel_applied:
            - settings:
                vm.swappiness: 1
                net.core.somaxconn: 65535
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    if not isinstance(settings, dict) or not settings:
        ret["comment"] = "no kernel settings to apply"
        return ret
    already, skipped, failed, clamped = [], {}, [], []
    for key in sorted(settings, key=str):
        wanted = str(settings[key])
        try:
            current = __salt__["pgha_system.kernel_get"](key)
            if current is None:
                skipped.setdefault(__salt__["pgha_system.kernel_check"](key), []).append(key)
                continue
            if __salt__["pgha_system.same"](current, wanted):
                already.append(key)
                continue
            if __opts__["test"]:
                reason = __salt__["pgha_system.kernel_check"](key)
                if reason:
                    skipped.setdefault(reason, []).append(key)
                else:
                    ret["changes"][key] = {"old": current, "new": wanted}
                continue
            done = __salt__["pgha_system.kernel_set"](key, wanted)
        except CommandExecutionError as exc:
            failed.append(str(exc))
            continue
        if not done["applied"]:
            skipped.setdefault(done["reason"], []).append(key)
            continue
        if done["value"] != current:
            ret["changes"][key] = {"old": current, "new": done["value"]}
        if not __salt__["pgha_system.same"](done["value"], wanted):
            clamped.append(f"{key} (asked {wanted}, the kernel has {done['value']})")

    lines = []
    if failed:
        ret["result"] = False
        lines.append("failed: " + "; ".join(failed))
    if ret["changes"]:
        verb = "would set" if __opts__["test"] else "set"
        lines.append(f"{verb}: " + _join(f"{k} ({c['old']} -> {c['new']})"
                                         for k, c in ret["changes"].items()))
        if __opts__["test"] and ret["result"]:
            ret["result"] = None
    if clamped:
        lines.append("kept less than asked (applies in full at the next boot, from the "
                     "persisted file): " + _join(clamped))
    for reason, keys in sorted(skipped.items()):
        lines.append(f"not applied, {reason}: {_join(keys)}")
    if already:
        lines.append(f"already set: {_join(already)}")
    ret["comment"] = "\n".join(lines)
    return ret


def watchdog_ready(name, mode="automatic", user="postgres"):
    """
    Patroni's watchdog device (``name``, e.g. /dev/watchdog) ready for ``mode``
    (``pgha:patroni:watchdog:mode``): owned by ``user`` (Patroni runs as the postgres user and
    opens it), the udev rule keeps it so after a reboot. The comment always says the mode
    Patroni gets and why it differs from ``mode``: ``off`` inside a container (the kernel is
    the host's) or where the device is missing. Fails only when ``mode`` is ``required`` and
    cannot be met. Run it after softdog is loaded (the SLS loads it where no device exists).

    .. code-block:: yaml

        pgha-patroni-watchdog-ready:
          pgha_system.watchdog_ready:
            - name: /dev/watchdog
            - mode: automatic
            - user: postgres
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    plan = __salt__["pgha_system.watchdog"](mode, name)
    line = __utils__["pgha_watchdog.summary"](plan)
    if plan["error"]:
        ret.update(result=False, comment=line)
        return ret
    if plan["mode"] == "off" or not plan["device_present"]:
        ret["comment"] = line
        return ret
    try:
        owner = __salt__["file.get_user"](name)
    except CommandExecutionError as exc:
        ret.update(result=False, comment=f"{line}; cannot read the owner of {name}: {exc}")
        return ret
    if owner == user:
        ret["comment"] = f"{line}; {name} is owned by {user}"
        return ret
    if __opts__["test"]:
        ret.update(result=None, changes={"owner": {"old": owner, "new": user}},
                   comment=f"{line}; {name} would be given to {user}")
        return ret
    error = __salt__["file.chown"](name, user, None)    # an error's text, None when done
    if error:
        ret.update(result=False, comment=f"{line}; cannot give {name} to {user}: {str(error).strip()}")
        return ret
    ret.update(changes={"owner": {"old": owner, "new": user}}, comment=f"{line}; {name} given to {user}")
    return ret
