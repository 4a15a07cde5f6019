"""
Host preparation (pgha:system).
"""
import json

import pytest
import yaml

from .render_helpers import REPO, NODE_ADDRESS, TYPE_A_PG, TYPE_A_LB, _states, _fun, _state, _render_file


DEFAULT_SYSCTL = yaml.safe_load((REPO / "pgha" / "parameters" / "defaults.yaml").read_text())[
    "system"]["sysctl"]["settings"]
THP = "/sys/kernel/mm/transparent_hugepage"


def _sysctl_file(states, state_id="pgha-system-sysctl-file-managed"):
    """{key: value} of a sysctl.d file state, after its header line."""
    module, function, args = _state(states, state_id)
    assert (module, function, args["mode"]) == ("file", "managed", "0644")
    header, *lines = args["contents"].splitlines()
    assert header.startswith("# Managed by Salt (pgha): pgha:system:")
    return dict(line.split(" = ", 1) for line in lines)


@pytest.mark.parametrize("grains_id", ["debian12", "debian13", "rhel9"])
def test_system_defaults_on_a_database_node(rendered, grains_id):
    """The defaults a DBA would pick: kernel settings now and at boot, THP off by a unit,
    open files for the postgres user and for Patroni, en_US.UTF-8, the members in
    /etc/hosts, chrony with the distribution's configuration."""
    states = _states(rendered, "system", grains_id, "typeb_vip")
    assert _sysctl_file(states) == {k: str(v) for k, v in DEFAULT_SYSCTL.items()}
    assert DEFAULT_SYSCTL["vm.swappiness"] == 1 and "vm.overcommit_memory" not in DEFAULT_SYSCTL
    assert _state(states, "pgha-system-sysctl-applied") == ("pgha_system", "kernel_applied", {
        "settings": DEFAULT_SYSCTL, "require": [{"file": "pgha-system-sysctl-file-managed"}]})
    # no huge pages from pgha, and no file of pgha's that would reserve them at the next boot
    assert _state(states, "pgha-system-hugepages-file-absent") == (
        "file", "absent", {"name": "/etc/sysctl.d/90-pgha-hugepages.conf"})
    assert not [s for s in states if s.startswith("pgha-system-hugepages-applied")]
    # THP: a unit for every boot (skipped where /sys is read-only), enabled but not started;
    # the running kernel is set by the state that reports instead of failing
    unit = _state(states, "pgha-system-thp-unit-file-managed")[2]
    assert unit["name"] == "/etc/systemd/system/disable-transparent-huge-pages.service"
    lines = unit["contents"].splitlines()
    for line in ("DefaultDependencies=no", "Before=basic.target", "Type=oneshot",
                 f"ConditionPathIsReadWrite={THP}/enabled", "WantedBy=basic.target",
                 f"ExecStart=/bin/sh -c 'echo never > {THP}/enabled && echo never > {THP}/defrag'"):
        assert line in lines, line
    assert _state(states, "pgha-system-thp-service-enabled")[:2] == ("service", "enabled")
    assert not [s for s, b in states.items() if _fun(b)[:2] == ("service", "running")
                and _fun(b)[2]["name"] == "disable-transparent-huge-pages"]
    assert _state(states, "pgha-system-thp-applied")[2] == {
        "settings": {f"{THP}/enabled": "never", f"{THP}/defrag": "never"}}
    # open files: pam_limits for sessions, a drop-in for Patroni; never a restart
    assert _state(states, "pgha-system-limits-file-managed")[2]["contents"].splitlines()[1:] == [
        "postgres soft nofile 65536", "postgres hard nofile 200000"]
    dropin = _state(states, "pgha-system-limits-patroni-dropin-managed")[2]
    assert dropin["name"] == "/etc/systemd/system/patroni.service.d/pgha-limits.conf"
    assert dropin["contents"].splitlines()[1:] == ["[Service]", "LimitNOFILE=65536:200000"]
    assert _state(states, "pgha-system-limits-systemd-reloaded")[2]["onchanges"] == [
        {"file": "pgha-system-limits-patroni-dropin-managed"}]
    assert not [b for b in states.values() if _fun(b)[0] in ("cmd", "service")
                and "patroni" in json.dumps(_fun(b)[2])]
    # one package batch from the node's sources; C.UTF-8 (postgresql:locale) needs none
    pkgs = _state(states, "pgha-system-pkgs-installed")[2]
    assert pkgs == {"pkgs": ["chrony", "glibc-langpack-en" if grains_id == "rhel9" else "locales"],
                    "require": [{"sls": "pgha.repo"}]}
    assert [s for s in states if s.startswith("pgha-system-locale-")] == [
        "pgha-system-locale-en_US.UTF-8-present"]
    # this node (the local mine) by name; chrony running, its configuration the distribution's
    assert _state(states, "pgha-system-hosts-pg1-present")[2] == {
        "name": "pg1", "ip": NODE_ADDRESS, "clean": True}
    assert _state(states, "pgha-system-time-service-running")[2] == {
        "name": "chronyd" if grains_id == "rhel9" else "chrony", "enable": True,
        "require": [{"sls": "pgha.system.install"}]}
    assert "pgha-system-time-config-file-managed" not in states


