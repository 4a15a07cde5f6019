"""
Every SLS renders on every (grains, pillar) of the matrix and its requisites hang together; the
matrix's pillars are valid; highstate follows the node's roles.
"""
import importlib.util

import pytest
import salt.utils.dictupdate
import yaml

from .render_helpers import (REPO, SLS, LEAF_SLS, GRAINS, ALL_GRAINS, PILLARS, ONLY_ON, INVALID_ON, COMBOS,
                             TLS_COMBOS, COMBO_IDS, _states, _fun)


REQUISITES = {"require", "watch", "onchanges", "onfail", "prereq", "listen", "use",
              "require_in", "watch_in", "onchanges_in", "onfail_in", "prereq_in", "listen_in",
              "require_any", "watch_any", "onchanges_any", "onfail_any"}
COMPILER_KEYS = {"state", "fun", "__id__", "__sls__", "__env__"}


# -- every SLS renders, and hangs together ------------------------------------------------------

@pytest.mark.parametrize("grains_id,pillar_id", [(g, p) for g in ALL_GRAINS for p in PILLARS
                                                 if g in ONLY_ON.get(p, GRAINS)])
def test_matrix_pillars_are_valid(grains_id, pillar_id):
    """The pillars rendered here are ones pgha.validate accepts (no test of nonsense), with the
    distribution's parameter files merged as on a minion of it, at the node's address."""
    spec = importlib.util.spec_from_file_location("pgha_module_for_render", REPO / "_modules" / "pgha.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # what Salt's loader hands the module: the public functions of _utils/*.py as __utils__
    module.__utils__ = {}
    for path in sorted((REPO / "_utils").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"{path.stem}_for_render", path)
        utils = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(utils)
        module.__utils__.update({f"{path.stem}.{name}": getattr(utils, name) for name in dir(utils)
                                 if callable(getattr(utils, name)) and not name.startswith("_")})
    parameters = REPO / "pgha" / "parameters"
    defaults = yaml.safe_load((parameters / "defaults.yaml").read_text())
    assert module.check(PILLARS[pillar_id]["pgha"], defaults) == []
    grains = ALL_GRAINS[grains_id]
    for layer in (f"os_family/{grains['os_family']}.yaml", f"osfinger/{grains['osfinger']}.yaml"):
        if (parameters / layer).is_file():
            defaults = salt.utils.dictupdate.merge(defaults, yaml.safe_load((parameters / layer).read_text()),
                                                   merge_lists=False)
    context = {"address": PILLARS[pillar_id]["pgha"]["address"], "os": grains["osfinger"],
               "os_family": grains["os_family"]}
    assert module.check(PILLARS[pillar_id]["pgha"], defaults, context) == INVALID_ON.get((grains_id, pillar_id), [])


def test_sls_list_is_complete():
    assert "pgha" in SLS and "pgha.etcd.gate" in SLS and "pgha.postgresql.users" in SLS
    assert LEAF_SLS <= set(SLS)


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_every_sls_renders(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    rendered_sls = {body["__sls__"] for body in states.values()}
    assert rendered_sls <= set(SLS)
    assert LEAF_SLS <= rendered_sls, f"SLS without states: {LEAF_SLS - rendered_sls}"
    for state_id, body in states.items():
        module, function, args = _fun(body)
        assert function, f"{state_id}: {module} has no function"
        assert state_id.startswith("pgha-") or module == "pgha_patroni", state_id
        # keys of the state compiler's own: an argument so named never reaches the function
        assert not COMPILER_KEYS & set(args), f"{state_id}: argument named {COMPILER_KEYS & set(args)}"


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_requisites_point_at_rendered_states(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    targets = set()
    for state_id, body in states.items():
        module, _, args = _fun(body)
        targets.add((module, state_id))
        if "name" in args:
            targets.add((module, args["name"]))
    for state_id, body in states.items():
        _, _, args = _fun(body)
        for key in REQUISITES & set(args):
            for requisite in args[key]:
                ((module, target),) = requisite.items()
                if module == "sls":
                    assert target in SLS, f"{state_id}: {key} sls {target} does not exist"
                else:
                    assert (module, target) in targets, f"{state_id}: {key} {module}: {target}"


@pytest.mark.parametrize("grains_id,pillar_id", TLS_COMBOS, ids=[f"{g}-{p}" for g, p in TLS_COMBOS])
def test_tls_renders_and_hangs_together(rendered, grains_id, pillar_id):
    """What the matrix checks of every pillar: all SLS render, every requisite points at a
    rendered state."""
    test_every_sls_renders(rendered, grains_id, pillar_id)
    test_requisites_point_at_rendered_states(rendered, grains_id, pillar_id)


# -- what highstate (`pgha`) applies for the node's roles -------------------------------------

@pytest.mark.parametrize("pillar_id,has_etcd,has_vip_manager", [
    ("typeb_vip", True, True),      # postgresql + etcd roles, VIP
    ("pip", True, False),           # postgresql + etcd roles, no VIP
    ("dcs_exists", False, True),    # postgresql role only: the etcd exists already
])
def test_highstate_follows_the_roles(rendered, pillar_id, has_etcd, has_vip_manager):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.repo", "pgha.postgresql.install", "pgha.patroni.install",
            "pgha.patroni.config", "pgha.patroni.service"} <= sls
    assert ({"pgha.etcd.install", "pgha.etcd.config", "pgha.etcd.service"} <= sls) is has_etcd
    assert bool(sls & {"pgha.etcd.install", "pgha.etcd.config", "pgha.etcd.service"}) is has_etcd
    assert ("pgha.vip_manager.service" in sls) is has_vip_manager
    # highstate never runs the orchestration's gates or the leader-only users
    assert not {s for s in sls if s.startswith("pgha.gate.")}
    assert "pgha.postgresql.users" not in sls
