"""
Failover presets (patroni:rto_profile).
"""
import pytest

from .render_helpers import RTO, _states, _state, _render_file, _haproxy_listeners, _patroni_config


@pytest.mark.parametrize("pillar_id", list(RTO))
def test_failover_preset(rendered, pillar_id):
    """Every reader of the timings sees the preset's values, pillar keys first: Patroni's
    dynamic configuration (kept in the DCS), HAProxy's checks (static file and confd template),
    vip-manager's interval. Patroni and HAProxy take a new preset with a reload."""
    states = _states(rendered, "show_sls", "debian12", pillar_id)
    (ttl, loop_wait, retry_timeout, primary_start_timeout), checks, interval = RTO[pillar_id]
    config = _state(states, "pgha-patroni-dynamic-config-managed")[2]["config"]
    assert (config["ttl"], config["loop_wait"], config["retry_timeout"],
            config["primary_start_timeout"]) == (ttl, loop_wait, retry_timeout, primary_start_timeout)
    assert loop_wait + 2 * retry_timeout <= ttl                    # Patroni's rule
    # safe replicates synchronously (not strict), the others asynchronously
    assert (config["synchronous_mode"], config["synchronous_mode_strict"]) == (pillar_id == "rto_safe", False)
    assert _state(states, "pgha-patroni-service-running")[2]["reload"] is True
    # the watchdog's margin is the preset's too: fast's long loop keeps the watchdog with 2 s
    # (Patroni's file is rendered for some of these pillars only)
    if ("template", "debian12", pillar_id) in rendered:
        margin = _patroni_config(rendered, "debian12", pillar_id)["watchdog"]["safety_margin"]
        assert margin == (2 if pillar_id in ("rto_fast", "rto_override") else 5)
        assert loop_wait + retry_timeout <= ttl - margin           # no reset during DCS retries

    for state_id in ("pgha-haproxy-config-file-managed", "pgha-confd-template-file-managed"):
        listeners = _haproxy_listeners(_render_file(states, state_id, "debian12", pillar_id))
        for name in ("master", "replicas"):
            (default_server,) = [line for line in listeners[name] if line.startswith("default-server ")]
            assert default_server == f"default-server {checks} on-marked-down shutdown-sessions", (state_id, name)
    assert _state(states, "pgha-haproxy-service-running")[2]["reload"] is True

    text = _render_file(states, "pgha-vip-manager-unit-dropin-managed", "debian12", pillar_id)
    (start,) = [line for line in text.splitlines() if line.startswith("ExecStart=/")]
    assert start.endswith(f" --interval={interval}")
