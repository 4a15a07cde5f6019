"""
etcd: the members from the mine, an existing etcd.
"""
import pytest

from .render_helpers import NODE_ADDRESS, EXISTING_ETCD, GRAINS, ALL_GRAINS, _states, _state, PG


@pytest.mark.parametrize("grains_id", GRAINS)
def test_etcd_members_from_the_mine(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    assert _state(states, "pgha-etcd-pkgs-installed")[2]["pkgs"] == (
        ["etcd-server", "etcd-client"] if ALL_GRAINS[grains_id]["os_family"] == "Debian" else ["etcd"])
    module, _, args = _state(states, "pgha-etcd-config-file-managed")
    assert args["name"] == PG[grains_id][5]
    assert args["context"]["me"] == NODE_ADDRESS
    # a new cluster: every etcd minion of the mine; no member add (that is pgha.add_node's join)
    assert args["context"]["initial_cluster"] == f"pg1=http://{NODE_ADDRESS}:2380"
    assert args["context"]["initial_state"] == "new"
    assert "pgha-etcd-member-added" not in states
    assert args["context"]["etcd"]["cluster_token"] == "etcd-main"
    # Debian's vip-manager 1.x reads v2; PGDG's (RedHat) is 2 or newer: v3
    assert args["context"]["etcd"]["enable_v2"] is (ALL_GRAINS[grains_id]["os_family"] == "Debian")
    assert _state(states, "pgha-etcd-data-dir-managed")[2]["mode"] == "0700"
    assert _state(states, "pgha-gate-etcd-healthy") == (
        "pgha_etcd", "healthy", {"endpoints": [f"http://{NODE_ADDRESS}:2379"], "timeout": 90})


@pytest.mark.parametrize("grains_id", GRAINS)
def test_existing_etcd(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "dcs_exists")
    assert _state(states, "pgha-gate-etcd-healthy")[2]["endpoints"] == EXISTING_ETCD
    context = _state(states, "pgha-vip-manager-unit-dropin-managed")[2]["context"]
    assert context["endpoints"] == EXISTING_ETCD
    assert context["interface"] == "eth1"
    assert context["vm"]["major_version"] == 2
    # no etcd role: this node is no etcd member
    assert _state(states, "pgha-etcd-config-file-managed")[2]["context"]["initial_cluster"] == ""


@pytest.mark.parametrize("grains_id", GRAINS)
def test_etcd_leader_apart_follows_the_dcs_api(rendered, grains_id):
    """pgha:etcd:leader_apart auto: a Salt schedule on a node with Patroni and an etcd member
    where Patroni speaks etcd's v3 API (a new etcd leader extends every lease); with the v2
    API (Debian's vip-manager 1.x) the schedule is removed."""
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    if ALL_GRAINS[grains_id]["os_family"] == "Debian":
        assert _state(states, "pgha-etcd-leader-apart-absent") == ("schedule", "absent",
                                                                    {"name": "pgha-etcd-leader-apart"})
        assert "pgha-etcd-leader-apart-scheduled" not in states
        return
    module, function, args = _state(states, "pgha-etcd-leader-apart-scheduled")
    assert (module, function) == ("schedule", "present")
    assert args["name"] == "pgha-etcd-leader-apart" and args["function"] == "pgha_etcd.leader_apart"
    assert args["job_kwargs"] == {"endpoint": f"http://{NODE_ADDRESS}:2379"}
    assert (args["seconds"], args["maxrunning"], args["return_job"]) == (10, 1, False)
