"""Patroni's version gates and the pieces of its configuration pgha builds (issue 23):
_utils/pgha_patroni_features.py and the rules of _utils/pgha_rules_patroni.py."""
import copy

import pytest

import pgha_patroni_features as features
import pgha_validate
from pgha_unit_helpers import MINIMAL_VALID
from test_bad_pillars import DEFAULTS, _with


@pytest.mark.parametrize("text,version", [("3.0.2", (3, 0, 2)), ("3.0.2-1", (3, 0, 2)), ("patroni 4.0.7", (4, 0, 7)),
                                          ("1:3.2-1+b1", (3, 2, 0)), ("", None), ("latest", None)])
def test_parse_version(text, version):
    assert features.parse_version(text) == version


def _cfg(**patroni):
    return {"patroni": {"install_method": "pkg", "pip_version": "4.1.5", "version": "", "packaged_version": "",
                        **patroni}}


def test_the_version_comes_from_pip_the_pin_or_the_distribution():
    assert features.patroni_version(_cfg(install_method="pip")) == ("4.1.5", (4, 1, 5))
    assert features.patroni_version(_cfg(packaged_version="3.0.2")) == ("3.0.2", (3, 0, 2))
    assert features.patroni_version(_cfg(packaged_version="3.0.2", version="4.0.7")) == ("4.0.7", (4, 0, 7))
    assert features.patroni_version(_cfg()) == (None, None)


def test_physical_slots_need_patroni_3_2():
    problem = features.feature_problem(_cfg(packaged_version="3.0.2"), "physical_slots")
    assert "Patroni 3.2.0 or newer" in problem and "runs Patroni 3.0.2" in problem
    assert features.feature_problem(_cfg(packaged_version="4.0.7"), "physical_slots") is None
    assert features.feature_problem(_cfg(install_method="pip"), "logical_slots") is None
    assert "3.3.2" in features.feature_problem(_cfg(version="3.2.2"), "logical_slots")
    assert features.feature_problem(_cfg(), "physical_slots") is None       # unknown: not refused here


def test_debian_12_refuses_a_slot_naming_the_version_and_debian_13_takes_it():
    pillar = _with(MINIMAL_VALID, {"patroni": {"slots": [{"slot": "standby_dc2"}]}})
    debian12 = _with(DEFAULTS, {"patroni": {"packaged_version": "3.0.2"}})
    [problem] = pgha_validate.check(copy.deepcopy(pillar), debian12)
    assert problem.startswith("pgha:patroni:slots:0:type: a permanent physical slot needs Patroni 3.2.0")
    assert "runs Patroni 3.0.2" in problem
    debian13 = _with(DEFAULTS, {"patroni": {"packaged_version": "4.0.7"}})
    assert pgha_validate.check(copy.deepcopy(pillar), debian13) == []
    pip = _with(pillar, {"patroni": {"install_method": "pip"}})
    assert pgha_validate.check(pip, debian12) == []


def test_logical_slots_need_the_restart_allowed():
    slot = {"slot": "cdc", "type": "logical", "database": "app", "plugin": "pgoutput"}
    pillar = _with(MINIMAL_VALID, {"patroni": {"slots": [slot]}})
    [problem] = pgha_validate.check(copy.deepcopy(pillar), DEFAULTS)
    assert "logical_slots_restart_replicas" in problem
    allowed = _with(pillar, {"patroni": {"logical_slots_restart_replicas": True}})
    assert pgha_validate.check(allowed, DEFAULTS) == []


def test_slots_and_callbacks_as_patroni_takes_them():
    assert features.slots([{"slot": "a"}, {"slot": "b", "type": "logical", "database": "d", "plugin": "p"}]) == {
        "a": {"type": "physical"}, "b": {"type": "logical", "database": "d", "plugin": "p"}}
    assert features.callbacks([{"action": "on_role_change", "contents": "x"}], "/etc/patroni/callbacks") == {
        "on_role_change": "/etc/patroni/callbacks/on_role_change"}


def test_log_section():
    log = {"destination": "journal", "dir": "/var/log/patroni", "level": "info", "traceback_level": "error",
           "format": "%(message)s", "dateformat": "", "max_queue_size": 1000, "file_num": 4,
           "file_size": 25000000, "loggers": {}}
    assert features.log_section(log) == {"level": "INFO", "traceback_level": "ERROR", "format": "%(message)s",
                                         "max_queue_size": 1000}
    assert features.log_section(dict(log, destination="logfile"))["dir"] == "/var/log/patroni"


@pytest.mark.parametrize("namespace,prefix", [("/service/", "/service/main"), ("/service", "/service/main"),
                                              ("/a/b/", "/a/b/main"), ("/", "/main")])
def test_dcs_prefix(namespace, prefix):
    assert features.dcs_prefix(namespace, "main") == prefix


def test_pins():
    assert features.postgresql_pin("15", "18") == "15.18"
    assert features.postgresql_pin("15", "latest") == features.postgresql_pin("15", "") == ""
    assert features.pkg_version("15.18") == "15.18-*"
    assert features.pkg_version("15.18-0+deb12u1") == "15.18-0+deb12u1"
    assert features.pkg_version("") == ""
    pkgs = {"postgresql": ["postgresql-15", "postgresql-client-15"], "patroni": ["patroni", "python3-etcd"],
            "etcd": ["etcd-server", "etcd-client"]}
    pins = {"postgresql": "15.20-*", "patroni": "", "etcd": ""}
    assert features.pinned_pkgs(pkgs, pins) == {
        "postgresql": [{"postgresql-15": "15.20-*"}, {"postgresql-client-15": "15.20-*"}],
        "patroni": ["patroni", "python3-etcd"], "etcd": ["etcd-server", "etcd-client"]}
    text = features.apt_preferences(pkgs, pins)
    assert "Package: postgresql-15 postgresql-client-15\nPin: version 15.20-*\nPin-Priority: 1001\n" in text
    assert "patroni" not in text.split("\n\n", 1)[1]
    assert features.apt_preferences(pkgs, {"postgresql": "", "patroni": "", "etcd": ""}) == ""


def test_the_installed_patroni_decides_when_nothing_pins_it():
    """A distribution's Patroni newer than parameters/osfinger says (a backport): the gate
    trusts `patroni --version` on the minion (pgha.validate's context)."""
    pillar = _with(MINIMAL_VALID, {"patroni": {"slots": [{"slot": "standby_dc2"}]}})
    debian12 = _with(DEFAULTS, {"patroni": {"packaged_version": "3.0.2"}})
    assert pgha_validate.check(copy.deepcopy(pillar), debian12, {"patroni_version": "patroni 3.3.2"}) == []
    [problem] = pgha_validate.check(copy.deepcopy(pillar), DEFAULTS, {"patroni_version": "patroni 3.0.2"})
    assert "runs Patroni 3.0.2" in problem
