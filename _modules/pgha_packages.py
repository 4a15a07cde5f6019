"""
The packages pgha installs, as the node has them: whether a version pin of pillar
(``pgha:postgresql:version_minor``, ``patroni:version``, ``etcd:version``) is older than what
is installed, which pgha refuses before any change (the ``pgha.repo`` guard). The decision is
in the utils module ``pgha_pins`` (pure Python).
"""
__virtualname__ = "pgha_packages"


def __virtual__():
    if "pgha_pins.downgrades" not in __utils__:
        return (False, "pgha's utils module pgha_pins is not synced (run saltutil.sync_all)")
    return __virtualname__


def downgrades(pinned_pkgs=None):
    """
    The pins that are older than an installed package, one message each naming its pillar
    key (an empty list: no pin would downgrade anything). ``pinned_pkgs`` is pgha's
    ``{component: [name or {name: version}]}`` (map.jinja's ``pgha.pinned_pkgs``); by default
    this node's settings'. Nothing is asked of the package manager when nothing is pinned.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_packages.downgrades
    """
    if pinned_pkgs is None:
        pinned_pkgs = __salt__["pgha_settings.render"]("pgha")["pgha"]["pinned_pkgs"]
    if not any(isinstance(entry, dict) for entries in pinned_pkgs.values() for entry in entries):
        return []
    installed = __salt__["pkg.list_pkgs"](versions_as_list=True)
    return __utils__["pgha_pins.downgrades"](pinned_pkgs, installed, __salt__["pkg.version_cmp"],
                                            __grains__.get("id") or __opts__.get("id"))
