"""The formula's states (pgha/) and the orchestrations (orch/pgha/) share one salt:// namespace:
an SLS name found in both resolves to one of them only, and the other is silently shadowed
(a monitor's highstate once included the pgha.monitor orchestration instead of its states)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _sls_names(root):
    names = set()
    for path in root.rglob("*.sls"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "init":
            parts = parts[:-1]
        names.add(".".join(parts))
    return names


def test_no_orchestration_shadows_a_state():
    states = _sls_names(REPO)  # pgha/... as salt://pgha/...
    states = {name for name in states if name.startswith("pgha.") or name == "pgha"}
    orchestrations = _sls_names(REPO / "orch")
    assert orchestrations, "no orchestration found"
    assert not states & orchestrations, f"in both pgha/ and orch/: {sorted(states & orchestrations)}"
