"""
The node's own checks before pgha deletes or replaces anything (pgha.ops.remove,
pgha.ops.restore, pgha.ops.leave). The orchestrations check the confirmation on the master
(``pgha.plan``), but an ops SLS can be applied directly (``salt pg1 state.sls pgha.ops.remove
pillar=...``) and a pillar can carry another cluster's values: so the node asks again, against
its own pillar, before the first service stops.
"""
import os

import salt.utils.data

__virtualname__ = "pgha_removal"


def __virtual__():
    return __virtualname__


def _pin_problem(cluster_name, pins):
    """Why the confirmation in pillar ``pgha_ops:<pin>`` does not name this node's cluster."""
    if not pins:  # a step that asks for no confirmation (pgha.ops.leave)
        return None
    # __pillar__ itself: Salt 3008's pillar.get masks every value outside a template render.
    given = {pin: salt.utils.data.traverse_dict_and_list(__pillar__, f"pgha_ops:{pin}", None, delimiter=":")
             for pin in pins}
    # Exact comparison: the pin is the cluster's own name, never a pattern, never another case.
    if isinstance(cluster_name, str) and cluster_name and any(
            isinstance(v, str) and v == cluster_name for v in given.values()):
        return None
    shown = ", ".join(f"{pin}={value!r}" for pin, value in given.items() if value is not None) or "none"
    return (f"this node belongs to cluster {cluster_name!r} and the confirmation (pillar pgha_ops:"
            f"{' or pgha_ops:'.join(pins)}) does not name it (got {shown}): run the salt-run state.orch "
            "workflow, which confirms it")


def _path_problems(paths):
    problems = []
    for path in paths:
        if not path:
            continue
        for candidate in dict.fromkeys((path, os.path.realpath(path) if isinstance(path, str) else path)):
            problem = __utils__["pgha_paths.system_dir_problem"](candidate)
            if problem:
                shown = "" if candidate == path else f" (it resolves to {candidate})"
                problems.append(f"{path} is not deleted{shown}: it {problem}")
                break
    return problems


def _patroni_problem(service, config):
    """Why Patroni still counts on etcd here: its service is running or enabled, or its
    configuration file exists (the removal's postgres stage deletes it)."""
    found = []
    if service and __salt__["service.status"](service):
        found.append(f"service {service} is running")
    if service and __salt__["service.enabled"](service):
        found.append(f"service {service} is enabled")
    if config and __salt__["file.file_exists"](config):
        found.append(f"{config} exists")
    if not found:
        return None
    return (f"etcd stays while Patroni uses it on this node ({', '.join(found)}): remove PostgreSQL "
            "first (pgha.remove with remove_postgres: true)")


def refusals(cluster_name, pins=("confirm_remove",), delete=(), patroni_service=None, patroni_config=None):
    """
    The reasons this node refuses a removal step (an empty list when it may go ahead):

    - pillar ``pgha_ops:<pin>`` (one of ``pins``; none asked with an empty list) must equal
      ``cluster_name``, this node's own ``pgha:cluster_name``, exactly;
    - no path in ``delete`` is, or contains, a system directory (``pgha_paths``), as given or
      with its symbolic links resolved;
    - with ``patroni_service`` (the etcd stage): Patroni's service is neither running nor
      enabled, and ``patroni_config`` does not exist.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_removal.refusals main delete='["/var/lib/postgresql/16/main"]' \\
            pillar='{"pgha_ops": {"confirm_remove": "main"}}'
    """
    if isinstance(pins, str):
        pins = [pins]
    if isinstance(delete, str):
        delete = [delete]
    problems = [p for p in [_pin_problem(cluster_name, pins)] if p]
    problems += _path_problems(delete)
    if patroni_service or patroni_config:
        problem = _patroni_problem(patroni_service, patroni_config)
        if problem:
            problems.append(problem)
    return problems
