"""A version pin older than the installed package is refused before any change (h10-rev): the
decision (_utils/pgha_pins.py) with a Debian-like version comparison standing in for Salt's
pkg.version_cmp, and the execution module pgha_packages with pkg.list_pkgs and
pkg.version_cmp mocked."""
import re
from unittest.mock import MagicMock

import pgha_packages
import pgha_pins
import pytest
import salt.utils.versions


def version_cmp(pkg1, pkg2, ignore_epoch=False):
    """dpkg's order, as far as these tests need it: the epoch, then the numbers in turn."""
    def key(version):
        epoch, _, rest = version.rpartition(":")
        numbers = [int(n) for n in re.findall(r"[0-9]+", rest)]
        return numbers if ignore_epoch else [int(epoch or 0)] + numbers
    first, second = key(pkg1), key(pkg2)
    return (first > second) - (first < second)


PG_PINNED = {"postgresql": [{"postgresql-15": "15.18-*"}, {"postgresql-client-15": "15.18-*"}],
             "patroni": ["patroni"], "etcd": ["etcd-server"]}
REFUSAL = ("pgha:postgresql:version_minor: 15.18 is older than the installed 15.19-0+deb12u1 of postgresql-15 "
           "on pg1; pgha does not downgrade: remove the pin or set it to the installed version or newer")


@pytest.mark.parametrize("pin, installed, is_older", [
    ("15.18-*", "15.18-0+deb12u1", False),          # equal: the pin's release, any revision
    ("3.0.2-1", "3.0.2-1", False),                  # equal: a full version
    ("3.0.2-*", "3.0.2-1.el9", False),              # an RPM's release
    ("3.0.2-*", "3.0.2", False),                    # a native package: no revision at all
    ("15.20-*", "15.18-0+deb12u1", False),          # newer: an update, allowed
    ("3.0.4-1", "3.0.2-1", False),
    ("15.17-*", "15.18-0+deb12u1", True),           # older
    ("3.0.2-1", "3.0.2-4", True),                   # an older revision of the same release
    ("2.3-*", "1:2.3-1", False),                    # no epoch in the pin: ignored, as pkg.installed does
    ("2.2-*", "1:2.3-1", True),
    ("0:2.3-1", "1:2.3-1", True),                   # the pin names an epoch: it counts
    ("1:2.4-*", "1:2.3-1", False),
    ("1:2.3-*", "1:2.3-1", False),
])
def test_older(pin, installed, is_older):
    assert pgha_pins.older(pin, installed, version_cmp) is is_older


def test_older_passes_ignore_epoch_as_salt_pkg_installed_does():
    cmp = MagicMock(return_value=-1)
    assert pgha_pins.older("2.2-1", "1:2.3-1", cmp) is True
    cmp.assert_called_once_with("2.2-1", "2.3-1", ignore_epoch=True)
    cmp.reset_mock()
    pgha_pins.older("1:2.2-1", "1:2.3-1", cmp)
    cmp.assert_called_once_with("1:2.2-1", "1:2.3-1", ignore_epoch=False)


def test_a_comparison_the_package_manager_cannot_make_refuses_nothing():
    assert pgha_pins.older("15.17-*", "15.18-1", MagicMock(return_value=None)) is False


def test_downgrades_names_the_key_the_versions_the_package_and_the_node():
    installed = {"postgresql-15": ["15.19-0+deb12u1"], "postgresql-client-15": ["15.19-0+deb12u1"],
                 "patroni": ["3.0.2-1"]}
    # one message a component, though both of PostgreSQL's packages are newer
    assert pgha_pins.downgrades(PG_PINNED, installed, version_cmp, "pg1") == [REFUSAL]


@pytest.mark.parametrize("installed", [
    {},                                                             # not installed: a first install
    {"postgresql-15": ["15.18-0+deb12u1"]},                         # equal
    {"postgresql-15": ["15.17-0+deb12u1"]},                         # older: an update
], ids=["not-installed", "equal", "newer-pin"])
def test_no_downgrade(installed):
    assert pgha_pins.downgrades(PG_PINNED, installed, version_cmp, "pg1") == []


