"""
Patroni's watchdog (pgha:patroni:watchdog): pgha.patroni.watchdog's states and the watchdog
section of Patroni's config file, for the three modes, a missing device and a container.
/dev/null stands for a watchdog device (a character device on every host).
"""
import os
from pathlib import Path

import pytest

from .render_helpers import WATCHDOG_COMBOS, WATCHDOG_DEVICE, WATCHDOG_MISSING, _patroni_config, _state, _states

# The render host's own facts: pgha_system.container() reads /run/systemd/container first, and
# a missing device is only "to be loaded" while softdog is not loaded on the host.
HOST_IS_A_CONTAINER = Path("/run/systemd/container").exists()
SOFTDOG_LOADED = os.path.isdir("/sys/module/softdog")
host_only = pytest.mark.skipif(HOST_IS_A_CONTAINER, reason="the render host is itself a container")


def _watchdog(rendered, grains_id, pillar_id):
    return _states(rendered, "watchdog", grains_id, pillar_id)


@host_only
@pytest.mark.parametrize("pillar_id,mode", [("watchdog_automatic", "automatic"), ("watchdog_required", "required")])
def test_a_device_is_given_to_postgres_and_patroni_uses_it(rendered, pillar_id, mode):
    states = _watchdog(rendered, "debian12", pillar_id)
    module, function, args = _state(states, "pgha-patroni-watchdog-ready")
    assert (module, function) == ("pgha_system", "watchdog_ready")
    assert args["name"] == WATCHDOG_DEVICE and args["mode"] == mode and args["user"] == "postgres"
    rule = _state(states, "pgha-patroni-watchdog-udev-rule-managed")[2]
    assert rule["name"] == "/etc/udev/rules.d/61-pgha-watchdog.rules"
    assert 'KERNEL=="null", OWNER="postgres"' in rule["contents"]
    # a device exists: nothing is loaded
    assert not [s for s in states if "softdog" in s], sorted(states)

    watchdog = _patroni_config(rendered, "debian12", pillar_id)["watchdog"]
    margin = 3 if mode == "required" else 5
    assert watchdog == {"mode": mode, "device": WATCHDOG_DEVICE, "safety_margin": margin}


def test_off_is_off_and_touches_nothing(rendered):
    states = _watchdog(rendered, "debian12", "watchdog_off")
    assert sorted(s for s in states if "watchdog" in s) == ["pgha-patroni-watchdog-ready"]
    assert _patroni_config(rendered, "debian12", "watchdog_off")["watchdog"]["mode"] == "off"


@host_only
def test_a_missing_device_loads_softdog_now_and_at_boot(rendered):
    states = _watchdog(rendered, "debian12", "watchdog_missing")
    if SOFTDOG_LOADED:
        pytest.skip("softdog is loaded on the render host: the device is then reported missing instead")
    persisted = _state(states, "pgha-patroni-watchdog-softdog-persisted")[2]
    assert persisted["name"] == "/etc/modules-load.d/pgha-softdog.conf"
    assert [line for line in persisted["contents"].splitlines() if not line.startswith("#")] == ["softdog"]
    module, function, args = _state(states, "pgha-patroni-watchdog-softdog-loaded")
    assert (module, function, args["name"]) == ("kmod", "present", "softdog")
    ready = _state(states, "pgha-patroni-watchdog-ready")[2]
    assert {"kmod": "pgha-patroni-watchdog-softdog-loaded"} in ready["require"]
    assert ready["name"] == WATCHDOG_MISSING


def test_in_a_container_nothing_is_loaded_and_patroni_gets_off(rendered):
    states = _watchdog(rendered, "debian12_nspawn", "watchdog_automatic")
    # no module, no udev rule: the kernel is the host's
    assert sorted(s for s in states if "watchdog" in s) == ["pgha-patroni-watchdog-ready"]
    assert _patroni_config(rendered, "debian12_nspawn", "watchdog_automatic")["watchdog"]["mode"] == "off"


def test_patroni_config_waits_for_the_watchdog(rendered):
    """config.yml names the mode the node has after softdog was loaded: it renders after."""
    states = _watchdog(rendered, "debian12", "watchdog_automatic")
    assert "pgha-patroni-watchdog-ready" in states
    combos = {p for _, p in WATCHDOG_COMBOS}
    assert combos == {"watchdog_automatic", "watchdog_required", "watchdog_off", "watchdog_missing"}


@pytest.mark.parametrize("grains_id,pillar_id", [("debian12", "typeb_vip")])
def test_config_file_requires_the_watchdog_sls(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    args = _state(states, "pgha-patroni-config-file-managed")[2]
    assert {"sls": "pgha.patroni.watchdog"} in args["require"]
