"""Patroni's watchdog (pgha:patroni:watchdog): the decision (_utils/pgha_watchdog.py),
the execution function that gathers its facts (pgha_system.watchdog), the state that readies the
device (pgha_system.watchdog_ready), the validator's rule and the cluster check's warning."""
import copy
import os
import stat
from unittest.mock import MagicMock

import pgha_cluster
import pgha_system
import pgha_system_state
import pgha_validate
import pgha_watchdog
import pytest
import yaml

from pgha_unit_helpers import MINIMAL_VALID

from conftest import DEFAULTS_YAML

DEFAULTS = yaml.safe_load(DEFAULTS_YAML.read_text())
UTILS = {f"pgha_watchdog.{name}": getattr(pgha_watchdog, name) for name in ("decide", "summary")}


# -- the decision --------------------------------------------------------------------------------

@pytest.mark.parametrize("wanted,container,present,loaded,mode,load,error", [
    # a real host with a device: the wanted mode, nothing loaded
    ("automatic", "", True, False, "automatic", False, False),
    ("required", "", True, True, "required", False, False),
    # a real host without a device: softdog is loaded, the mode stays
    ("automatic", "", False, False, "automatic", True, False),
    ("required", "", False, False, "required", True, False),
    # ... and when the device is still missing with softdog loaded: off, or an error
    ("automatic", "", False, True, "off", False, False),
    ("required", "", False, True, "off", False, True),
    # a container: never a module, off; required cannot be met
    ("automatic", "systemd-nspawn", False, False, "off", False, False),
    ("automatic", "docker", True, True, "off", False, False),
    ("required", "systemd-nspawn", True, False, "off", False, True),
    # off is off everywhere, silently
    ("off", "", False, False, "off", False, False),
    ("off", "systemd-nspawn", False, False, "off", False, False),
])
def test_decide(wanted, container, present, loaded, mode, load, error):
    plan = pgha_watchdog.decide(wanted, container, present, loaded)
    assert (plan["mode"], plan["load_softdog"], bool(plan["error"])) == (mode, load, error)
    assert plan["wanted"] == wanted
    # whenever the mode is not the wanted one, a reason says why
    assert bool(plan["reason"]) == (mode != wanted) or load


def test_decide_in_a_container_names_it_and_never_loads_softdog():
    plan = pgha_watchdog.decide("automatic", "systemd-nspawn", False)
    assert not plan["load_softdog"]
    assert "inside a container (systemd-nspawn)" in plan["reason"]


def test_decide_unknown_mode_is_an_error():
    plan = pgha_watchdog.decide("on", "", True)
    assert plan["mode"] == "off" and "automatic, required, off" in plan["error"]


@pytest.mark.parametrize("ttl,loop_wait,margin,off", [
    (30, 10, 5, False), (20, 2, 5, False), (60, 10, 5, False),
    (20, 15, 5, False),        # exactly 0: Patroni keeps it
    (20, 16, 5, True), (20, 10, 11, True),
])
def test_disabled_by_timing(ttl, loop_wait, margin, off):
    assert pgha_watchdog.disabled_by_timing(ttl, loop_wait, margin) is off


def test_every_preset_keeps_the_watchdog_and_no_reset_during_dcs_retries():
    assert DEFAULTS["patroni"]["watchdog"]["safety_margin"] is None      # from the preset
    for name, preset in DEFAULTS["rto_profiles"].items():
        p = preset["patroni"]
        margin = p["watchdog"]["safety_margin"]
        assert not pgha_watchdog.disabled_by_timing(p["ttl"], p["loop_wait"], margin), name
        assert not pgha_watchdog.resets_during_dcs_retry(p["ttl"], p["loop_wait"], p["retry_timeout"], margin), name


@pytest.mark.parametrize("ttl,loop_wait,retry_timeout,margin,resets", [
    (25, 10, 7, 5, False), (20, 14, 3, 2, False), (60, 10, 25, 5, False),
    (20, 10, 5, 5, False),     # exactly ttl - safety_margin: the retries end as the watchdog would fire
    (20, 14, 3, 5, True),      # a renewal 1 s late resets the host
    (30, 10, 10, 15, True),
])
def test_resets_during_dcs_retry(ttl, loop_wait, retry_timeout, margin, resets):
    assert pgha_watchdog.resets_during_dcs_retry(ttl, loop_wait, retry_timeout, margin) is resets


def test_summary_line():
    assert pgha_watchdog.summary(pgha_watchdog.decide("automatic", "", True), "pg1") == "pg1: watchdog automatic"
    line = pgha_watchdog.summary(pgha_watchdog.decide("automatic", "systemd-nspawn", False))
    assert line.startswith("watchdog off (wanted automatic): inside a container (systemd-nspawn)")
    line = pgha_watchdog.summary(pgha_watchdog.decide("required", "lxc", False))
    assert "ERROR: mode required is impossible" in line


# -- pgha_system.watchdog: the facts ------------------------------------------------------------------

