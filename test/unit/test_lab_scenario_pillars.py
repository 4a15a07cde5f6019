"""Every lab scenario's pillar (test/pghalab/scenarios.py), as each of its nodes gets it, passes
the settings model and its rules on the lab's OS: a scenario the validator refuses would stop
`make test` at its first state run, after minutes of booting nodes."""
import copy
import functools
from pathlib import Path

import pytest
import salt.utils.dictupdate
import yaml

import pgha_validate
from pghalab import scenarios

PARAMETERS = Path(__file__).resolve().parents[2] / "pgha" / "parameters"
OS, FAMILY = "Debian-12", "Debian"     # the lab's nodes (test/pghalab/image.py)
# WAL-G is not packaged: the lab takes its URL and hash from the environment (scenario wal-g)
WAL_G = {"url": "file:///srv/pgha-repo/wal-g", "source_hash": "sha256=" + "0" * 64}


@functools.lru_cache(maxsize=None)
def _defaults():
    merged = {}
    for layer in ("defaults.yaml", f"os_family/{FAMILY}.yaml", f"osfinger/{OS}.yaml"):
        merged = salt.utils.dictupdate.merge(merged, yaml.safe_load((PARAMETERS / layer).read_text()),
                                             merge_lists=False)
    return merged


@functools.lru_cache(maxsize=None)
def _cluster_pillar(scenario):
    """The scenario's cluster pillar, made once (a TLS scenario makes a CA each time)."""
    return scenarios.lab_pillar(scenario)["pgha"]


NODES = [(scenario, node) for scenario, spec in sorted(scenarios.SCENARIOS.items()) for node in spec["roles"]]


@pytest.mark.parametrize("scenario,node", NODES, ids=[f"{s}-{n}" for s, n in NODES])
def test_scenario_pillar_is_valid(scenario, node):
    spec = scenarios.SCENARIOS[scenario]
    pgha = copy.deepcopy(_cluster_pillar(scenario))
    # what lab.write_pillar gives the node: the cluster's pillar and its own (roles_<node>.sls)
    own = copy.deepcopy(spec.get("node_pillar", {}).get(node, {}))
    scenarios._merge(pgha, {"roles": spec["roles"][node], **own})  # pylint: disable=protected-access
    if pgha.get("wal_g", {}).get("enabled") and not pgha["wal_g"].get("url"):
        pgha["wal_g"].update(WAL_G)
    context = {"address": f"{scenarios.SUBNET}.{spec['nodes'][node]}", "os": OS, "os_family": FAMILY}
    assert pgha_validate.check(pgha, copy.deepcopy(_defaults()), context) == []
