"""
Unit tests of pgha's custom execution and state modules, with Salt's loader mocked by
pytest-salt-factories (each test module defines a ``configure_loader_modules`` fixture).

The execution modules are imported by name from ``_modules`` (``import pgha``). The utils module
``_utils/pgha_cluster.py`` is imported as ``pgha_cluster``. The state modules and the runner
(``_runners/pgha.py``) have the same file names, so they are loaded by path under distinct
names: ``pgha_state``, ``pgha_etcd_state``, ``pgha_patroni_state``, ``pgha_haproxy_state``,
``pgha_system_state`` and ``pgha_runner``.
"""
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULES_DIR = REPO_ROOT / "_modules"
UTILS_DIR = REPO_ROOT / "_utils"
RUNNERS_DIR = REPO_ROOT / "_runners"
STATES_DIR = REPO_ROOT / "_states"
DEFAULTS_YAML = REPO_ROOT / "pgha" / "parameters" / "defaults.yaml"

for _path in (MODULES_DIR, UTILS_DIR, Path(__file__).resolve().parent):  # modules, pgha_unit_helpers
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


def _load_state(module_name, file_name):
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, STATES_DIR / file_name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


for _name, _file in (("pgha_state", "pgha.py"), ("pgha_etcd_state", "pgha_etcd.py"),
                     ("pgha_patroni_state", "pgha_patroni.py"),
                     ("pgha_haproxy_state", "pgha_haproxy.py"),
                     ("pgha_system_state", "pgha_system.py")):
    _load_state(_name, _file)
_load_state("pgha_runner", RUNNERS_DIR / "pgha.py")   # the runner has the same file name too

from pgha_unit_helpers import FakeClock  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def clock(monkeypatch):
    """A fake clock in place of the ``time`` module of the modules that wait."""
    import pgha_etcd  # pylint: disable=import-outside-toplevel
    import pgha_haproxy  # pylint: disable=import-outside-toplevel
    import pgha_patroni  # pylint: disable=import-outside-toplevel

    fake = FakeClock()
    for module in (pgha_etcd, pgha_patroni, pgha_haproxy):
        monkeypatch.setattr(module, "time", fake)
    return fake


@pytest.fixture(scope="session")
def defaults_text():
    return DEFAULTS_YAML.read_text()


@pytest.fixture
def defaults(defaults_text):
    return yaml.safe_load(defaults_text)
