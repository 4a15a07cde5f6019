"""A real PostgreSQL minor update (issue 23, scenario minor-update, Debian 12 only): deployed
pinned to 15.18 (postgresql:version_minor: '18'), then pgha.update to 15.20 with the pin moved
in pillar. Every member ends on 15.20; a writer commits through the VIP throughout and loses
no acknowledged commit; the write unavailability is printed. Then the pin back at 15.18 (older
than what is installed): the highstate refuses at its first state and changes nothing.
`make test-lab SCENARIO=minor-update`."""
import os

import pytest

from pghalab.cluster import pillar_changed, query, run_orch

from .helpers import assert_orch_ok, assert_pin_refused
from .test_day2 import _assert_no_write_lost, _with_writer

SCENARIO = "minor-update"
pytestmark = pytest.mark.skipif(os.environ.get("PGHA_LAB_SUITE", "bookworm") != "bookworm",
                                reason="the lab repository has two PostgreSQL minors on Debian 12 only")


def _versions(lab):
    return {n.name: query(lab, n.address, "SHOW server_version")[0][0].split()[0] for n in lab.nodes()}


def _packages(lab):
    return {n.name: n.exec(["dpkg-query", "-W", "-f=${Version}", "postgresql-15"], capture=True).stdout
            for n in lab.nodes()}


def test_deploy_pinned_to_15_18(lab, deployed):
    result = deployed["result"]
    assert result["rc"] == 0, result["stdout"][-4000:] + result["stderr"][-2000:]
    assert set(_versions(lab).values()) == {"15.18"}, _versions(lab)
    assert set(_packages(lab).values()) == {"15.18-0+deb12u1"}, _packages(lab)
    pins = lab.node("pg1").exec(["cat", "/etc/apt/preferences.d/pgha-pins"], capture=True).stdout
    assert "Pin: version 15.18-*" in pins


def test_update_to_15_20_loses_no_commit(lab, deployed):
    def to_15_20(pillar):
        pillar["pgha"]["postgresql"]["version_minor"] = "20"

    with pillar_changed(lab, to_15_20):
        result, writer = _with_writer(lab, lambda: run_orch(lab, "pgha.update"), "minor_update")
        assert_orch_ok(result)
        assert set(_versions(lab).values()) == {"15.20"}, _versions(lab)
        assert set(_packages(lab).values()) == {"15.20-0+deb12u1"}, _packages(lab)
        _assert_no_write_lost(lab, writer)
        print(f"\nFIGURE minor_update_15.18_to_15.20 lost_commits=0 acked={len(writer.acked)}")


def test_the_old_pin_back_stops_the_highstate_before_any_change(lab, deployed):
    """The pillar pins 15.18 again (pillar_changed restored it) while every node has 15.20: a
    highstate, with test=True and for real, fails at its first state naming the key, and
    changes nothing (no package, no restart, apt's pin file still names 15.20)."""
    if set(_packages(lab).values()) != {"15.20-0+deb12u1"}:
        pytest.skip(f"needs the update to 15.20 first: {_packages(lab)}")
    pg1 = lab.node("pg1")
    pins = pg1.exec(["cat", "/etc/apt/preferences.d/pgha-pins"], capture=True).stdout
    assert_pin_refused(lab, "pg1", "pgha:postgresql:version_minor: 15.18 is older than the installed "
                                   "15.20-0+deb12u1 of postgresql-15 on pg1; pgha does not downgrade")
    assert set(_packages(lab).values()) == {"15.20-0+deb12u1"}, _packages(lab)
    assert pg1.exec(["cat", "/etc/apt/preferences.d/pgha-pins"], capture=True).stdout == pins
