"""The major upgrade's guard in every rendered highstate (issue 19): pgha.postgresql's and
pgha.patroni's first state is the version gate, passing where no cluster of another major runs
(the render host has none), and the orchestration-only SLS fails when applied alone."""
import pytest

from .render_helpers import GRAINS, _states


@pytest.mark.parametrize("grains_id", GRAINS)
def test_the_version_gate_runs_first_and_passes_without_a_cluster(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    gate = states["pgha-postgresql-version-gate"]
    assert gate["__sls__"] == "pgha.postgresql.version_gate"
    (fun, args), = [(k, v) for k, v in gate.items() if k == "test"]
    # order 1: before the repository, the packages and Patroni's files of the same run
    assert "succeed_without_changes" in args and {"order": 1} in args


def test_the_upgrade_stages_are_not_applied_alone(rendered):
    states = _states(rendered, "show_sls", "debian13", "typeb_vip")
    body = states["pgha-ops-upgrade-not-alone"]
    assert "fail_without_changes" in body["test"]
