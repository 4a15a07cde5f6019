"""The fault library's etcd leader lookup (etcd3 client, etcd's v3 API), against fake members."""
from types import SimpleNamespace
from unittest.mock import patch

import etcd3

from pghalab.health import Topology, etcd_leader

TOPO = Topology(db={"pg1": "10.213.0.11", "pg2": "10.213.0.12", "pg3": "10.213.0.13"}, balancers={},
                vip="10.213.0.100", port=5432)


def _member(address):
    return SimpleNamespace(client_urls=[f"http://{address}:2379"], peer_urls=[f"http://{address}:2380"])


class _Client:
    def __init__(self, answers, host, **_):
        self.answer, self.closed = answers.get(host), False

    def status(self):
        if isinstance(self.answer, Exception):
            raise self.answer
        return SimpleNamespace(leader=self.answer)

    def close(self):
        self.closed = True


def _leader(answers):
    with patch.object(etcd3, "client", lambda host, **kw: _Client(answers, host, **kw)):
        return etcd_leader(TOPO)


def test_the_first_member_that_answers_names_the_leader():
    down = etcd3.exceptions.ConnectionFailedError()
    assert _leader({"10.213.0.11": down, "10.213.0.12": _member("10.213.0.13")}) == "pg3"


def test_no_member_answers():
    down = etcd3.exceptions.ConnectionFailedError()
    assert _leader({a: down for a in TOPO.db.values()}) is None


def test_a_leader_outside_the_database_nodes_is_none():
    assert _leader({"10.213.0.11": _member("10.213.0.21")}) is None
