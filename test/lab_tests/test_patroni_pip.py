"""Patroni installed with pip (patroni:install_method: pip) into a virtualenv, from the offline
wheelhouse, on two nodes; etcd runs on one of them only."""
from pghalab.cluster import query

from .helpers import steps

SCENARIO = "pip"


def test_deploy_with_pip_installed_patroni(lab, deployed):
    result = deployed["result"]
    assert result["rc"] == 0, result["stdout"][-4000:] + result["stderr"][-2000:]
    assert all(step.get("result") is True for step in steps(result).values())
    for node in lab.nodes():
        version = node.exec(["/opt/patroni/bin/patroni", "--version"], capture=True).stdout
        assert "4.1.5" in version, (node.name, version)
        unit = node.exec(["systemctl", "show", "-p", "ExecStart", "patroni"], capture=True).stdout
        assert "/opt/patroni/bin/patroni" in unit
        dpkg = node.exec(["dpkg-query", "-W", "-f=${Status}", "patroni"], check=False, capture=True)
        assert "install ok installed" not in dpkg.stdout
    roles = sorted(query(lab, n.address, "SELECT pg_is_in_recovery()")[0][0] for n in lab.nodes())
    assert roles == [False, True]
    etcd = {n.name: n.exec(["systemctl", "is-active", "etcd"], check=False, capture=True).stdout.strip()
            for n in lab.nodes()}
    assert etcd["pg1"] == "active" and etcd["pg2"] != "active", etcd
