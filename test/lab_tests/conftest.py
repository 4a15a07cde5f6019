"""Lab fixtures: one real lab per scenario, shared by every test module of that scenario.

Modules run grouped by scenario (in MODULE_ORDER within a scenario), so that a scenario's lab
comes up and deploys once: test_typeb.py, test_day2.py, test_sources.py and
test_roles_objects.py share one Type B cluster. `--lab-scenario NAME` (make test-lab) keeps only the modules of one scenario.
"""
import os
import shutil
import time

import pytest

from pghalab.cluster import run_orch
from pghalab.image import SUITES
from pghalab.lab import Lab

from .helpers import node_has_package

# Within one scenario: the deploy-from-bare checks first, then what changes the cluster.
# test_gate_errors.py breaks Patroni on a replica for a while, though it restores it; then
# test_resilience_guarantees.py, which leaves the cluster in synchronous_mode_strict.
MODULE_ORDER = ["test_typeb.py", "test_day2.py", "test_sources.py", "test_roles_objects.py", "test_gate_errors.py",
                "test_resilience_guarantees.py"]


def _scenario(module):
    return getattr(module, "SCENARIO", "typeb")


def pytest_collection_modifyitems(config, items):
    lab_items = [i for i in items if "lab_tests" in i.path.parts]
    wanted = config.getoption("--lab-scenario")
    if wanted:
        keep = [i for i in items if i not in lab_items or _scenario(i.module) in wanted]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
        lab_items = [i for i in lab_items if i in keep]
    # Group lab modules by scenario (first appearance), then MODULE_ORDER, keeping test order.
    first = {}
    for n, item in enumerate(lab_items):
        first.setdefault(_scenario(item.module), n)

    def key(pair):
        n, item = pair
        if item not in lab_items:
            return (-1, 0, n)
        name = item.path.name
        rank = MODULE_ORDER.index(name) if name in MODULE_ORDER else len(MODULE_ORDER)
        return (first[_scenario(item.module)], rank, n)
    items[:] = [item for _, item in sorted(enumerate(items), key=key)]
    if os.geteuid() != 0 or not shutil.which("systemd-nspawn"):
        skip = pytest.mark.skip(reason="the lab needs root and systemd-nspawn (make test installs it)")
        for item in lab_items:
            item.add_marker(skip)


class _Shared:
    """The lab that is up, its scenario and suite, and its deploy (once per lab)."""
    lab = None
    key = None
    deploy = None


@pytest.fixture(scope="session")
def _shared():
    yield _Shared
    if _Shared.lab is not None and not os.environ.get("PGHA_LAB_KEEP"):
        _Shared.lab.down()


@pytest.fixture(scope="module")
def lab(request, _shared):
    """The lab of the module's SCENARIO: the one already up if the previous module used the
    same scenario and suite, else a fresh one (one lab at a time: modules run in turn)."""
    scenario = _scenario(request.module)
    key = (scenario, os.environ.get("PGHA_LAB_SUITE", ""))
    if _shared.key != key:
        if _shared.lab is not None:
            _shared.lab.down()
        _shared.lab, _shared.key, _shared.deploy = None, None, None
        lab = Lab("pgha")
        lab.up(scenario)
        _shared.lab, _shared.key = lab, key
    return _shared.lab


@pytest.fixture(scope="module")
def deployed(lab, _shared):
    """Deploy once per lab from bare nodes: no PostgreSQL, etcd or Patroni installed beforehand."""
    if _shared.deploy is None:
        pg = "postgresql-" + SUITES[lab.info["suite"]]["postgresql"]
        bare = {n.name: not node_has_package(n, pg) and not node_has_package(n, "etcd-server")
                and not node_has_package(n, "patroni") for n in lab.nodes()}
        started = time.monotonic()
        result = run_orch(lab, "pgha.deploy")
        seconds = time.monotonic() - started
        print(f"\nFIGURE deploy_from_bare_seconds={seconds:.1f} suite={lab.info['suite']}")
        _shared.deploy = {"bare": bare, "result": result, "seconds": seconds}
    return _shared.deploy
