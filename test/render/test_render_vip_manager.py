"""
vip-manager and the VIP gate (Type B); in Type A keepalived holds the VIP.
"""
import pytest

from .render_helpers import VIP, PILLARS, COMBOS, COMBO_IDS, _states, _state


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_vip(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    pgha = PILLARS[pillar_id]["pgha"]
    # vip-manager holds the VIP in Type B only; in Type A keepalived does, on the balancers
    if pgha.get("cluster_vip") and not pgha.get("with_haproxy_load_balancing"):
        assert _state(states, "pgha-gate-vip-ready") == (
            "pgha_patroni", "vip_ready", {"name": VIP, "timeout": 60})
        assert "pgha-vip-manager-not-used" not in states
        module, _, args = _state(states, "pgha-vip-manager-unit-dropin-managed")
        assert args["name"] == "/etc/systemd/system/vip-manager.service.d/pgha.conf"
        assert args["context"]["vip"] == VIP and args["context"]["scope"] == pgha["cluster_name"]
        assert args["context"]["interface"] not in ("", "None", None)
    else:
        assert _state(states, "pgha-gate-vip-none")[:2] == ("test", "nop")
        assert _state(states, "pgha-vip-manager-not-used")[:2] == ("test", "nop")
