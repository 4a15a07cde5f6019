"""Unit tests of the settings map.jinja exports (_utils/pgha_derive.py), and of the execution
module that gathers their inputs on a minion (_modules/pgha_settings.py)."""
import copy
import json
from pathlib import Path
from unittest.mock import MagicMock

import jinja2
import pgha_derive
import pgha_settings
import pytest
import yaml
from salt.exceptions import CommandExecutionError, TemplateError
from salt.utils.jinja import jinja_raise

PARAMETERS = Path(__file__).resolve().parents[2] / "pgha" / "parameters"
PILLAR = {"cluster_name": "main", "roles": ["postgresql", "etcd"], "address": "10.0.0.11"}


def layers(os_family="Debian", osfinger="Debian-12"):
    """The parameter files of a minion with these grains, as pgha_settings reads them."""
    found = []
    for name in pgha_derive.parameter_files({"os_family": os_family, "osfinger": osfinger}):
        path = PARAMETERS / name
        found.append(yaml.safe_load(path.read_text()) if path.is_file() else None)
    return found


def entry(cluster, *roles, address):
    return {"cluster_name": cluster, "roles": list(roles), "address": address}


MINE = {
    "pg1": entry("main", "postgresql", "etcd", address="10.0.0.11"),
    "pg2": entry("main", "postgresql", "etcd", address="10.0.0.12"),
    "lb1": entry("main", "balancer", address="10.0.0.31"),
    "repo1": entry("main", "pgbackrest", address="10.0.0.41"),
    # clusters whose names Salt's pillar targeting (I@) would mix with main's
    "other1": entry("Main", "postgresql", "etcd", "balancer", "pgbackrest", address="10.9.0.1"),
    "other2": entry("MAIN", "postgresql", "etcd", address="10.9.0.2"),
    "other3": entry("ma*", "etcd", address="10.9.0.3"),
    "other4": entry("mai?", "etcd", address="10.9.0.4"),
}


def settings(pillar=None, mine=None, **grains):
    return pgha_derive.settings(layers(**grains), PILLAR if pillar is None else pillar,
                                MINE if mine is None else mine)


# -- members: by exact name --------------------------------------------------------------------

def test_clusters_whose_names_differ_in_case_do_not_see_each_other():
    main = pgha_derive.members("main", MINE)
    assert main == {"postgresql": {"pg1": "10.0.0.11", "pg2": "10.0.0.12"},
                    "etcd": {"pg1": "10.0.0.11", "pg2": "10.0.0.12"},
                    "balancer": {"lb1": "10.0.0.31"}, "pgbackrest": {"repo1": "10.0.0.41"}}
    upper = pgha_derive.members("Main", MINE)
    assert upper == {"postgresql": {"other1": "10.9.0.1"}, "etcd": {"other1": "10.9.0.1"},
                     "balancer": {"other1": "10.9.0.1"}, "pgbackrest": {"other1": "10.9.0.1"}}


def test_a_cluster_name_is_no_pattern():
    assert pgha_derive.members("ma*", MINE)["etcd"] == {"other3": "10.9.0.3"}
    assert pgha_derive.members("mai?", MINE)["etcd"] == {"other4": "10.9.0.4"}
    assert pgha_derive.members("*", MINE) == {role: {} for role in pgha_derive.MEMBER_ROLES}


def test_the_settings_of_two_clusters_keep_apart():
    main = settings()
    upper = settings(dict(PILLAR, cluster_name="Main"))
    assert main["etcd_client_urls"] == ["http://10.0.0.11:2379", "http://10.0.0.12:2379"]
    assert upper["etcd_client_urls"] == ["http://10.9.0.1:2379"]
    assert main["pgha"]["pgbackrest"]["repo_host"] == "10.0.0.41"
    assert upper["pgha"]["pgbackrest"]["repo_host"] == "10.9.0.1"


def test_malformed_mine_entries_are_no_members():
    mine = {"a": None, "b": "10.0.0.1", "c": {"cluster_name": "main", "roles": "etcd", "address": "x"},
            "d": {"roles": ["etcd"], "address": "y"}, "e": entry("main", "etcd", address="10.0.0.5")}
    assert pgha_derive.members("main", mine)["etcd"] == {"e": "10.0.0.5"}
    assert pgha_derive.members("main", None)["etcd"] == {}


