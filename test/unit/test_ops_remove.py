"""pgha.ops.remove, pgha.ops.restore and pgha.ops.leave refuse on the node: without the
orchestration's confirmation naming this node's own cluster, when a directory to delete is or
contains a system directory, and (etcd stage) while Patroni is still here. A refusal renders one
failing state and nothing that changes the node. The SLS files are rendered with Jinja and the
real pgha_removal module, its Salt functions mocked."""
import json
from pathlib import Path

import jinja2
import pgha_paths
import pgha_removal
import pytest
import yaml

OPS = Path(__file__).resolve().parents[2] / "pgha" / "ops"
PGHA = {
    "cluster_name": "main", "roles": ["postgresql", "etcd"], "dcs_exists": False,
    "services": {"patroni": "patroni", "vip_manager": "vip-manager", "pgbouncer": "pgbouncer",
                 "keepalived": "keepalived", "haproxy": "haproxy", "etcd": "etcd"},
    "paths": {"patroni_config": "/etc/patroni/config.yml", "pgpass": "/var/lib/postgresql/.pgpass",
              "patroni_bin": "/usr/bin/patroni"},
    "postgresql": {"data_dir": "/var/lib/postgresql/16/main", "wal_dir": "", "bin_dir": "/usr/lib/postgresql/16/bin",
                   "port": 5432},
    "pgbackrest": {"stanza": "main", "schedule": [{"type": "full"}, {"type": "diff"}]},
    "pgbouncer": {"processes": 1},
    "etcd": {"data_dir": "/var/lib/etcd/default"},
}


class Node:
    """The node the SLS renders on: its pillar's pgha_ops, Patroni's service and files."""

    def __init__(self, ops, patroni_running=False, patroni_enabled=False, files=()):
        self.ops, self.files = ops, set(files)
        self.salt = {
            "pillar.get": self.pillar_get,
            "service.status": lambda name: patroni_running and name == "patroni",
            "service.enabled": lambda name: patroni_enabled and name == "patroni",
            "file.file_exists": lambda path: path in self.files,
            "pgha_removal.refusals": pgha_removal.refusals,
        }

    def pillar_get(self, key, default=None):
        cur = {"pgha_ops": self.ops}
        for part in key.split(":"):
            if not isinstance(cur, dict) or part not in cur:
                return default
            cur = cur[part]
        return cur


@pytest.fixture
def render(monkeypatch):
    def _render(sls, node, pgha=None):
        monkeypatch.setattr(pgha_removal, "__salt__", node.salt, raising=False)
        monkeypatch.setattr(pgha_removal, "__pillar__", {"pgha_ops": node.ops}, raising=False)
        monkeypatch.setattr(pgha_removal, "__utils__",
                            {"pgha_paths.system_dir_problem": pgha_paths.system_dir_problem}, raising=False)
        source = (OPS / sls).read_text().replace(
            '{%- from tplroot ~ "/map.jinja" import pgha with context %}', "")
        env = jinja2.Environment(extensions=["jinja2.ext.do"])
        env.filters["json"] = json.dumps
        text = env.from_string(source).render(tpldir="pgha/ops", salt=node.salt, pgha=pgha or PGHA)
        return yaml.safe_load(text) or {}
    return _render


def _functions(states):
    return sorted(fun for state in states.values() for fun in state if not fun.startswith("__"))


def _refused(states):
    assert len(states) == 1, states
    (sid, state), = states.items()
    args = {k: v for item in state["test.fail_without_changes"] for k, v in item.items()}
    return sid, args.get("comment", "")


@pytest.mark.parametrize("stage", ["postgres", "forget", "etcd"])
@pytest.mark.parametrize("ops", [{}, {"confirm_remove": "Main"}, {"confirm_remove": "*"}, {"confirm_remove": "ma*"},
                                 {"confirm_remove": "other"}, {"confirm_remove": True}, {"confirm_remove": ["main"]}])
def test_remove_without_this_clusters_pin_is_refused(render, stage, ops):
    states = render("remove.sls", Node(dict(ops, stage=stage, remove_data=True)))
    sid, comment = _refused(states)
    assert sid == "pgha-ops-remove-refused"
    assert "this node belongs to cluster 'main'" in comment and "pgha_ops:confirm_remove" in comment


def test_remove_with_the_pin_removes(render):
    states = render("remove.sls", Node({"stage": "postgres", "remove_data": True, "confirm_remove": "main"}))
    assert "pgha-ops-remove-/var/lib/postgresql/16/main-absent" in states
    assert _functions(states).count("service.dead") == 3 + 3     # the services, the backup timers
    states = render("remove.sls", Node({"stage": "forget", "confirm_remove": "main"},
                                       files=["/etc/patroni/config.yml"]))
    assert _functions(states) == ["pgha_patroni.cluster_removed"]
    states = render("remove.sls", Node({"stage": "etcd", "remove_data": True, "confirm_remove": "main"}))
    assert _functions(states) == ["file.absent", "service.dead"]


def test_forget_accepts_the_restores_pin(render):
    # pgha.restore clears the DCS with the same stage
    states = render("remove.sls", Node({"stage": "forget", "confirm_restore": "main"}))
    assert list(states) == ["pgha-ops-remove-cluster-forgotten"]
    states = render("remove.sls", Node({"stage": "postgres", "confirm_restore": "main"}))
    assert list(states) == ["pgha-ops-remove-refused"]


