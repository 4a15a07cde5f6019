"""The settings model (_utils/pgha_model.py) declares every key of the parameter files once,
no key they lack, and the autobase variables docs/autobase-mapping.md lists."""
from pathlib import Path

import pytest
import yaml

import pgha_model

REPO = Path(__file__).resolve().parents[2]
PARAMETERS = sorted((REPO / "pgha" / "parameters").rglob("*.yaml"))
PILLAR_ONLY = ("address", "lookup")


def _paths(data, prefix="", leaves_only=False):
    """The colon paths of ``data``: its leaves, and with ``leaves_only`` False its sections."""
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _paths(value, f"{prefix}{key}:", leaves_only)
            if leaves_only:
                continue
        yield f"{prefix}{key}"


def _declared(path):
    """The declared key ``path`` is, or lies under (a mapping's or a list's items)."""
    return any(path == key or path.startswith(f"{key}:") for key in pgha_model.KEYS)


@pytest.mark.parametrize("parameters", PARAMETERS, ids=[str(p.relative_to(REPO)) for p in PARAMETERS])
def test_every_parameter_is_declared(parameters):
    missing = [path for path in _paths(yaml.safe_load(parameters.read_text()), leaves_only=True)
               if not _declared(path)]
    assert missing == []


def test_every_declared_key_is_a_parameter():
    known = set()
    for parameters in PARAMETERS:
        known |= set(_paths(yaml.safe_load(parameters.read_text())))
    assert sorted(set(pgha_model.KEYS) - known - set(PILLAR_ONLY)) == []


def test_the_autobase_mapping_lists_the_models_variables():
    rows = [line for line in (REPO / "docs" / "autobase-mapping.md").read_text().splitlines()
            if line.startswith("|")]
    missing = []
    for key, variable in pgha_model.autobase().items():
        last = key.split(":")[-1]
        if not any(f"`{variable}" in row and f"{last}`" in row for row in rows):
            missing.append(f"{key} ({variable})")
    assert missing == []


def test_the_docs_list_the_grammars():
    text = (REPO / "docs" / "configuration.md").read_text()
    assert "### Grammars and reserved names" in text
    for fragment in ("63 bytes", "1-15 of", "scram-sha-256", "/var/lib",
                     "postgresql:superuser:name", "pgbouncer:auth_user:name", "quote the value"):
        assert fragment in text


@pytest.mark.parametrize("osfinger", sorted(p.stem for p in (REPO / "pgha/parameters/osfinger").glob("*.yaml")))
def test_every_os_parameters_are_valid(osfinger):
    """The parameters as a minion of each OS merges them pass the model's types."""
    import salt.utils.dictupdate  # pylint: disable=import-outside-toplevel

    import pgha_validate  # pylint: disable=import-outside-toplevel
    family = "Debian" if osfinger.startswith("Debian") else "RedHat"
    merged = {}
    for layer in ("defaults.yaml", f"os_family/{family}.yaml", f"osfinger/{osfinger}.yaml"):
        merged = salt.utils.dictupdate.merge(
            merged, yaml.safe_load((REPO / "pgha/parameters" / layer).read_text()), merge_lists=False)
    assert list(pgha_validate.typed(merged)) + list(pgha_validate.sweep(merged)) == []


def test_every_key_has_a_type_of_its_own():
    """No key is left untyped (Any): free-form values are a Map's, its comment says why."""
    import pgha_types  # pylint: disable=import-outside-toplevel
    untyped = [key for key, kind in pgha_model.KEYS.items() if type(kind).__name__ == pgha_types.Any.__name__]
    assert untyped == []