def test_member_entry_is_cluster_roles_address_and_nothing_else():
    pillar = dict(PILLAR, postgresql={"superuser": {"password": "secret"}})
    assert pgha_derive.member_entry(pillar, "10.0.0.11") == {
        "cluster_name": "main", "roles": ["postgresql", "etcd"], "address": "10.0.0.11"}
    assert pgha_derive.member_entry(None, None) == {"cluster_name": None, "roles": [], "address": None}


# -- the merged settings -----------------------------------------------------------------------

def test_parameter_files_follow_the_grains():
    assert pgha_derive.parameter_files({"os_family": "RedHat", "osfinger": "Rocky Linux-9"}) == [
        "defaults.yaml", "os_family/RedHat.yaml", "osfinger/Rocky Linux-9.yaml"]


def test_layers_then_lookup_then_pillar():
    found = settings({**PILLAR, "lookup": {"paths": {"tls_dir": "/lookup/tls"}, "etcd": {"peer_port": 1}},
                      "etcd": {"peer_port": 2}})["pgha"]
    assert found["paths"]["tls_dir"] == "/lookup/tls"
    assert found["etcd"]["peer_port"] == 2
    assert found["etcd"]["client_port"] == 2379      # the defaults' keys stay
    assert found["lookup"] == {"paths": {"tls_dir": "/lookup/tls"}, "etcd": {"peer_port": 1}}


def test_nothing_given_is_modified():
    given_layers, pillar, mine = layers(), copy.deepcopy(PILLAR), copy.deepcopy(MINE)
    pillar["etcd"] = {"client_port": 2000}
    before = copy.deepcopy((given_layers, pillar, mine))
    found = pgha_derive.settings(given_layers, pillar, mine)
    found["pgha"]["etcd"]["data_dir"] = "/changed"
    found["pgha"]["pkgs"]["postgresql"].append("changed")
    assert (given_layers, pillar, mine) == before
    assert pgha_derive.settings(given_layers, pillar, mine)["pgha"]["etcd"]["data_dir"] != "/changed"


def test_version_dependent_values():
    found = settings(dict(PILLAR, postgresql={"version": 16}))["pgha"]
    assert found["postgresql"]["version"] == "16"
    assert found["postgresql"]["data_dir"] == "/var/lib/postgresql/16/main"
    assert found["postgresql"]["bin_dir"] == "/usr/lib/postgresql/16/bin"
    assert "{version}" not in str(found["pkgs"]) and "postgresql-16" in found["pkgs"]["postgresql"]
    assert found["services"]["postgresql_instance"] == "postgresql@16-main"
    own = settings(dict(PILLAR, postgresql={"data_dir": "/srv/pg"}))["pgha"]
    assert own["postgresql"]["data_dir"] == "/srv/pg"
    rhel = settings(os_family="RedHat", osfinger="Red Hat Enterprise Linux-9")["pgha"]
    assert rhel["postgresql"]["data_dir"] != found["postgresql"]["data_dir"]


def test_names_from_the_cluster_name():
    found = settings()["pgha"]
    assert found["etcd"]["cluster_token"] == "etcd-main"
    assert found["pgbackrest"]["stanza"] == "main"
    own = settings(dict(PILLAR, etcd={"cluster_token": "t"}, pgbackrest={"stanza": "s"}))["pgha"]
    assert (own["etcd"]["cluster_token"], own["pgbackrest"]["stanza"]) == ("t", "s")


def test_failover_preset_fills_what_pillar_leaves_unset(defaults):
    found = settings(dict(PILLAR, patroni={"rto_profile": "fast", "ttl": 25}))["pgha"]
    fast = defaults["rto_profiles"]["fast"]
    assert found["patroni"]["ttl"] == 25
    assert found["patroni"]["loop_wait"] == fast["patroni"]["loop_wait"]
    assert found["haproxy"]["check"]["inter"] == fast["haproxy"]["check"]["inter"]


def test_a_pillar_that_is_no_mapping_is_refused():
    with pytest.raises(ValueError, match=r"^pgha: must be a mapping"):
        settings(["main"])


def test_an_unknown_failover_preset_names_the_key():
    with pytest.raises(ValueError, match=r"^pgha:patroni:rto_profile: must be one of fast, norm, "
                                         r"safe \(got quick\)$"):
        settings(dict(PILLAR, patroni={"rto_profile": "quick"}))