def test_system_on_a_balancer(rendered):
    """A balancer gets everything but the postgres user's limits; /etc/hosts names every
    member of its cluster, none of another."""
    states = _states(rendered, "system", "debian12", "typea_lb")
    assert not [s for s in states if s.startswith("pgha-system-limits-") and not s.endswith("-not-managed")]
    assert "pgha-system-sysctl-applied" in states and "pgha-system-thp-applied" in states
    hosts = {_fun(b)[2]["name"]: _fun(b)[2]["ip"] for s, b in states.items()
             if s.startswith("pgha-system-hosts-")}
    assert hosts == {**TYPE_A_PG, **TYPE_A_LB}


@pytest.mark.parametrize("grains_id", ["debian12", "rhel9"])
def test_system_from_pillar(rendered, grains_id):
    states = _states(rendered, "system", grains_id, "system")
    # pillar keys over the defaults; ~ drops one
    expected = {k: str(v) for k, v in DEFAULT_SYSCTL.items() if k != "net.core.rmem_max"}
    expected.update({"vm.swappiness": "10", "vm.overcommit_memory": "2", "vm.overcommit_ratio": "90"})
    assert _sysctl_file(states) == expected
    assert "net.core.rmem_max" not in _state(states, "pgha-system-sysctl-applied")[2]["settings"]
    # huge pages: their own file, applied now as far as the kernel can
    assert _sysctl_file(states, "pgha-system-hugepages-file-managed") == {"vm.nr_hugepages": "1200"}
    assert _state(states, "pgha-system-hugepages-applied")[2]["settings"] == {"vm.nr_hugepages": 1200}
    assert _state(states, "pgha-system-thp-applied")[2]["settings"] == {
        f"{THP}/enabled": "madvise", f"{THP}/defrag": "madvise"}
    assert _state(states, "pgha-system-limits-file-managed")[2]["contents"].splitlines()[1:] == [
        "pgadmin soft nofile 100000", "pgadmin hard nofile 300000"]
    assert "LimitNOFILE=100000:300000" in _state(
        states, "pgha-system-limits-patroni-dropin-managed")[2]["contents"].splitlines()
    # the listed locales, and postgresql:locale for initdb; on RedHat a langpack per language
    assert [s for s in states if s.startswith("pgha-system-locale-") and s.endswith("-present")] == [
        "pgha-system-locale-de_DE.UTF-8-present", "pgha-system-locale-en_US.UTF-8-present",
        "pgha-system-locale-en_GB.UTF-8-present"]
    assert _state(states, "pgha-system-locale-default-managed") == ("locale", "system", {
        "name": "en_US.UTF-8", "require": [{"sls": "pgha.system.install"},
                                           {"locale": "pgha-system-locale-en_US.UTF-8-present"}]})
    assert _state(states, "pgha-system-pkgs-installed")[2]["pkgs"] == (
        ["chrony", "glibc-langpack-de", "glibc-langpack-en"] if grains_id == "rhel9" else ["chrony", "locales"])
    # the cluster's members from the mine (not pg9 of another cluster), the extra lines last
    hosts = {_fun(b)[2]["name"]: _fun(b)[2]["ip"] for s, b in states.items()
             if s.startswith("pgha-system-hosts-")}
    assert hosts == {"pg1": NODE_ADDRESS, "pg2": "10.0.0.12", "pg3": "10.0.0.99",
                     "backup.example.com": "10.0.0.50", "backup": "10.0.0.50"}
    # chrony with pgha's file: the servers only, restarted when it changes
    config = _state(states, "pgha-system-time-config-file-managed")[2]
    assert config["name"] == ("/etc/chrony.conf" if grains_id == "rhel9" else "/etc/chrony/chrony.conf")
    text = _render_file(states, "pgha-system-time-config-file-managed", grains_id, "system")
    assert [line for line in text.splitlines() if line.startswith(("server", "pool"))] == [
        "server ntp1.example.com iburst", "server 10.0.0.5 iburst"]
    assert "makestep 1 3" in text.splitlines()
    assert _state(states, "pgha-system-time-service-running")[2]["watch"] == [
        {"file": "pgha-system-time-config-file-managed"}]


