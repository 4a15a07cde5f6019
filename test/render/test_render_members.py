"""
A cluster's members come from the mine by exact cluster name (pgha_settings, pgha_member):
the minions of clusters named like ``main`` but for case (``Main``, ``MAIN``: Salt's ``I@``
targeting ignores case, so it would mix them) or of another cluster never reach a rendered
state, template context or file, while the cluster's own members do.
"""
import json

import pytest

from .render_helpers import COMBOS, FAKE_MINES, NODE_ADDRESS, TLS_COMBOS, TWIN_PREFIX, _states

# monitoring and monitor: a shared monitor of another cluster is in a node's firewall, and a
# monitor scrapes the clusters it names (test_render_monitoring checks exactly which)
CROSS_CLUSTER = {"monitoring", "monitor"}
# h10-drrepo: a standby cluster's node pins its main's repository host, which trusts the standby's
# nodes (test_render_standby checks exactly which, and that no case twin's host appears)
CROSS_CLUSTER |= {"standby_repo", "standby_repo_main"}
MINE_COMBOS = [combo for combo in dict.fromkeys(COMBOS + TLS_COMBOS)
               if combo[1] in FAKE_MINES and combo[1] not in CROSS_CLUSTER]


def test_the_mines_hold_case_twins():
    """Not vacuous: every fake mine has minions of a cluster named like main but for case."""
    for mine in FAKE_MINES.values():
        assert {cluster for _, cluster, *_ in mine.values() if cluster != "main" and cluster.lower() == "main"}


@pytest.mark.parametrize("grains_id,pillar_id", MINE_COMBOS, ids=[f"{g}-{p}" for g, p in MINE_COMBOS])
def test_only_the_clusters_own_members_are_rendered(rendered, grains_id, pillar_id):
    text = json.dumps(_states(rendered, "show_sls", grains_id, pillar_id))
    own = {address for address, cluster, *_ in FAKE_MINES[pillar_id].values() if cluster == "main"}
    strangers = {address for address, cluster, *_ in FAKE_MINES[pillar_id].values() if cluster != "main"}
    assert [address for address in strangers if address in text] == []
    assert TWIN_PREFIX not in text
    assert own - {NODE_ADDRESS} and all(address in text for address in own - {NODE_ADDRESS})
