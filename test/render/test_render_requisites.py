"""Every ``sls:`` requisite names an SLS that holds a state in that render: Salt refuses to run
a highstate whose requisite points at an SLS with none ("Referenced state does not exist"),
and show_sls, which the other render tests read, does not resolve requisites. An SLS whose
states are all behind an ``if`` (pgha.patroni.log with the journal) must not be required
unconditionally. An SLS that only includes others counts when Salt records it as the includer
(``__sls_included_from__``), as Salt's requisite resolver does."""
import pytest

from .render_helpers import COMBOS, HIGHSTATE_COMBOS, _states

REQUISITES = ("require", "watch", "onchanges", "onfail", "prereq", "use", "listen",
              "require_any", "watch_any", "onchanges_any", "onfail_any")


def _sls_requisites(body):
    for key, value in body.items():
        if key.startswith("__") or not isinstance(value, list):
            continue
        for item in value:
            if not isinstance(item, dict):
                continue
            for kind, targets in item.items():
                if kind in REQUISITES and isinstance(targets, list):
                    for target in targets:
                        if isinstance(target, dict) and "sls" in target:
                            yield kind, target["sls"]


@pytest.mark.parametrize("kind,combo", [("highstate", c) for c in HIGHSTATE_COMBOS]
                         + [("show_sls", c) for c in COMBOS])
def test_sls_requisites_name_an_sls_with_states(rendered, kind, combo):
    states = _states(rendered, kind, *combo)
    # Salt 3008 also counts the states of the SLS an include-only SLS pulls in first
    # (__sls_included_from__, as salt.utils.requisite does)
    with_states = {sls for body in states.values() if isinstance(body, dict)
                   for sls in [body.get("__sls__"), *(body.get("__sls_included_from__") or [])]}
    missing = sorted({(state_id, req, sls) for state_id, body in states.items() if isinstance(body, dict)
                      for req, sls in _sls_requisites(body) if sls not in with_states})
    assert not missing, f"requisites on an SLS with no state in this render: {missing}"
