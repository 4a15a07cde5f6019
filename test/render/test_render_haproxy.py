"""
Type A balancers: HAProxy (static file and confd template), keepalived, the balancer gate;
the highstate of Type A and Type B nodes.
"""
import importlib.util

import pytest
import salt.state
import salt.utils.args

from .render_helpers import (REPO, NODE_ADDRESS, VIP, LB_ADDRESS, PILLARS, TYPE_A_PILLARS, TYPE_A_PG,
                             TYPE_A_LB, ONLY_ON, HIGHSTATE_COMBOS, _states, _state, _render_file,
                             _haproxy_listeners)


# Type B without PgBouncer (pgbouncer:enabled true in Type B: test_render_pgbouncer)
TYPE_B_PILLARS = [p for p in PILLARS if p not in TYPE_A_PILLARS
                  and PILLARS[p]["pgha"].get("pgbouncer", {}).get("enabled") is not True]
TYPE_A_SLS_PREFIXES = ("pgha.haproxy", "pgha.keepalived", "pgha.pgbouncer", "pgha.confd",
                       "pgha.balancer")


def _server_lines(lines):
    return [line for line in lines if line.startswith("server ")]


@pytest.mark.parametrize("grains_id", ONLY_ON["typea"])
def test_haproxy_config_file_state(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typea")
    module, function, args = _state(states, "pgha-haproxy-config-file-managed")
    assert (module, function) == ("file", "managed")
    # holds the stats password: root and haproxy only, never diffed
    assert args["name"] == "/etc/haproxy/haproxy.cfg"
    assert (args["user"], args["group"], args["mode"]) == ("root", "haproxy", "0640")
    assert args["show_changes"] is False
    assert args["replace"] is True                      # no confd: Salt owns the file
    assert args["check_cmd"] == "/usr/sbin/haproxy -c -q -f"
    # the template reads the map itself: no stats password among the state's arguments
    assert args["context"] == {"tplroot": "pgha", "confd": False}
    if grains_id == "debian12":
        listeners = _haproxy_listeners(_render_file(states, "pgha-haproxy-config-file-managed", grains_id, "typea"))
        assert "stats auth admin:stats-secret" in listeners["stats"]
        for name, port in (("master", 6432), ("replicas_sync", 6432), ("master_direct", 5432)):
            assert _server_lines(listeners[name]) == [      # database nodes of this cluster only
                f"server {node} {address}:{port} check port 8008" for node, address in sorted(TYPE_A_PG.items())]
    # a config change reloads HAProxy (seamless), a new file limit restarts it
    module, function, args = _state(states, "pgha-haproxy-service-running")
    assert (module, function, args["name"]) == ("service", "running", "haproxy")
    assert args["reload"] is True and args["enable"] is True
    assert args["watch"] == [{"file": "pgha-haproxy-config-file-managed"}]
    assert "LimitNOFILE=65536" in _state(states, "pgha-haproxy-unit-dropin-managed")[2]["contents"]


def test_haproxy_config_file_type_a(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea_lb")
    text = _render_file(states, "pgha-haproxy-config-file-managed", "debian12", "typea_lb")
    assert text.startswith("# Managed by Salt (pgha).")
    assert "maxconn 10000" in text and "mode tcp" in text
    listeners = _haproxy_listeners(text)
    assert sorted(listeners) == ["master", "master_direct", "replicas", "replicas_async",
                                 "replicas_sync", "stats"]
    stats = listeners["stats"]
    assert "bind *:7000" in stats and "mode http" in stats
    assert "stats auth admin:stats-secret" in stats
    assert not _server_lines(stats)
    expected = {   # listener: (port, Patroni health check, the servers' port)
        "master": (5000, "/primary", 6432),
        "replicas": (5001, "/replica?lag=104857600", 6432),
        "replicas_sync": (5002, "/sync", 6432),
        "replicas_async": (5003, "/async?lag=104857600", 6432),
        "master_direct": (6000, "/primary", 5432),       # past PgBouncer, straight to PostgreSQL
    }
    for name, (port, check, server_port) in expected.items():
        lines = listeners[name]
        assert f"bind *:{port}" in lines, name
        assert f"option httpchk OPTIONS {check}" in lines, name
        assert "http-check expect status 200" in lines, name
        (default_server,) = [line for line in lines if line.startswith("default-server ")]
        assert default_server.endswith("on-marked-down shutdown-sessions"), name
        assert "inter 2s fastinter 1s downinter 2s rise 2 fall 2" in default_server
        # one server per database node of this cluster, health-checked on Patroni's REST port
        assert _server_lines(lines) == [
            f"server {node} {address}:{server_port} check port 8008"
            for node, address in sorted(TYPE_A_PG.items())], name
        assert ("balance roundrobin" in lines) is name.startswith("replicas"), name


@pytest.mark.parametrize("grains_id,pillar_id", [("debian12", "typeb_vip"), ("rhel9", "pip")])
def test_haproxy_config_file_without_synchronous_mode(rendered, grains_id, pillar_id):
    """No synchronous_mode (the default), no direct ports: no 5002/5003, no *_direct; without
    PgBouncer the servers are PostgreSQL itself."""
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    listeners = _haproxy_listeners(_render_file(states, "pgha-haproxy-config-file-managed",
                                                grains_id, pillar_id))
    assert sorted(listeners) == ["master", "replicas", "stats"]
    text = "\n".join(line for lines in listeners.values() for line in lines)
    assert "5002" not in text and "5003" not in text and "/sync" not in text
    assert _server_lines(listeners["master"]) == [f"server pg1 {NODE_ADDRESS}:5432 check port 8008"]


def test_confd_template_has_the_same_listeners(rendered):
    """The confd variant (servers from the DCS) renders the same listeners as the static file."""
    states = _states(rendered, "show_sls", "debian12", "typea_lb")
    text = _render_file(states, "pgha-confd-template-file-managed", "debian12", "typea_lb")
    static = _render_file(states, "pgha-haproxy-config-file-managed", "debian12", "typea_lb")
    listeners = _haproxy_listeners(text)
    assert sorted(listeners) == sorted(_haproxy_listeners(static))
    assert '{{range gets "/members/*"}}' in text
    assert "server {{base .Key}} {{$host}}:6432 check port 8008" in text
    assert "server {{base .Key}} {{$host}}:5432 check port 8008" in text      # master_direct
    _, _, args = _state(states, "pgha-confd-template-file-managed")
    assert (args["mode"], args["show_changes"]) == ("0640", False)


def test_keepalived_on_a_balancer(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea_lb")
    module, function, args = _state(states, "pgha-keepalived-config-file-managed")
    assert (module, function, args["name"]) == ("file", "managed", "/etc/keepalived/keepalived.conf")
    assert args["mode"] == "0640"
    context = args["context"]
    assert context["peers"] == TYPE_A_LB                  # balancers of this cluster only
    assert (context["me"], context["vip"], context["priority"]) == (LB_ADDRESS, VIP, 150)
    interface = context["interface"]
    assert interface and interface != "None"
    text = _render_file(states, "pgha-keepalived-config-file-managed", "debian12", "typea_lb")
    assert "router_id lb1" in text
    assert "state BACKUP" in text and "priority 150" in text
    assert "virtual_router_id 123" in text and "advert_int 1" in text
    assert f"unicast_src_ip {LB_ADDRESS}" in text
    # the other balancer is the only unicast peer; this one is not its own peer
    block = text.split("unicast_peer {", 1)[1].split("}", 1)[0]
    assert block.split() == ["10.0.0.32"]
    vips = text.split("virtual_ipaddress {", 1)[1].split("}", 1)[0]
    assert vips.split() == [VIP, "dev", interface]
    assert 'script "/usr/bin/killall -0 haproxy"' in text and "chk_haproxy" in text
    # killall comes from psmisc
    assert _state(states, "pgha-keepalived-pkgs-installed")[2]["pkgs"] == ["keepalived", "psmisc"]
    module, function, args = _state(states, "pgha-keepalived-service-running")
    assert (module, function, args["name"], args["reload"]) == (
        "service", "running", "keepalived", True)
    assert args["watch"] == [{"sls": "pgha.keepalived.config"}]


def test_balancer_gate(rendered):
    states = _states(rendered, "show_sls", "debian12", "typea_lb")
    module, function, args = _state(states, "pgha-gate-haproxy-ready")
    assert (module, function) == ("pgha_haproxy", "ready")
    # no password: pgha_haproxy.servers reads it from pillar on the minion
    assert args == {"vip": VIP, "master_port": 5000, "port": 7000, "user": "admin", "timeout": 60}
    # what Salt passes the state function (format_call, as State.call does) reaches
    # pgha_haproxy.servers as its own keyword arguments
    spec = importlib.util.spec_from_file_location("pgha_haproxy_state_for_render",
                                                  REPO / "_states" / "pgha_haproxy.py")
    state_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(state_module)
    spec = importlib.util.spec_from_file_location("pgha_haproxy_module_for_render",
                                                  REPO / "_modules" / "pgha_haproxy.py")
    exec_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exec_module)
    low = {"state": "pgha_haproxy", "fun": "ready", "name": "pgha-gate-haproxy-ready",
           "__id__": "pgha-gate-haproxy-ready", "__sls__": "pgha.haproxy.gate",
           "__env__": "base", "order": 10000, **args}
    call = salt.utils.args.format_call(state_module.ready, low,
                                       expected_extra_kws=salt.state.STATE_INTERNAL_KEYWORDS)
    stats = {k: v for k, v in call["kwargs"].items()
             if k not in ("name", "vip", "master_port", "timeout")}
    assert stats == {"port": 7000, "user": "admin"}
    assert set(stats) <= set(salt.utils.args.get_function_argspec(exec_module.servers).args)


def test_highstate_of_a_balancer(rendered):
    states = _states(rendered, "highstate", "debian12", "typea_lb")
    sls = {body["__sls__"] for body in states.values()}
    system = {s for s in sls if s.startswith("pgha.system.")}
    assert sls - system == {"pgha.repo", "pgha.haproxy.install", "pgha.haproxy.limits",
                            "pgha.haproxy.config", "pgha.haproxy.service", "pgha.keepalived.install", "pgha.keepalived.config",
                            "pgha.keepalived.service"}
    assert {"pgha.system.sysctl", "pgha.system.thp", "pgha.system.time", "pgha.system.hosts"} <= system
    assert not [s for s in states if "patroni" in s or "postgresql" in s or "pgbouncer" in s]


def test_highstate_of_a_type_a_database_node(rendered):
    states = _states(rendered, "highstate", "debian12", "typea")
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.pgbouncer.install", "pgha.pgbouncer.config", "pgha.pgbouncer.service",
            "pgha.patroni.service", "pgha.etcd.service"} <= sls
    # no balancer here, and keepalived (not vip-manager) holds the VIP
    assert not {s for s in sls if s.startswith(("pgha.haproxy", "pgha.keepalived", "pgha.confd",
                                                "pgha.vip_manager", "pgha.gate."))
                or s.endswith(".gate")}


@pytest.mark.parametrize("pillar_id", [p for p in TYPE_B_PILLARS if ("debian12", p) in HIGHSTATE_COMBOS])
def test_type_b_highstate_has_no_type_a_states(rendered, pillar_id):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    sls = {body["__sls__"] for body in states.values()}
    assert not {s for s in sls if s.startswith(TYPE_A_SLS_PREFIXES)}
    assert not [s for s in states if s.startswith(("pgha-pgbouncer-", "pgha-haproxy-",
                                                   "pgha-keepalived-"))]


@pytest.mark.parametrize("grains_id", ONLY_ON["typea"])
def test_haproxy_fd_limits_guard_precedes_config_and_service(rendered, grains_id):
    """The open-files check (pgha.haproxy.limits) runs after the package, before anything of
    HAProxy's changes, and stops the run: HAProxy 3.0 would otherwise refuse to start and the
    deploy would only see an unreachable stats page 60 s later."""
    states = _states(rendered, "show_sls", grains_id, "typea")
    module, function, args = _state(states, "pgha-haproxy-fd-limits-checked")
    assert (module, function) == ("pgha_haproxy", "fd_limits")
    assert states["pgha-haproxy-fd-limits-checked"]["__sls__"] == "pgha.haproxy.limits"
    assert args["maxconn"] == 10000 and args["failhard"] is True
    assert {"sls": "pgha.haproxy.install"} in args["require"]
    for state_id in ("pgha-haproxy-config-file-managed", "pgha-haproxy-unit-dropin-managed"):
        assert {"sls": "pgha.haproxy.limits"} in _state(states, state_id)[2]["require"], state_id
    # the service and its restart come after the config SLS, so after the check too
    assert {"sls": "pgha.haproxy.config"} in _state(states, "pgha-haproxy-service-running")[2]["require"]
    assert states["pgha-haproxy-config-file-managed"]["__sls__"] == "pgha.haproxy.config"
