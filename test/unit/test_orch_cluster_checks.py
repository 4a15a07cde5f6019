"""
orch/pgha/cluster_checks.jinja, the orchestrations' cluster-wide checks, rendered with Jinja
(sandboxed and strict as Salt does, the ``do`` extension, Salt's ``raise``) and a fake ``salt``: the master's pillar cache
(``cache.pillar``), and ``saltutil.cmd`` answering with the real :py:func:`pgha.check_cluster`.
The rest (state.orchestrate running pgha.prepare first) is the lab's.
"""
from pathlib import Path

import jinja2
import jinja2.sandbox
import pgha
import pytest
import salt.utils.jinja
import yaml
from salt.exceptions import TemplateError

REPO = Path(__file__).resolve().parents[2]
SECRETS = {"postgresql": {"version": 15, "superuser": {"password": "su-secret"},
                          "replication_user": {"password": "repl-secret"}},
           "patroni": {"restapi": {"password": "rest-secret"}}}


def _minion(*roles, **settings):
    pillar = {"pgha": {"cluster_name": "main", "roles": list(roles), **yaml.safe_load(yaml.safe_dump(SECRETS))}}
    for key, value in settings.items():
        if isinstance(value, dict):
            pillar["pgha"].setdefault(key, {}).update(value)
        else:
            pillar["pgha"][key] = value
    return pillar


class FakeSalt(dict):
    """The salt functions cluster.jinja and cluster_checks.jinja call on the master."""

    def __init__(self, cached, defaults, answer=None):
        super().__init__()
        self.cached, self.sent, self.warnings = cached, [], []
        self.update({
            "pillar.get": lambda key, default=None: default,
            "saltutil.runner": self._runner,
            "saltutil.cmd": lambda tgt, fun, kwarg=None, **_: self._cmd(tgt, fun, kwarg, defaults, answer),
            "log.warning": self.warnings.append,
        })

    def _runner(self, fun, tgt=None, tgt_type=None):
        assert fun == "cache.pillar"
        if tgt == "I@pgha:cluster_name:*":
            return self.cached
        assert tgt == "I@pgha:cluster_name:main" and tgt_type == "compound"
        return self.cached

    def _cmd(self, tgt, fun, kwarg, defaults, answer):
        assert fun == "pgha.check_cluster"
        self.sent.append((tgt, kwarg))
        if answer is not None:
            return {tgt: answer}
        return {tgt: {"ret": pgha.check_cluster(kwarg["pillars"], defaults), "retcode": 0}}


def _render(fake):
    # as Salt renders: sandboxed, undefined names are errors
    env = jinja2.sandbox.SandboxedEnvironment(loader=jinja2.FileSystemLoader(str(REPO / "orch")),
                                              extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    env.globals["raise"] = salt.utils.jinja.jinja_raise
    return env.get_template("pgha/cluster_checks.jinja").render(salt=fake)


def test_a_valid_cluster_renders_and_the_check_sees_no_password(defaults):
    fake = FakeSalt({"pg2": _minion("postgresql", "etcd"), "pg1": _minion("postgresql", "etcd"),
                     "pg3": _minion("postgresql", "etcd")}, defaults)
    assert _render(fake).strip() == ""
    assert fake.warnings == []
    (tgt, kwarg), = fake.sent
    assert tgt == "pg1"
    assert kwarg["pillars"]["pg2"] == {"roles": ["postgresql", "etcd"], "postgresql": {"version": 15}}
    assert "secret" not in repr(kwarg)


def test_only_roles_and_the_cluster_keys_are_sent(defaults):
    """The template's key list is pgha.CLUSTER_KEYS plus roles."""
    settings = {"with_haproxy_load_balancing": False, "dcs_exists": False, "cluster_vip": "10.0.0.100",
                "patroni": {"synchronous_mode": True, "synchronous_mode_strict": False,
                            "synchronous_node_count": 1, "rto_profile": "fast", "ttl": 30,
                            "loop_wait": 5, "retry_timeout": 10, "primary_start_timeout": 20,
                            "maximum_lag_on_failover": 0},
                "haproxy": {"stats_password": "stats-secret"}}
    fake = FakeSalt({n: _minion("postgresql", "etcd", **settings) for n in ("pg1", "pg2", "pg3")}, defaults)
    _render(fake)
    sent = fake.sent[0][1]["pillars"]["pg1"]
    paths = {f"{key}:{sub}" for key, value in sent.items() if isinstance(value, dict) for sub in value}
    paths |= {key for key, value in sent.items() if not isinstance(value, dict)}
    assert paths == {"roles", *pgha.CLUSTER_KEYS}


def test_a_problem_stops_the_orchestration(defaults):
    fake = FakeSalt({"pg1": _minion("postgresql", "etcd"), "pg2": _minion("postgresql", "etcd"),
                     "pg3": _minion("postgresql")}, defaults)
    with pytest.raises(TemplateError) as err:
        _render(fake)
    assert "cluster main is not valid (no node was changed):\npgha:roles: 2 minions have the etcd role" \
        in str(err.value)


def test_warnings_are_logged(defaults):
    fake = FakeSalt({"pg1": _minion("postgresql", "etcd"), "pg2": _minion("postgresql")}, defaults)
    assert _render(fake).strip() == ""
    assert fake.warnings == ["cluster main: pgha:roles: 1 minion has the etcd role (pg1): the cluster "
                             "stops when it fails; use 3 or 5 members"]


@pytest.mark.parametrize("answer", [{"ret": "'pgha.check_cluster' is not available.", "retcode": 254}, {}],
                         ids=["not-synced", "no-answer"])
def test_a_failed_check_stops_the_orchestration(defaults, answer):
    fake = FakeSalt({"pg1": _minion("postgresql", "etcd")}, defaults, answer=answer)
    with pytest.raises(TemplateError) as err:
        _render(fake)
    assert "pgha.check_cluster on pg1 failed for cluster main (no node was changed)" in str(err.value)