@pytest.fixture
def configure_loader_modules():
    opts = {"test": False}
    return {
        pgha_system: {"__grains__": {"kernel": "Linux", "virtual": "kvm"}, "__opts__": opts,
                      "__salt__": {}, "__context__": {}, "__utils__": UTILS,
                      "__pillar__": {"pgha": {"patroni": {"watchdog": {"mode": "required"}}}}},
        pgha_system_state: {"__salt__": {}, "__opts__": opts, "__utils__": UTILS, "__context__": {}},
    }


@pytest.fixture
def host(tmp_path, monkeypatch):
    """No container file, no softdog loaded; `device` a path that does not exist yet."""
    monkeypatch.setattr(pgha_system, "CONTAINER_FILE", str(tmp_path / "no-container"))
    monkeypatch.setattr(pgha_system, "SOFTDOG_SYS", str(tmp_path / "sys-module-softdog"))
    return tmp_path


def _char_device(monkeypatch, path):
    """Make os.stat report `path` as a character device (tests cannot mknod)."""
    real = os.stat

    def fake(p, *args, **kwargs):
        if str(p) == str(path):
            return os.stat_result((stat.S_IFCHR | 0o600, 0, 0, 1, 0, 0, 0, 0, 0, 0))
        return real(p, *args, **kwargs)
    monkeypatch.setattr(pgha_system.os, "stat", fake)


def test_watchdog_on_a_host_without_device_loads_softdog(host):
    plan = pgha_system.watchdog("automatic", str(host / "watchdog"))
    assert plan["load_softdog"] and plan["mode"] == "automatic"
    assert plan["container"] == "" and plan["device_present"] is False


def test_watchdog_with_a_device(host, monkeypatch):
    _char_device(monkeypatch, host / "watchdog")
    plan = pgha_system.watchdog("required", str(host / "watchdog"))
    assert plan["mode"] == "required" and not plan["load_softdog"] and plan["device_present"]


def test_watchdog_a_regular_file_is_no_device(host):
    (host / "watchdog").write_text("")
    assert pgha_system.watchdog("automatic", str(host / "watchdog"))["device_present"] is False


def test_watchdog_missing_after_softdog(host):
    (host / "sys-module-softdog").mkdir()
    plan = pgha_system.watchdog("automatic", str(host / "watchdog"))
    assert plan["mode"] == "off" and "missing although softdog is loaded" in plan["reason"]


def test_watchdog_in_nspawn_is_off(host):
    (host / "no-container").write_text("systemd-nspawn\n")
    plan = pgha_system.watchdog("automatic", str(host / "watchdog"))
    assert plan["mode"] == "off" and plan["container"] == "systemd-nspawn" and not plan["load_softdog"]


def test_watchdog_summary_reads_pillar(host):
    (host / "no-container").write_text("systemd-nspawn\n")
    line = pgha_system.watchdog_summary()
    assert line.startswith("watchdog off (wanted required): inside a container (systemd-nspawn)")
    assert "ERROR" in line


# -- pgha_system.watchdog_ready: the state --------------------------------------------------------------

def _plan(mode, wanted=None, present=True, error="", reason=""):
    return {"wanted": wanted or mode, "mode": mode, "load_softdog": False, "reason": reason,
            "error": error, "container": "", "device": "/dev/watchdog", "device_present": present}


@pytest.fixture(params=[False, True], ids=["real", "test"])
def test_mode(request):
    pgha_system_state.__opts__["test"] = request.param
    yield request.param
    pgha_system_state.__opts__["test"] = False


def _salt(plan, owner="root", chown=None):
    return {"pgha_system.watchdog": MagicMock(return_value=plan),
            "file.get_user": MagicMock(return_value=owner),
            "file.chown": chown or MagicMock(return_value=None)}


def test_ready_gives_the_device_to_postgres(test_mode):
    funcs = _salt(_plan("automatic"))
    pgha_system_state.__salt__.update(funcs)
    ret = pgha_system_state.watchdog_ready("/dev/watchdog", "automatic", "postgres")
    assert ret["changes"] == {"owner": {"old": "root", "new": "postgres"}}
    assert ret["result"] is (None if test_mode else True)
    assert ret["comment"].startswith("watchdog automatic")
    assert funcs["file.chown"].called is (not test_mode)


def test_ready_already_owned_is_quiet(test_mode):
    pgha_system_state.__salt__.update(_salt(_plan("automatic"), owner="postgres"))
    ret = pgha_system_state.watchdog_ready("/dev/watchdog", "automatic", "postgres")
    assert ret["result"] is True and ret["changes"] == {}
    assert "owned by postgres" in ret["comment"]


def test_ready_off_in_a_container_is_reported_not_failed(test_mode):
    plan = pgha_watchdog.decide("automatic", "systemd-nspawn", False)
    plan.update(container="systemd-nspawn", device="/dev/watchdog", device_present=False)
    funcs = _salt(plan)
    pgha_system_state.__salt__.update(funcs)
    ret = pgha_system_state.watchdog_ready("/dev/watchdog", "automatic", "postgres")
    assert ret["result"] is True and ret["changes"] == {}
    assert ret["comment"].startswith("watchdog off (wanted automatic): inside a container (systemd-nspawn)")
    funcs["file.chown"].assert_not_called()