def test_every_component_names_its_own_key():
    pinned = {"patroni": [{"patroni": "3.0.2-*"}, "python3-etcd"], "etcd": [{"etcd-server": "1:3.4.23-*"}]}
    installed = {"patroni": ["3.0.4-1"], "python3-etcd": ["9.9"], "etcd-server": ["1:3.5.0-1"]}
    problems = pgha_pins.downgrades(pinned, installed, version_cmp, "pg2")
    assert [p.split(": ", 1)[0] for p in problems] == ["pgha:etcd:version", "pgha:patroni:version"]
    assert problems[0].startswith("pgha:etcd:version: 1:3.4.23 is older than the installed 1:3.5.0-1 of "
                                  "etcd-server on pg2;")


PIP_REFUSAL = ("pgha:patroni:pip_version: 4.0.7 is older than the installed Patroni 4.1.5 of the virtualenv on "
               "pg1; pgha does not downgrade: remove the pin or set it to the installed version or newer")


@pytest.mark.parametrize("pin, installed, refused", [
    ("4.0.7", "4.1.5", True),
    ("4.1.5", "4.1.5", False),
    ("4.1.5", "4.0.7", False),          # an update
    ("4.1.5", "", False),               # no virtualenv yet
    ("", "4.1.5", False),               # no pin: pip's newest
])
def test_pip_downgrade(pin, installed, refused):
    found = pgha_pins.pip_downgrade(pin, installed, salt.utils.versions.version_cmp, "pg1")
    assert found == (PIP_REFUSAL if refused else None)


# -- the execution module -------------------------------------------------------------------

@pytest.fixture
def configure_loader_modules():
    utils = {"pgha_pins.downgrades": pgha_pins.downgrades, "pgha_pins.pip_downgrade": pgha_pins.pip_downgrade}
    return {pgha_packages: {"__salt__": {}, "__utils__": utils, "__grains__": {"id": "pg1"},
                            "__opts__": {"id": "pg1", "test": False}, "__context__": {}}}


def test_virtual_needs_the_utils_module():
    assert pgha_packages.__virtual__() == "pgha_packages"
    pgha_packages.__utils__.clear()
    assert pgha_packages.__virtual__()[0] is False


def test_module_asks_the_package_manager():
    list_pkgs = MagicMock(return_value={"postgresql-15": ["15.19-0+deb12u1"], "patroni": ["3.0.2-1"]})
    cmp = MagicMock(side_effect=version_cmp)
    pgha_packages.__salt__.update({"pkg.list_pkgs": list_pkgs, "pkg.version_cmp": cmp})
    assert pgha_packages.downgrades(PG_PINNED) == [REFUSAL]
    list_pkgs.assert_called_once_with(versions_as_list=True)
    assert cmp.call_args == (("15.18", "15.19"), {"ignore_epoch": True})


def test_module_reads_this_nodes_settings_and_skips_the_package_manager_without_a_pin():
    render = MagicMock(return_value={"pgha": {"pinned_pkgs": {"postgresql": ["postgresql-15"], "etcd": ["etcd"]},
                                              "patroni": {"install_method": "pkg", "venv": "/opt/patroni",
                                                          "pip_version": "4.1.5"}}})
    list_pkgs, pip_list = MagicMock(), MagicMock()
    pgha_packages.__salt__.update({"pgha_settings.render": render, "pkg.list_pkgs": list_pkgs, "pip.list": pip_list})
    assert pgha_packages.downgrades() == []
    render.assert_called_once_with("pgha")
    list_pkgs.assert_not_called()
    pip_list.assert_not_called()            # Patroni from the distribution: pip_version pins nothing


def test_module_asks_the_virtualenvs_pip(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pip").write_text("")
    pip_list = MagicMock(return_value={"patroni": "4.1.5", "patroni-extra": "9.9"})
    pgha_packages.__salt__.update({"pip.list": pip_list})
    pip = {"install_method": "pip", "venv": str(tmp_path), "pip_version": "4.0.7"}
    assert pgha_packages.downgrades({"patroni": ["patroni"]}, pip) == [PIP_REFUSAL]
    pip_list.assert_called_once_with("patroni", bin_env=str(tmp_path))
    # no virtualenv yet, or Patroni from the distribution: pip is not asked
    pip_list.reset_mock()
    assert pgha_packages.downgrades({}, dict(pip, venv=str(tmp_path / "none"))) == []
    assert pgha_packages.downgrades({}, dict(pip, install_method="pkg")) == []
    pip_list.assert_not_called()
