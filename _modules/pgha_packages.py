"""
The packages pgha installs, as the node has them: whether a version pin of pillar
(``pgha:postgresql:version_minor``, ``patroni:version``, ``etcd:version``,
``patroni:pip_version``) is older than what is installed, which pgha refuses before any
change (the ``pgha.repo`` guard). The decision is in the utils module ``pgha_pins`` (pure
Python).
"""
import os

import salt.utils.versions

__virtualname__ = "pgha_packages"


def __virtual__():
    if "pgha_pins.downgrades" not in __utils__:
        return (False, "pgha's utils module pgha_pins is not synced (run saltutil.sync_all)")
    return __virtualname__


def _pip_patroni(venv):
    """The Patroni version of the virtualenv ``venv`` ('' when there is none yet)."""
    if not os.path.exists(os.path.join(venv, "bin", "pip")):
        return ""
    found = __salt__["pip.list"]("patroni", bin_env=venv) or {}
    return next((str(version) for name, version in found.items() if name.lower() == "patroni"), "")


def downgrades(pinned_pkgs=None, patroni=None):
    """
    The pins that are older than what is installed, one message each naming its pillar key
    (an empty list: no pin would downgrade anything). ``pinned_pkgs`` is pgha's ``{component:
    [name or {name: version}]}`` (map.jinja's ``pgha.pinned_pkgs``), ``patroni`` the
    ``install_method``, ``venv`` and ``pip_version`` of pgha's Patroni settings; by default
    this node's settings'. The package manager is asked only when a package is pinned, pip
    only for a pip-installed Patroni whose virtualenv exists.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_packages.downgrades
    """
    if pinned_pkgs is None:
        cfg = __salt__["pgha_settings.render"]("pgha")["pgha"]
        pinned_pkgs, patroni = cfg["pinned_pkgs"], cfg["patroni"]
    patroni = patroni or {}
    minion = __grains__.get("id") or __opts__.get("id")
    problems = []
    if any(isinstance(entry, dict) for entries in pinned_pkgs.values() for entry in entries):
        installed = __salt__["pkg.list_pkgs"](versions_as_list=True)
        problems += __utils__["pgha_pins.downgrades"](pinned_pkgs, installed, __salt__["pkg.version_cmp"], minion)
    if patroni.get("install_method") == "pip" and patroni.get("pip_version"):
        problem = __utils__["pgha_pins.pip_downgrade"](patroni["pip_version"], _pip_patroni(str(patroni["venv"])),
                                                        salt.utils.versions.version_cmp, minion)
        problems += [problem] if problem else []
    return problems