def test_ready_required_without_device_fails(test_mode):
    plan = pgha_watchdog.decide("required", "", False, softdog_loaded=True)
    plan.update(container="", device="/dev/watchdog", device_present=False)
    pgha_system_state.__salt__.update(_salt(plan))
    ret = pgha_system_state.watchdog_ready("/dev/watchdog", "required", "postgres")
    assert ret["result"] is False and "mode required cannot be met" in ret["comment"]


def test_ready_chown_error_fails():
    pgha_system_state.__salt__.update(_salt(_plan("automatic"), chown=MagicMock(return_value="User does not exist\n")))
    ret = pgha_system_state.watchdog_ready("/dev/watchdog", "automatic", "postgres")
    assert ret["result"] is False and "User does not exist" in ret["comment"]


# -- the validator's rule and the cluster check's warning ----------------------------------------------

def _pillar(**patroni):
    pillar = copy.deepcopy(MINIMAL_VALID)
    pillar["patroni"].update(patroni)
    return pillar


def test_required_in_a_container_is_refused_before_anything_changes():
    problems = pgha_validate.check(_pillar(watchdog={"mode": "required"}), DEFAULTS,
                                   {"os_family": "Debian", "container": "systemd-nspawn"})
    assert [p for p in problems if p.startswith("pgha:patroni:watchdog:mode: is required but this minion "
                                                "runs in a container (systemd-nspawn)")], problems


def test_required_on_a_balancer_in_a_container_is_not_refused():
    pillar = _pillar(watchdog={"mode": "required"})
    pillar["roles"] = ["etcd"]
    problems = pgha_validate.check(pillar, DEFAULTS, {"os_family": "Debian", "container": "systemd-nspawn"})
    assert not [p for p in problems if "watchdog" in p], problems


@pytest.mark.parametrize("mode", ["automatic", "off"])
def test_automatic_and_off_in_a_container_are_valid(mode):
    assert pgha_validate.check(_pillar(watchdog={"mode": mode}), DEFAULTS,
                               {"os_family": "Debian", "container": "systemd-nspawn"}) == []


def test_required_with_timings_that_switch_it_off_is_refused():
    problems = pgha_validate.check(_pillar(watchdog={"mode": "required", "safety_margin": 25}), DEFAULTS,
                                   {"os_family": "Debian"})
    norm = DEFAULTS["rto_profiles"]["norm"]["patroni"]
    assert ("pgha:patroni:watchdog:safety_margin: is 25 but Patroni switches the watchdog off when "
            f"ttl - safety_margin - loop_wait < 0 ({norm['ttl']} - 25 - {norm['loop_wait']})") in "\n".join(problems), problems


def test_required_on_a_host_with_every_preset_is_valid():
    for preset in DEFAULTS["rto_profiles"]:
        assert pgha_validate.check(_pillar(rto_profile=preset, watchdog={"mode": "required"}), DEFAULTS,
                                   {"os_family": "Debian", "container": ""}) == [], preset


def test_automatic_with_timings_that_switch_it_off_warns():
    pillars = {f"pg{i}": _pillar(watchdog={"safety_margin": 25}) for i in (1, 2, 3)}
    found = pgha_cluster.check_cluster(pillars, DEFAULTS)
    assert found["problems"] == []
    norm = DEFAULTS["rto_profiles"]["norm"]["patroni"]
    assert [w for w in found["warnings"] if w.startswith("pgha:patroni:watchdog:safety_margin: ttl - safety_margin "
                                                         f"- loop_wait < 0 ({norm['ttl']} - 25 - {norm['loop_wait']})")], found


def test_a_watchdog_that_would_reset_during_dcs_retries_warns():
    # fast's loop with the default margin of 5: a renewal 1 s late would reset the leader's host
    pillars = {f"pg{i}": _pillar(rto_profile="fast", watchdog={"safety_margin": 5}) for i in (1, 2, 3)}
    found = pgha_cluster.check_cluster(pillars, DEFAULTS)
    fast = DEFAULTS["rto_profiles"]["fast"]["patroni"]
    assert found["problems"] == []
    assert (f"pgha:patroni:watchdog:safety_margin: loop_wait + retry_timeout > ttl - safety_margin "
            f"({fast['loop_wait']} + {fast['retry_timeout']} > {fast['ttl']} - 5): the watchdog resets the leader's "
            "host during an etcd or network stall that Patroni's retries would ride out") in "\n".join(found["warnings"])
    for mode in ("off",):
        quiet = {f"pg{i}": _pillar(rto_profile="fast", watchdog={"safety_margin": 5, "mode": mode}) for i in (1, 2, 3)}
        assert not [w for w in pgha_cluster.check_cluster(quiet, DEFAULTS)["warnings"] if "watchdog" in w]
    for preset in DEFAULTS["rto_profiles"]:
        own = {f"pg{i}": _pillar(rto_profile=preset) for i in (1, 2, 3)}
        assert not [w for w in pgha_cluster.check_cluster(own, DEFAULTS)["warnings"] if "watchdog" in w], preset