@pytest.mark.parametrize("key,path", [("data_dir", "/var/lib"), ("data_dir", "/"), ("wal_dir", "/etc"),
                                      ("wal_dir", "/var/lib/postgresql/../..")])
def test_remove_never_deletes_a_system_directory(render, key, path):
    pgha = dict(PGHA, postgresql=dict(PGHA["postgresql"], **{key: path}))
    states = render("remove.sls", Node({"stage": "postgres", "remove_data": True, "confirm_remove": "main"}), pgha)
    _, comment = _refused(states)
    assert f"{path} is not deleted: it is or contains the system directory" in comment
    # without remove_data the directories are not deleted, so nothing is in the way
    states = render("remove.sls", Node({"stage": "postgres", "confirm_remove": "main"}), pgha)
    assert "pgha-ops-remove-refused" not in states


def test_remove_refuses_a_symbolic_link_to_a_system_directory(render, tmp_path):
    link = tmp_path / "main"
    link.symlink_to("/etc")
    pgha = dict(PGHA, postgresql=dict(PGHA["postgresql"], data_dir=str(link)))
    states = render("remove.sls", Node({"stage": "postgres", "remove_data": True, "confirm_remove": "main"}), pgha)
    _, comment = _refused(states)
    assert f"{link} is not deleted (it resolves to /etc)" in comment


@pytest.mark.parametrize("running,enabled,files,words", [
    (True, False, (), "service patroni is running"),
    (False, True, (), "service patroni is enabled"),
    (False, False, ("/etc/patroni/config.yml",), "/etc/patroni/config.yml exists")])
def test_etcd_stays_while_patroni_is_here(render, running, enabled, files, words):
    node = Node({"stage": "etcd", "remove_data": True, "confirm_remove": "main"},
                patroni_running=running, patroni_enabled=enabled, files=files)
    _, comment = _refused(render("remove.sls", node))
    assert words in comment and "remove_postgres" in comment


def test_etcd_stage_on_a_node_without_etcd_does_nothing(render):
    pgha = dict(PGHA, roles=["postgresql"])
    node = Node({"stage": "etcd", "confirm_remove": "main"}, patroni_running=True)
    assert _functions(render("remove.sls", node, pgha)) == ["test.nop"]


def test_remove_applied_alone_fails(render):
    states = render("remove.sls", Node({}))
    assert list(states) == ["pgha-ops-remove-not-alone"] and _functions(states) == ["test.fail_without_changes"]


@pytest.mark.parametrize("stage", ["primary", "replica"])
def test_restore_needs_its_pin(render, stage):
    states = render("restore.sls", Node({"stage": stage, "confirm_remove": "main"}))
    sid, comment = _refused(states)
    assert sid == "pgha-ops-restore-refused" and "pgha_ops:confirm_restore" in comment
    states = render("restore.sls", Node({"stage": stage, "confirm_restore": "main"}))
    assert _functions(states) == ["pgha_pgbackrest.restored"]
    pgha = dict(PGHA, postgresql=dict(PGHA["postgresql"], data_dir="/var"))
    _, comment = _refused(render("restore.sls", Node({"stage": stage, "confirm_restore": "main"}), pgha))
    assert "/var is not deleted" in comment


def test_leave_keeps_a_system_directory(render):
    states = render("leave.sls", Node({"etcd_removed": True}))
    assert "pgha-ops-leave-etcd-data-absent" in states
    pgha = dict(PGHA, etcd={"data_dir": "/var/lib"})
    states = render("leave.sls", Node({"etcd_removed": True}), pgha)
    assert "pgha-ops-leave-etcd-data-absent" not in states
    assert "/var/lib is not deleted" in str(states["pgha-ops-leave-etcd-data-refused"])


def test_remove_disables_and_deletes_the_backup_timers(render):
    """pgha.remove's postgres stage stops and disables pgBackRest's timers (one per schedule
    entry) and WAL-G's, and deletes their units, before anything else goes."""
    states = render("remove.sls", Node({"stage": "postgres", "confirm_remove": "main"}))
    timers = {sid: state for sid, state in states.items() if sid.endswith("-timer-dead")}
    names = sorted(item["name"] for state in timers.values() for item in state["service.dead"] if "name" in item)
    assert names == ["pgha-pgbackrest-diff.timer", "pgha-pgbackrest-full.timer", "pgha-wal-g-backup.timer"]
    for state in timers.values():
        assert {"enable": False} in state["service.dead"]
    absent = states["pgha-ops-remove-pgha-wal-g-backup-units-absent"]["file.absent"]
    assert {"names": ["/etc/systemd/system/pgha-wal-g-backup.timer",
                      "/etc/systemd/system/pgha-wal-g-backup.service"]} in absent
    assert "pgha-ops-remove-timers-systemd-reloaded" in states
    # a refusal removes nothing, timers included
    states = render("remove.sls", Node({"stage": "postgres"}))
    assert list(states) == ["pgha-ops-remove-refused"]
    # the etcd stage leaves them to the postgres stage
    states = render("remove.sls", Node({"stage": "etcd", "confirm_remove": "main"}))
    assert not any(sid.endswith("-timer-dead") for sid in states)