@pytest.mark.parametrize("pillar,vip_manager,pgbouncer,dcs_api,enable_v2", [
    # Type B with a VIP: vip-manager 1 (Debian's) speaks etcd's v2 API only, 2 the v3 API
    ({"cluster_vip": "10.0.0.100"}, True, False, "etcd", True),
    ({"cluster_vip": "10.0.0.100", "vip_manager": {"major_version": 2}}, True, False, "etcd3", False),
    ({}, False, False, "etcd3", False),                                              # no VIP
    ({"with_haproxy_load_balancing": True, "cluster_vip": "10.0.0.100"}, False, True, "etcd3", False),
    ({"vip_manager": {"enabled": True, "major_version": "x"}}, True, False, "etcd", True),
    ({"patroni": {"dcs_api": "etcd"}, "etcd": {"enable_v2": False}}, False, False, "etcd", False),
])
def test_auto_settings(pillar, vip_manager, pgbouncer, dcs_api, enable_v2):
    found = settings(dict(PILLAR, **pillar))["pgha"]
    assert found["vip_manager"]["enabled"] is vip_manager
    assert found["pgbouncer"]["enabled"] is pgbouncer
    assert found["patroni"]["dcs_api"] == dcs_api
    assert found["etcd"]["enable_v2"] is enable_v2


def test_tls():
    found = settings(dict(PILLAR, tls={"enabled": True}))
    tls_dir = found["pgha"]["paths"]["tls_dir"]
    assert found["etcd_scheme"] == "https"
    assert found["tls_files"] == {
        "ca": f"{tls_dir}/ca.crt",
        "postgres": {"cert": f"{tls_dir}/postgres.crt", "key": f"{tls_dir}/postgres.key"},
        "etcd": {"cert": f"{tls_dir}/etcd.crt", "key": f"{tls_dir}/etcd.key"}}
    assert found["etcd_client_urls"] == ["https://10.0.0.11:2379", "https://10.0.0.12:2379"]
    assert settings()["etcd_scheme"] == "http"


def test_etcd_client_urls_in_map_jinjas_order_or_the_existing_etcd():
    mine = {"B": entry("main", "etcd", address="10.0.0.2"), "a": entry("main", "etcd", address="10.0.0.1"),
            "c": entry("main", "etcd", address="10.0.0.3")}
    assert settings(mine=mine)["etcd_client_urls"] == [f"http://10.0.0.{n}:2379" for n in (1, 2, 3)]
    existing = ["http://10.0.0.21:2379", "http://10.0.0.22:2379"]
    found = settings(dict(PILLAR, dcs_exists=True, etcd={"endpoints": existing}))
    assert found["etcd_client_urls"] == existing


@pytest.mark.parametrize("pillar,components", [
    ({}, ["system", "repo", "etcd", "postgresql", "patroni"]),
    ({"cluster_vip": "10.0.0.100", "firewall": {"enabled": True}},
     ["system", "repo", "firewall", "etcd", "postgresql", "patroni", "vip_manager"]),
    ({"dcs_exists": True, "pgbackrest": {"enabled": True}}, ["system", "repo", "postgresql", "pgbackrest", "patroni"]),
    ({"with_haproxy_load_balancing": True, "roles": ["postgresql", "balancer"]},
     ["system", "repo", "postgresql", "patroni", "pgbouncer", "haproxy", "keepalived"]),
    ({"roles": ["pgbackrest"]}, ["system", "repo", "pgbackrest"]),
    ({"roles": ["balancer"], "confd": {"enabled": True}}, ["system", "repo", "haproxy", "keepalived", "confd"]),
])
def test_components_follow_the_roles(pillar, components):
    found = settings(dict(PILLAR, **pillar))
    assert found["components"] == components
    assert found["balancer_components"] == ["haproxy", "keepalived"] + (
        ["confd"] if pillar.get("confd") else [])


def test_no_repository_host_without_one():
    assert settings(mine={})["pgha"]["pgbackrest"]["repo_host"] == ""
    assert settings(mine={})["members"] == {role: {} for role in pgha_derive.MEMBER_ROLES}


# -- the execution module: the inputs on a minion ----------------------------------------------

PGHA_DERIVE = {f"pgha_derive.{name}": getattr(pgha_derive, name)
               for name in ("settings", "parameter_files", "defaults", "members", "member_entry")}


