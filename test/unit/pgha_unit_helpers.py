"""Helpers shared by pgha's unit tests (fake HTTP answers, a fake clock)."""
import copy
import io
import json
import urllib.error

import pgha_cluster
import pgha_patroni_config
import pgha_standby
import pgha_validate
import pgha_upgrade


class FakeResponse:
    """What urllib.request.urlopen returns, as a context manager."""

    def __init__(self, body, status=200):
        self.status = status
        self._body = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())

    def read(self):
        return self._body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def http_error(url, code, body):
    """An urllib HTTPError carrying a body (Patroni answers 503 with JSON)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return urllib.error.HTTPError(url, code, "error", {}, io.BytesIO(raw))


class FakeClock:
    """time.monotonic / time.sleep replacement: sleeping advances the clock, never blocks."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


# The smallest pillar pgha.check accepts on a database + etcd node: validation tests vary it.
MINIMAL_VALID = {
    "cluster_name": "main",
    "roles": ["postgresql", "etcd"],
    "postgresql": {"superuser": {"password": "su-secret"}, "replication_user": {"password": "repl-secret"}},
    "patroni": {"restapi": {"password": "rest-secret"}},
}


# _utils' functions as the loader hands them to _modules/pgha.py.
PGHA_UTILS = {**{f"pgha_cluster.{name}": getattr(pgha_cluster, name)
                 for name in ("check_cluster", "checked_part", "resolve_rto", "get", "merged",
                              "cluster_name_problem", "case_twins")},
              **{f"pgha_validate.{name}": getattr(pgha_validate, name)
                 for name in ("check", "check_restore_target")},
              # standby clusters (issue 20)
              **{f"pgha_standby.{name}": getattr(pgha_standby, name)
                 for name in ("cross_cluster_problems", "promote_problems", "summary", "dcs_conflict")},
              # issue 19: the major upgrade's decisions
              **{f"pgha_upgrade.{name}": getattr(pgha_upgrade, name)
                 for name in ("version_problems", "new_paths", "pillar_parameter_problems", "plan_steps",
                              "pre_check_problems", "rollback_decision", "parameters", "new_packages",
                              "rsync_argv", "statistics_argv", "version_gate")}}

# The Patroni configuration reader of _modules/pgha_patroni.py, pgha_upgrade.py, pgha_etcd.py.
PATRONI_CONFIG_UTILS = {f"pgha_patroni_config.{name}": getattr(pgha_patroni_config, name)
                        for name in ("path", "read", "require_confirm", "remove_from_dcs")}


def pgha_loader(module, pillar, **dunders):
    """configure_loader_modules' value for _modules/pgha.py with `pillar` as pillar pgha."""
    return {module: {"__salt__": {}, "__opts__": {"id": "pg1", "test": False},
                     "__pillar__": {"pgha": copy.deepcopy(pillar)}, "__context__": {},
                     "__utils__": PGHA_UTILS, **dunders}}
