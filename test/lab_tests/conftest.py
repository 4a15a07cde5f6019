"""Lab fixtures: one real Type B cluster per session, shared by every lab test."""
import os
import shutil
import time

import pytest

from pghalab.cluster import run_orch
from pghalab.image import SUITES
from pghalab.lab import Lab

from .helpers import node_has_package


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0 or not shutil.which("systemd-nspawn"):
        skip = pytest.mark.skip(reason="the lab needs root and systemd-nspawn (make test installs it)")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def lab(request):
    """A fresh lab in the test module's SCENARIO (one lab at a time: modules run in turn)."""
    lab = Lab("pgha")
    lab.up(getattr(request.module, "SCENARIO", "typeb"))
    yield lab
    if not os.environ.get("PGHA_LAB_KEEP"):
        lab.down()


@pytest.fixture(scope="module")
def deployed(lab):
    """Deploy once from bare nodes: no PostgreSQL, etcd or Patroni installed beforehand."""
    pg = "postgresql-" + SUITES[lab.info["suite"]]["postgresql"]
    bare = {n.name: not node_has_package(n, pg) and not node_has_package(n, "etcd-server")
            and not node_has_package(n, "patroni") for n in lab.nodes()}
    started = time.monotonic()
    result = run_orch(lab, "pgha.deploy")
    seconds = time.monotonic() - started
    print(f"\nFIGURE deploy_from_bare_seconds={seconds:.1f} suite={lab.info['suite']}")
    return {"bare": bare, "result": result, "seconds": seconds}
