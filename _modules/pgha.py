"""
Cluster-wide helpers for the pgha formula: the address a node publishes to the mine, and
pillar validation that runs before any node changes.

The validator itself is the settings model and its rules in ``_utils`` (``pgha_model``,
``pgha_validate``, ``pgha_rules*``), reached through ``__utils__``: :py:func:`check` is a plain
function so that unit tests can feed it pillars without a minion.
"""
import logging

import salt.utils.data
import salt.utils.dictupdate
import salt.utils.path
import salt.utils.yaml
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha"


def __virtual__():
    return __virtualname__


def _pillar(key, default=None):
    # Read __pillar__ directly: pillar.get masks values outside templates (Salt >= 3008).
    return salt.utils.data.traverse_dict_and_list(__pillar__, key, default, delimiter=":")


def _primary_ipv4(interfaces, skip=()):
    for name, data in sorted(interfaces.items(), key=lambda kv: kv[0] != "eth0"):
        if name == "lo":
            continue
        for inet in data.get("inet", []):
            addr = inet.get("address")
            if addr and addr not in skip and not addr.startswith("127."):
                return name, addr, inet.get("netmask")
    return None, None, None


def address():
    """
    The address this node is known by in the cluster: ``pgha:address`` from pillar, else the
    primary IPv4 address of the interface with the default route (never a VIP: VIPs are
    secondary addresses). Published to the mine as ``pgha_address``.

    CLI Example:

    .. code-block:: bash

        salt '*' pgha.address
    """
    configured = _pillar("pgha:address", "")
    if configured:
        return configured
    return _pick_interface()[1]


def interface():
    """
    The network interface that holds :py:func:`address` (where a VIP goes by default).

    CLI Example:

    .. code-block:: bash

        salt '*' pgha.interface
    """
    return _pick_interface()[0]


def _pick_interface():
    interfaces = __salt__["network.interfaces"]()
    skip = {_pillar("pgha:cluster_vip", "")}
    route_if = None
    try:
        for route in __salt__["network.default_route"]("inet"):
            route_if = route.get("interface")
            break
    except (CommandExecutionError, KeyError, TypeError):
        route_if = None
    if route_if and route_if in interfaces:
        name, addr, mask = _primary_ipv4({route_if: interfaces[route_if]}, skip)
        if addr:
            return name, addr, mask
    return _primary_ipv4(interfaces, skip)


def members(cluster_name, roles=("postgresql", "etcd", "balancer", "pgbackrest")):
    """
    ``{role: {minion: address}}`` for a cluster, from the mine (``pgha_member``), the cluster
    name compared exactly: ``pgha_settings.members``, which map.jinja's ``members`` come from.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.members main
    """
    found = __salt__["pgha_settings.members"](cluster_name)
    return {role: found.get(role, {}) for role in roles}


