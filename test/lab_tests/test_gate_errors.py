"""A gate that gives up on Patroni says why, in Patroni's own words (issue 17).

On the running Type B cluster, Patroni on one replica is made to fail at start: its REST API
port is taken, so Patroni logs "Couldn't start a service on ..." and exits with "OSError:
[Errno 98] Address already in use", without starting PostgreSQL. The gate
(pgha.patroni.gate, applied from the lab master with a short timeout) must fail with those
lines from the journal in its comment. Then the port is freed, Patroni starts, and the
replica streams again: the cluster is left as it was (this module runs last in the typeb
scenario, conftest.MODULE_ORDER).
"""
import json

from pghalab.cluster import leader_name, patroni_roles, query, salt_json, wait_for

SCENARIO = "typeb"
BLOCKER = "pgha-lab-restapi-blocker"    # a transient unit on the replica, removed when it stops
GATE_TIMEOUT = 20
# Listens on Patroni's REST API port and closes every connection: Patroni cannot bind it,
# and the gate's requests fail at once instead of hanging. SO_REUSEADDR: the stopped Patroni
# may leave connections in TIME_WAIT on the port (seen with Debian 13), which refuse a
# plain bind; two listeners still cannot share the port, so Patroni's bind fails as before.
BLOCK = ("import socket, sys\n"
         "s = socket.socket()\n"
         "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
         "s.bind(('0.0.0.0', int(sys.argv[1])))\n"
         "s.listen(16)\n"
         "while True:\n"
         "    s.accept()[0].close()\n")


def _restapi_port(lab):
    return lab.pillar()["pgha"].get("patroni", {}).get("restapi", {}).get("port", 8008)


def _gate_state(ret, minion):
    states = ret[minion]
    assert isinstance(states, dict), states     # a list: the SLS did not render
    [state] = [s for key, s in states.items() if "pgha-gate-patroni-healthy" in key]
    return state


def _streams(lab, node):
    return query(lab, node.address, "SELECT status FROM pg_stat_wal_receiver") == [("streaming",)]


def test_gate_quotes_patronis_error_when_it_gives_up(lab, deployed):
    before = patroni_roles(lab)
    leader = leader_name(lab)
    replica = lab.node(sorted(n for n in before if n != leader)[-1])
    port = _restapi_port(lab)
    try:
        replica.exec(["systemctl", "stop", "patroni"])          # stops its PostgreSQL too
        replica.exec(["systemd-run", "--unit", BLOCKER, "--property", "RuntimeMaxSec=600",
                      "/usr/bin/python3", "-c", BLOCK, str(port)])
        wait_for(lambda: f":{port} " in replica.exec(["ss", "-Hltn"], capture=True).stdout,
                 what=f"the blocker on port {port}")
        # Patroni fails at once (and systemd retries it until its start limit)
        replica.exec(["systemctl", "start", "patroni"], check=False)
        ret = salt_json(lab, replica.name, "state.apply", "pgha.patroni.gate",
                        "pillar=" + json.dumps({"pgha_gate": {"role": "replica", "timeout": GATE_TIMEOUT}}),
                        timeout=GATE_TIMEOUT + 120)
        state = _gate_state(ret, replica.name)
        assert state["result"] is False, state
        comment = state["comment"]
        assert f"not healthy as replica after {GATE_TIMEOUT}s" in comment, comment
        # Patroni's own lines, from its journal: the error it logged and the exception it died of
        assert "patroni's last errors:" in comment, comment
        assert "Couldn't start a service on" in comment, comment
        assert "Address already in use" in comment, comment
    finally:
        replica.exec(["systemctl", "stop", BLOCKER], check=False)
        replica.exec(["systemctl", "reset-failed", "patroni"], check=False)
        replica.exec(["systemctl", "start", "patroni"], check=False)
    back = salt_json(lab, replica.name, "pgha_patroni.wait_healthy", "role=replica", "timeout=180", timeout=240)
    assert str(back[replica.name]).startswith("replica streaming"), back
    wait_for(lambda: _streams(lab, replica), timeout=120, what=f"{replica.name} streaming again")
    assert leader_name(lab) == leader
    assert patroni_roles(lab) == before
    assert "inactive" in replica.exec(["systemctl", "is-active", BLOCKER], check=False, capture=True).stdout
