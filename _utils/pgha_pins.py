"""
Whether a version pin would downgrade a package installed on the node, pure Python (no
``__salt__``: the execution module ``pgha_packages`` passes the installed versions and the
package manager's comparison in). A pin older than the installed version would make
``pkg.installed`` go back (apt's 1001 pin priority too): on a running node that restarts
PostgreSQL, Patroni or etcd onto an older release, which nobody asked for as such, and
PostgreSQL's minor releases do not promise that their files read back with an older one. So
the highstate stops instead, naming the pillar key. Synced with ``saltutil.sync_utils``.
"""
import fnmatch

# The pillar key each component's pin comes from (pgha_derive: cfg["pins"]).
PIN_KEYS = {"postgresql": "postgresql:version_minor", "patroni": "patroni:version", "etcd": "etcd:version"}


def _without_epoch(version):
    return version.split(":", 1)[1] if ":" in version else version


def _release(version):
    """The upstream part of a package version (before the last '-', the package revision)."""
    return version.rsplit("-", 1)[0]


def older(pin, installed, version_cmp):
    """
    Whether ``pin`` is older than the ``installed`` version. ``pin`` is what ``pkg.installed``
    is given (``pgha_patroni_features.pkg_version``): a full version ('3.0.2-1'), or a release
    with any package revision ('3.0.2-*'), which an installed '3.0.2-4' fulfils. As Salt's pkg
    states do, an epoch ('1:') counts only when the pin names one. ``version_cmp(a, b,
    ignore_epoch=...)`` is the package manager's (Salt's ``pkg.version_cmp``): -1, 0, 1, or
    None when it cannot tell (then it is not called older: pgha refuses only what it knows).
    """
    ignore_epoch = ":" not in pin
    have = _without_epoch(installed) if ignore_epoch else installed
    if pin.endswith("*"):
        if fnmatch.fnmatchcase(have, pin):
            return False
        pin, have = pin.rstrip("*").rstrip("-"), _release(have)
    return (version_cmp(pin, have, ignore_epoch=ignore_epoch) or 0) < 0


def shown(pin):
    """A pin as the user wrote it: '15.18' for pkg.installed's '15.18-*'."""
    return pin[:-2] if pin.endswith("-*") else pin


def downgrades(pinned_pkgs, installed, version_cmp, minion):
    """
    One message per component whose pin is older than an installed version of one of its
    packages (none: no pin would go back). ``pinned_pkgs`` is ``{component: [name or {name:
    pin}]}`` (``pgha_patroni_features.pinned_pkgs``), ``installed`` ``{name: [version, ...]}``
    (``pkg.list_pkgs(versions_as_list=True)``), ``minion`` this node's id.
    """
    problems = []
    for component, entries in sorted(pinned_pkgs.items()):
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            (name, pin), = entry.items()
            newer = [v for v in installed.get(name) or [] if older(str(pin), str(v), version_cmp)]
            if newer:
                key = PIN_KEYS.get(component, f"{component}:version")
                problems.append(f"pgha:{key}: {shown(str(pin))} is older than the installed {newer[0]} of {name} "
                                f"on {minion}; pgha does not downgrade: remove the pin or set it to the installed "
                                "version or newer")
                break
    return problems


def pip_downgrade(pin, installed, version_cmp, minion):
    """
    The message when ``patroni:pip_version`` (``pin``, e.g. '4.0.7') is older than the Patroni
    of the virtualenv (``installed``, '' none yet), else None: ``pip.installed`` with
    ``patroni==<pin>`` would go back to it. ``version_cmp`` compares PyPI versions.
    """
    if not pin or not installed or (version_cmp(str(pin), str(installed)) or 0) >= 0:
        return None
    return (f"pgha:patroni:pip_version: {pin} is older than the installed Patroni {installed} of the virtualenv "
            f"on {minion}; pgha does not downgrade: remove the pin or set it to the installed version or newer")