def existing_postgresql(data_dir=None):
    """
    The standalone PostgreSQL on this node, for adopting it (``pgha:postgresql_exists``):
    ``{running, version, data_directory}`` asked of the running server over the local socket,
    or read from ``data_dir``'s PG_VERSION when none runs.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.existing_postgresql
    """
    res = __salt__["cmd.run_all"](
        ["psql", "-XAtq", "-F", "|", "-c",
         "SELECT current_setting('server_version_num'), current_setting('data_directory')"],
        runas="postgres", python_shell=False, ignore_retcode=True)
    if res["retcode"] == 0 and "|" in res["stdout"]:
        num, directory = res["stdout"].strip().splitlines()[-1].split("|", 1)
        return {"running": True, "version": str(int(num) // 10000), "data_directory": directory}
    version = None
    if data_dir and __salt__["file.file_exists"](f"{data_dir}/PG_VERSION"):
        version = __salt__["file.read"](f"{data_dir}/PG_VERSION").strip()
    return {"running": False, "version": version, "data_directory": data_dir if version else None}



def _get(data, path, default=None):
    return __utils__["pgha_cluster.get"](data, path, default)


def _roles(cfg):
    roles = cfg.get("roles")
    return set(map(str, roles)) if isinstance(roles, list) else set()


def check(pillar_pgha, defaults, context=None):
    """Return a list of problems (strings naming the pillar key) for a pgha pillar dict.

    ``defaults`` are the merged parameters (defaults.yaml, os_family/, osfinger/). ``context``
    holds what only the minion knows: ``address`` (its cluster address, for the VIP's subnet)
    and ``os`` (its osfinger, for messages). Pure function: the unit tests and
    :py:func:`validate` both call it.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.check '{"cluster_name": "main", "roles": [etcd]}' '{}'
    """
    return __utils__["pgha_validate.check"](pillar_pgha, defaults, context)


def check_restore_target(restore, prefix="restore"):
    """
    Problems as (key, message) with a restore target: ``type`` (default, time, lsn, name,
    xid, immediate), ``target``, ``stanza`` and ``set``. ``prefix`` names where the keys came
    from in the messages.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.check_restore_target '{"type": "time", "target": "2026-11-26 04:00:00+00"}'
    """
    return __utils__["pgha_validate.check_restore_target"](restore, prefix)


def check_cluster(pillars, defaults=None):
    """
    The cluster-wide problems and warnings no single minion's pillar shows: the etcd member
    count, synchronous replication with too few database nodes, Type A without balancers, and
    cluster settings (``pgha_cluster.CLUSTER_KEYS``) that differ between minions. ``pillars`` is
    ``{minion: pgha pillar}`` (pass only the roles and the cluster keys, never a password);
    ``defaults`` None reads this minion's parameters. Returns ``{"problems": [...],
    "warnings": [...]}``, each ``pgha:<key>: <message>``. The checks live in the utils module
    ``pgha_cluster`` (``saltutil.sync_utils``), which the ``pgha.plan`` runner runs on the
    master for the orchestrations.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.check_cluster '{"pg1": {"roles": [postgresql, etcd]}, "pg2": {"roles": [postgresql, etcd]}}'
    """
    if defaults is None:
        defaults = _defaults()
    return __utils__["pgha_cluster.check_cluster"](pillars, defaults)


def _defaults():
    """parameters/defaults.yaml merged with this minion's os_family/ and osfinger/ files, as
    map.jinja merges them; read once per run."""
    if "pgha.defaults" not in __context__:
        merged = {}
        for layer in ("defaults.yaml", f"os_family/{__grains__.get('os_family', '')}.yaml",
                      f"osfinger/{__grains__.get('osfinger', '')}.yaml"):
            text = __salt__["cp.get_file_str"](f"salt://pgha/parameters/{layer}")
            data = salt.utils.yaml.safe_load(text) if text else None
            if isinstance(data, dict):
                merged = salt.utils.dictupdate.merge(merged, data, merge_lists=False)
        __context__["pgha.defaults"] = merged
    return __context__["pgha.defaults"]


def _installed_patroni():
    """``patroni --version`` of the Patroni on this minion's PATH ('' when none is installed):
    a distribution's Patroni may be newer than its parameters/osfinger say (a backport)."""
    if not salt.utils.path.which("patroni"):
        return ""
    ret = __salt__["cmd.run_all"](["patroni", "--version"], python_shell=False, ignore_retcode=True)
    return ret["stdout"].strip() if ret.get("retcode") == 0 else ""


def _context(pillar_pgha):
    """What :py:func:`check` needs to know of this minion: its OS, and its cluster address when
    a VIP is set (the address may come from the network)."""
    context = {"os": __grains__.get("osfinger") or __grains__.get("os_family") or "",
               "os_family": __grains__.get("os_family") or ""}
    if "pgha_system.container" in __salt__:     # the watchdog's rule: a container has no kernel of its own
        context["container"] = __salt__["pgha_system.container"]()
    # a re-run: the installed PgBouncer's version wins over the package sources' (issue 21)
    if "pgha_pgbouncer.version" in __salt__:
        context["pgbouncer_version"] = __salt__["pgha_pgbouncer.version"]()
    installed = _installed_patroni()
    if installed:
        # the version gates of Patroni's features (pgha_rules_patroni) trust what runs here
        context["patroni_version"] = installed
    if isinstance(pillar_pgha, dict) and pillar_pgha.get("cluster_vip"):
        try:
            context["address"] = address()
        except CommandExecutionError as exc:
            log.warning("pgha.validate: no address to check cluster_vip's subnet against: %s", exc)
    return context


def validate():
    """
    Check this minion's ``pgha`` pillar. Returns the list of problems (empty when valid); each
    names the pillar key. Orchestrations run it on every cluster minion before changing anything.

    CLI Example:

    .. code-block:: bash

        salt -I 'pgha:cluster_name:main' pgha.validate
    """
    pillar_pgha = _pillar("pgha")
    return check(pillar_pgha, _defaults(), _context(pillar_pgha))


def tls_files():
    """
    The TLS files (``pgha:tls``) with which pgha's modules reach etcd from this node:
    ``{"ca": ..., "cert": ..., "key": ...}``, the cluster CA's certificate and a client
    certificate (an etcd member's own key pair, else the postgres user's on a database node,
    else none). ``{}`` when ``pgha:tls:enabled`` is false. The names are map.jinja's
    ``tls_files``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha.tls_files
    """
    cfg = __utils__["pgha_cluster.merged"](_defaults(), _pillar("pgha", {}) or {})
    if _get(cfg, "tls:enabled") is not True:
        return {}
    tls_dir, roles = _get(cfg, "paths:tls_dir"), _roles(cfg)
    files = {"ca": f"{tls_dir}/ca.crt"}
    service = ("etcd" if "etcd" in roles and not cfg.get("dcs_exists")
               else "postgres" if "postgresql" in roles else None)
    if service:
        files.update(cert=f"{tls_dir}/{service}.crt", key=f"{tls_dir}/{service}.key")
    return files
