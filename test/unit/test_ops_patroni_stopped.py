"""pgha.ops.patroni_stopped renders valid YAML in every stage, on the leader and elsewhere (the
stage is decided on the node, when pgha.remove's step runs)."""
import json
from pathlib import Path

import jinja2
import pytest
import yaml

SLS = Path(__file__).resolve().parents[2] / "pgha" / "ops" / "patroni_stopped.sls"


def _render(stage, leader):
    source = SLS.read_text().replace('{%- from tplroot ~ "/map.jinja" import pgha with context %}', "")
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.filters["json"] = json.dumps
    salt = {"pillar.get": lambda key, default="": stage, "pgha_patroni.is_leader": lambda: leader}
    text = env.from_string(source).render(tpldir="pgha/ops", salt=salt, pgha={"services": {"patroni": "patroni"}})
    return yaml.safe_load(text)["pgha-ops-patroni-dead"]


@pytest.mark.parametrize("stage,leader,stops", [
    ("replicas", False, True), ("replicas", True, False),
    ("leader", True, True), ("leader", False, False),
    ("", True, True), ("", False, True)])
def test_each_stage_stops_the_right_nodes(stage, leader, stops):
    state = _render(stage, leader)
    assert list(state) == (["service.dead"] if stops else ["test.succeed_without_changes"])
