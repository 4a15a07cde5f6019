"""
Issue 21: PgBouncer's settings refused where the node's PgBouncer lacks them, naming the
version; the version from the package sources' parameters (osfinger) or the installed binary
(pgha_pgbouncer.version); and PgBouncer in Type B.
"""
import copy
from pathlib import Path

import pytest
import salt.utils.dictupdate
import yaml

import pgha_rules_pgbouncer
import pgha_validate
from pgha_unit_helpers import MINIMAL_VALID

PARAMETERS = Path(__file__).resolve().parents[2] / "pgha/parameters"


def _defaults(osfinger):
    merged = {}
    for layer in ("defaults.yaml", "os_family/Debian.yaml", f"osfinger/{osfinger}.yaml"):
        merged = salt.utils.dictupdate.merge(merged, yaml.safe_load((PARAMETERS / layer).read_text()),
                                             merge_lists=False)
    return merged


def _pillar(**pgbouncer):
    pillar = copy.deepcopy(MINIMAL_VALID)
    pillar["pgbouncer"] = {"enabled": True, "auth_user": {"password": "pgb-secret"}, **pgbouncer}
    return pillar


def _check(osfinger, installed=None, **pgbouncer):
    context = {"os": osfinger, "os_family": "Debian"}
    if installed is not None:
        context["pgbouncer_version"] = installed
    return pgha_validate.check(_pillar(**pgbouncer), _defaults(osfinger), context)


def test_the_package_sources_name_their_pgbouncer():
    assert _defaults("Debian-12")["pgbouncer"]["version"] == "1.18"
    assert _defaults("Debian-13")["pgbouncer"]["version"] == "1.24"


def test_type_b_with_pgbouncer_and_its_defaults_is_valid():
    assert _check("Debian-12") == []
    assert _check("Debian-13") == []


@pytest.mark.parametrize("setting,value,needed", [
    ("max_prepared_statements", 100, "1.21"),
    ("max_prepared_statements", 0, "1.21"),
    ("auth_dbname", "postgres", "1.19"),
])
def test_debian_12_refuses_what_pgbouncer_1_18_lacks_naming_both_versions(setting, value, needed):
    [problem] = _check("Debian-12", **{setting: value})
    assert problem.startswith(f"pgha:pgbouncer:{setting}: needs PgBouncer >= {needed} ({setting})")
    assert "PgBouncer 1.18 (pgbouncer:version) on Debian-12" in problem


def test_debian_13_has_them_all():
    assert _check("Debian-13", max_prepared_statements=100, auth_dbname="postgres", processes=4) == []


def test_the_installed_binary_wins_over_the_package_sources():
    # a newer PgBouncer installed from another repository: accepted on Debian 12
    assert _check("Debian-12", installed="1.21.0", max_prepared_statements=100) == []
    # an older one installed than the parameters say: refused, naming the installed version
    [problem] = _check("Debian-13", installed="1.20.1", max_prepared_statements=100)
    assert "the installed PgBouncer is 1.20.1" in problem


def test_so_reuseport_needs_1_12_for_several_processes():
    [problem] = _check("Debian-12", installed="1.11.0", processes=2)
    assert problem.startswith("pgha:pgbouncer:processes: needs PgBouncer >= 1.12 (so_reuseport)")
    assert _check("Debian-12", installed="1.11.0", processes=1) == []
    assert _check("Debian-12", processes=2) == []


def test_unknown_version_is_not_checked():
    # pillar pgbouncer:version '' (another repository, version not known): nothing refused
    assert _check("Debian-12", version="", max_prepared_statements=100) == []
    # a pillar version for the repository that installs it
    assert _check("Debian-12", version="1.23", max_prepared_statements=100) == []


def test_where_pgbouncer_does_not_run_nothing_is_refused():
    pillar = copy.deepcopy(MINIMAL_VALID)
    pillar["pgbouncer"] = {"max_prepared_statements": 100}      # Type B, enabled auto = off
    assert pgha_validate.check(pillar, _defaults("Debian-12"), {"os": "Debian-12"}) == []
    pillar["roles"] = ["etcd"]
    pillar["pgbouncer"]["enabled"] = True
    pillar["pgbouncer"]["auth_user"] = {"password": "x-secret"}
    assert pgha_validate.check(pillar, _defaults("Debian-12"), {"os": "Debian-12"}) == []


@pytest.mark.parametrize("text,parsed", [("1.18", (1, 18)), ("1.24.1", (1, 24)), ("1.9.0", (1, 9)),
                                         ("", None), ("latest", None), (None, None)])
def test_parse_version(text, parsed):
    assert pgha_rules_pgbouncer.parse_version(text) == parsed


def test_the_table_holds_the_changelog_versions():
    table = {setting: needed for _, setting, needed, _ in pgha_rules_pgbouncer.MIN_VERSIONS}
    assert table == {"so_reuseport": (1, 12), "auth_dbname": (1, 19), "max_prepared_statements": (1, 21)}


def test_type_b_with_pgbouncer_needs_the_auth_password():
    pillar = _pillar()
    pillar["pgbouncer"]["auth_user"] = {"password": ""}
    problems = pgha_validate.check(pillar, _defaults("Debian-12"), {"os": "Debian-12"})
    assert [p.split(": ")[0] for p in problems] == ["pgha:pgbouncer:auth_user:password"]