@pytest.fixture
def configure_loader_modules():
    files = {f"salt://pgha/parameters/{name}": (PARAMETERS / name).read_text()
             for name in ("defaults.yaml", "os_family/Debian.yaml", "osfinger/Debian-12.yaml")}
    return {pgha_settings: {
        "__salt__": {"cp.get_file_str": MagicMock(side_effect=lambda path: files.get(path, False)),
                     "mine.get": MagicMock(return_value=copy.deepcopy(MINE)),
                     "pgha.address": MagicMock(return_value="10.0.0.11")},
        "__pillar__": {"pgha": copy.deepcopy(PILLAR)},
        "__grains__": {"os_family": "Debian", "osfinger": "Debian-12", "id": "pg1"},
        "__context__": {}, "__utils__": PGHA_DERIVE}}


def test_render_is_the_derived_settings_and_reads_each_input_once():
    first = pgha_settings.render()
    assert first == pgha_derive.settings(layers(), PILLAR, MINE)
    first["pgha"]["cluster_name"] = "changed"      # a template that changes its copy
    assert pgha_settings.render()["pgha"]["cluster_name"] == "main"
    pgha_settings.__salt__["mine.get"].assert_called_once_with("*", "pgha_member")
    assert pgha_settings.__salt__["cp.get_file_str"].call_count == 3


def test_render_names_the_key_it_cannot_derive():
    pgha_settings.__pillar__["pgha"]["patroni"] = {"rto_profile": "quick"}
    with pytest.raises(CommandExecutionError, match="pgha:patroni:rto_profile"):
        pgha_settings.render()


def test_render_without_a_pgha_pillar_renders_the_defaults():
    pgha_settings.__pillar__.pop("pgha")
    assert pgha_settings.render()["pgha"]["cluster_name"] == "postgres-cluster"


def test_members_and_member():
    assert pgha_settings.members()["etcd"] == {"pg1": "10.0.0.11", "pg2": "10.0.0.12"}
    assert pgha_settings.members("Main")["etcd"] == {"other1": "10.9.0.1"}
    assert pgha_settings.member() == entry("main", "postgresql", "etcd", address="10.0.0.11")


def test_parameters_are_the_files_without_pillar():
    found = pgha_settings.parameters()
    assert found["cluster_name"] == "postgres-cluster" and found["postgresql"]["data_dir"] == ""


def test_not_loaded_without_the_utils():
    pgha_settings.__utils__.clear()
    assert pgha_settings.__virtual__()[0] is False


# -- map.jinja: a thin export of pgha_settings.render --------------------------------------------

def _map_jinja(salt):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(PARAMETERS.parents[1])),
                             extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    env.globals["raise"] = jinja_raise
    names = ", ".join(MAP_NAMES)
    return env.from_string(f'{{%- from "pgha/map.jinja" import {names} with context %}}'
                           f'{{{{ [{names}] | tojson }}}}').render(salt=salt, grains={"id": "pg1"}, tpldir="pgha")


MAP_NAMES = ("pgha", "members", "etcd_scheme", "tls_files", "etcd_client_urls", "components",
             "balancer_components")


def test_map_jinja_exports_what_render_returns():
    found = pgha_derive.settings(layers(), PILLAR, MINE)
    calls = []

    def render(tplroot):
        calls.append(tplroot)
        return found
    exported = json.loads(_map_jinja({"pgha_settings.render": render}))
    assert exported == json.loads(json.dumps([found[name] for name in MAP_NAMES]))
    assert calls == ["pgha"]


def test_map_jinja_without_pghas_modules_says_what_to_run():
    with pytest.raises(TemplateError, match=r"not synced to this minion .* run salt 'pg1' saltutil.sync_all"):
        _map_jinja({})


def test_a_preset_may_switch_synchronous_mode_and_pillar_wins():
    """Every preset sets synchronous_mode (safe: on, not strict): the map keeps rto_profiles
    for the state's comment, and a pillar value wins over the preset's."""
    found = settings(dict(PILLAR, patroni={"rto_profile": "safe"}))["pgha"]
    assert found["patroni"]["synchronous_mode"] is True and found["patroni"]["synchronous_mode_strict"] is False
    assert "synchronous_mode" in found["rto_profiles"]["safe"]["patroni"]
    found = settings(dict(PILLAR, patroni={"rto_profile": "norm"}))["pgha"]
    assert found["patroni"]["synchronous_mode"] is False
    found = settings(dict(PILLAR, patroni={"rto_profile": "safe", "synchronous_mode": False}))["pgha"]
    assert found["patroni"]["synchronous_mode"] is False
    found = settings(dict(PILLAR, patroni={"rto_profile": "fast", "synchronous_mode": True}))["pgha"]
    assert found["patroni"]["synchronous_mode"] is True
