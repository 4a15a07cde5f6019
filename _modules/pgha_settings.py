"""
pgha's settings on a minion, as every state and template reads them: map.jinja exports what
:py:func:`render` returns. The logic is in the utils module ``pgha_derive`` (pure Python);
this module gathers its inputs: the parameter files from the file server, this minion's
pillar and grains, and the cluster's members from the mine (:py:func:`member`, published as
``pgha_member``). Each input is read once per run: map.jinja is imported by every state file
and template.
"""
import salt.utils.data
import salt.utils.yaml
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_settings"
# The mine key of :py:func:`member` (pillar mine_functions, and pgha.prepare publishes it).
MINE_KEY = "pgha_member"


def __virtual__():
    if "pgha_derive.settings" in __utils__:
        return __virtualname__
    return (False, "pgha's utils module pgha_derive is not synced (run saltutil.sync_all)")


def _pillar(key, default=None):
    # Read __pillar__ directly: pillar.get masks values outside templates (Salt >= 3008).
    return salt.utils.data.traverse_dict_and_list(__pillar__, key, default, delimiter=":")


def _layers(tplroot):
    """The parameter files' data for this minion's grains (None for a file that is missing)."""
    key = f"pgha_settings.layers.{tplroot}"
    if key not in __context__:
        layers = []
        for name in __utils__["pgha_derive.parameter_files"](__grains__):
            text = __salt__["cp.get_file_str"](f"salt://{tplroot}/parameters/{name}")
            layers.append(salt.utils.yaml.safe_load(text) if text else None)
        __context__[key] = layers
    return __context__[key]


def parameters(tplroot="pgha"):
    """
    The formula's parameter files merged for this minion: ``parameters/defaults.yaml``, then
    its ``os_family/`` and ``osfinger/`` files (no pillar).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_settings.parameters
    """
    return __utils__["pgha_derive.defaults"](_layers(tplroot))


def _mine():
    """Every minion's published membership (``pgha_member``), read once per run."""
    key = "pgha_settings.mine"
    if key not in __context__:
        # every minion's: the cluster's are picked in Python (pgha_derive.members), by exact name
        __context__[key] = __salt__["mine.get"]("*", MINE_KEY) or {}
    return __context__[key]


def member():
    """
    This minion's membership, published to the mine as ``pgha_member`` (pillar
    ``mine_functions``, and pgha.prepare's ``pgha_settings.member_published``): its
    ``cluster_name`` and ``roles`` from pillar and its cluster ``address``
    (``pgha.address``); with pgha:monitoring, its metrics endpoints too. The other minions find their cluster's members in it by exact
    comparison.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_settings.member
    """
    pillar_pgha = _pillar("pgha", {})
    # the parameter files only when monitoring needs them (the metrics endpoints, issue 24)
    monitoring = pillar_pgha.get("monitoring") if isinstance(pillar_pgha, dict) else None
    layers = parameters() if isinstance(monitoring, dict) and monitoring.get("enabled") is True else None
    return __utils__["pgha_derive.member_entry"](pillar_pgha, __salt__["pgha.address"](), layers)


def members(cluster_name=None):
    """
    ``{role: {minion: address}}`` of a cluster (this minion's, ``pgha:cluster_name``, by
    default): the minions whose published membership (``pgha_member``) names exactly that
    cluster, for the roles postgresql, etcd, balancer and pgbackrest.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_settings.members
        salt pg1 pgha_settings.members main
    """
    if cluster_name is None:
        cluster_name = _pillar("pgha:cluster_name")
    return __utils__["pgha_derive.members"](cluster_name, _mine())


def render(tplroot="pgha"):
    """
    The settings map.jinja exports: ``pgha`` (the parameter files, pillar ``pgha:lookup``,
    pillar ``pgha``, the failover preset and the derived values), ``members``,
    ``etcd_scheme``, ``tls_files``, ``etcd_client_urls``, ``components`` and
    ``balancer_components``. ``tplroot`` is the formula's directory on the file server.
    Holds pillar values, passwords included: for templates (map.jinja), not for the command
    line, whose return would print them and land in the job cache.

    CLI Example:

    .. code-block:: bash

        salt-call pgha_settings.render --out=yaml    # prints the passwords
    """
    try:
        return __utils__["pgha_derive.settings"](_layers(tplroot), _pillar("pgha", {}) or {}, _mine())
    except ValueError as exc:
        raise CommandExecutionError(str(exc)) from exc