def test_system_switched_off(rendered):
    """Every part off: nothing but nops (and pgha's huge pages file kept away)."""
    states = _states(rendered, "system", "debian12", "system_off")
    functions = {s: _fun(b)[:2] for s, b in states.items() if s.startswith("pgha-system-")}
    assert functions == {
        "pgha-system-sysctl-not-managed": ("test", "nop"),
        "pgha-system-hugepages-file-absent": ("file", "absent"),
        "pgha-system-thp-not-managed": ("test", "nop"),
        "pgha-system-limits-not-managed": ("test", "nop"),
        "pgha-system-locale-not-managed": ("test", "nop"),
        "pgha-system-hosts-not-managed": ("test", "nop"),
        "pgha-system-time-not-managed": ("test", "nop"),
    }
    # pgha.packages installs nothing for it either
    assert _state(_states(rendered, "show_sls", "debian12", "system_off"), "pgha-system-pkgs-none")[:2] == (
        "test", "nop")


def test_system_ntpsec(rendered):
    states = _states(rendered, "system", "debian13", "system_ntpsec")
    assert _state(states, "pgha-system-pkgs-installed")[2]["pkgs"] == ["ntpsec", "locales"]
    assert _state(states, "pgha-system-time-config-file-managed")[2]["name"] == "/etc/ntpsec/ntp.conf"
    text = _render_file(states, "pgha-system-time-config-file-managed", "debian13", "system_ntpsec")
    assert "server ntp1.example.com iburst" in text.splitlines()
    assert "restrict default kod nomodify nopeer noquery limited" in text.splitlines()
    assert _state(states, "pgha-system-time-service-running")[2]["name"] == "ntpsec"


@pytest.mark.parametrize("grains_id,pillar_id,kind", [
    ("debian12_nspawn", "system", "systemd-nspawn"), ("debian12_docker", "typeb_vip", "Docker")])
def test_system_in_a_container(rendered, grains_id, pillar_id, kind):
    """A container's clock is the host's: the time daemon is installed (and configured) but
    not started, which says so instead of failing. The kernel settings render as anywhere:
    what the container cannot change, their state reports when it runs."""
    states = _states(rendered, "system", grains_id, pillar_id)
    assert "pgha-system-time-service-running" not in states
    module, function, args = _state(states, "pgha-system-time-service-not-started")
    assert (module, function) == ("test", "show_notification")
    assert f"in this container ({kind}) the clock is the host's" in args["text"]
    assert args["text"].startswith("chrony is installed" + (" and configured" if pillar_id == "system" else ""))
    assert ("pgha-system-time-config-file-managed" in states) is (pillar_id == "system")
    for state_id in ("pgha-system-sysctl-applied", "pgha-system-thp-applied", "pgha-system-thp-service-enabled"):
        assert state_id in states


@pytest.mark.parametrize("pillar_id", ["typeb_vip", "typea_lb"])
def test_system_first_in_the_highstate(rendered, pillar_id):
    """Kernel settings, limits and locales are in place before any service starts."""
    states = _states(rendered, "highstate", "debian12", pillar_id)

    def order(state_id):
        (items,) = [v for k, v in states[state_id].items() if not k.startswith("__")]
        return next(i["order"] for i in items if isinstance(i, dict) and "order" in i)
    first = "pgha-etcd-service-running" if pillar_id == "typeb_vip" else "pgha-haproxy-service-running"
    for state_id in ("pgha-system-sysctl-applied", "pgha-system-thp-applied", "pgha-system-pkgs-installed"):
        assert order(state_id) < order(first), state_id
    if pillar_id == "typeb_vip":
        assert order("pgha-system-limits-patroni-dropin-managed") < order("pgha-patroni-service-running")
        assert order("pgha-system-locale-en_US.UTF-8-present") < order("pgha-patroni-service-running")
