"""
What the orchestrations run: the gates, the operation SLS (pgha.ops.*), the first step of
new nodes.
"""
import pytest

from .render_helpers import REPO, GRAINS, COMBOS, COMBO_IDS, _states, _state, PG


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_gates(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    assert _state(states, "pgha-gate-patroni-healthy") == (
        "pgha_patroni", "healthy", {"role": "member", "timeout": 180, "service": "patroni"})
    assert _state(states, "pgha-gate-pillar-valid")[:2] == ("pgha", "pillar_valid")
    assert _state(states, "pgha-gate-address-published") == (
        "pgha", "address_published", {"require": [{"pgha": "pgha-gate-pillar-valid"}]})
    assert _state(states, "pgha-gate-pillar-valid")[2]["require"] == [
        {"saltutil": "pgha-gate-utils-synced"}, {"saltutil": "pgha-gate-modules-synced"},
        {"saltutil": "pgha-gate-states-synced"}]
    assert _state(states, "pgha-gate-utils-synced") == ("saltutil", "sync_utils", {"refresh": False})
    assert _state(states, "pgha-gate-modules-synced") == (
        "saltutil", "sync_modules", {"refresh": False})
    assert _state(states, "pgha-gate-states-synced") == (
        "saltutil", "sync_states", {"refresh": True, "reload_modules": True})


@pytest.mark.parametrize("grains_id", GRAINS)
def test_operation_sls(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    pkgs = PG[grains_id][0]
    assert _state(states, "pgha-ops-restarted") == (
        "pgha_patroni", "restarted", {"stage": "replica", "pending_only": True, "timeout": 300})
    assert _state(states, "pgha-ops-switched-over") == (
        "pgha_patroni", "switched_over", {"candidate": "", "away_from": "",
                                          "max_lag_bytes": 10485760, "timeout": 300})
    assert _state(states, "pgha-ops-update-ready")[2]["max_transaction_sec"] == 15
    assert _state(states, "pgha-ops-update-pkgs-latest") == (
        "pkg", "latest", {"pkgs": pkgs, "refresh": True,
                          "require": [{"pgha_patroni": "pgha-ops-update-ready"}]})
    # also the included install state's change: a pinned minor moves there first (lab)
    assert _state(states, "pgha-ops-update-postgresql-restarted")[2]["onchanges"] == [
        {"pkg": "pgha-ops-update-pkgs-latest"}, {"pkg": "pgha-postgresql-pkgs-installed"}]
    assert _state(states, "pgha-postgresql-pkgs-installed")[:2] == ("pkg", "installed")
    assert _state(states, "pgha-gate-patroni-tags-applied")[:2] == ("pgha_patroni", "tags_applied")


@pytest.mark.parametrize("orchestration,step", [("deploy", "pgha-base-deployed"),
                                                ("add_node", "pgha-add-{{ target }}-base")])
def test_system_prepared_by_the_orchestrations(orchestration, step):
    """New nodes get the host preparation in their first step, before their packages."""
    text = (REPO / "orch" / "pgha" / "steps" / f"{orchestration}.sls").read_text()
    block = text.split(f"\n{step}:\n", 1)[1].split("\n\n", 1)[0]
    sls = [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- pgha.")]
    assert sls[:2] == ["pgha.system", "pgha.packages"], block
