"""Every SLS the formula names exists.

Collected without rendering (no Salt needed):

* orch/: the ``sls:`` of the ``salt.state`` steps, a single value (``- sls: pgha.gate.vip``)
  or a list (``- sls:`` followed by ``- pgha.system`` items), and ``- sls:`` requisites: SLS of
  the minions' file root (pgha/); the ``include:`` of an orchestration names another
  orchestration, a file of orch/ (``pgha.add_node``: orch/pgha/add_node.sls);
* pgha/: the items of ``include:`` lists and the ``- sls:`` requisites, absolute
  (``{{ tplroot }}.etcd.install``, ``{{ tplroot }}`` read as ``pgha``) or relative
  (``.install``, ``..gate``: against the including file's folder).

A name ``pgha.a.b`` must be the file pgha/a/b.sls or pgha/a/b/init.sls (under orch/ for an
orchestration's include). Items built from other
Jinja expressions (``{{ tplroot }}.{{ component }}``) are not checked here.
"""
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ORCH = REPO_ROOT / "orch"
STATES = REPO_ROOT / "pgha"

NAME = re.compile(r"^pgha(\.[A-Za-z0-9_]+)*$")
RELATIVE = re.compile(r"^(\.+)([A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)$")
SLS_KEY = re.compile(r"^(\s*)(?:-\s+)?sls:\s*(.*?)\s*$")
INCLUDE_KEY = re.compile(r"^(\s*)include:\s*$")
ITEM = re.compile(r"^(\s*)-\s+(.*?)\s*$")
JINJA_LINE = re.compile(r"^\s*(\{%|\{#|#)")
TPLROOT = re.compile(r"\{\{-?\s*tplroot\s*-?\}\}")


def _files(root):
    return sorted(p for p in root.rglob("*") if p.suffix in (".sls", ".jinja") and p.is_file())


def _resolve(value, path):
    """The absolute SLS name of one reference in file `path`, or None when it is not a plain name."""
    value = TPLROOT.sub("pgha", value.strip().strip("'\""))
    if NAME.match(value):
        return value
    match = RELATIVE.match(value)
    if match:
        folder = path.parent.relative_to(REPO_ROOT).parts
        up = len(match.group(1)) - 1
        if up >= len(folder):
            return "<outside the file root: %s>" % value
        return ".".join(folder[:len(folder) - up] + tuple(match.group(2).split(".")))
    return None


def _list_items(lines, start, key_indent):
    """(index, value) of the `- item` lines after line `start`, deeper than `key_indent`; Jinja
    and comment lines in between are skipped."""
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line.strip() or JINJA_LINE.match(line):
            continue
        match = ITEM.match(line)
        if not match or len(match.group(1)) <= key_indent:
            return
        yield index, match.group(2)


def _references(path):
    """(line number, raw value, resolved name, file root) of every SLS reference of one file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    orch = ORCH in path.parents
    for index, line in enumerate(lines):
        key = SLS_KEY.match(line) or INCLUDE_KEY.match(line)
        if not key:
            continue
        is_include = key.re is INCLUDE_KEY
        if not is_include and key.group(2):
            values = [(index, key.group(2))]
        else:
            values = list(_list_items(lines, index, len(key.group(1))))
        for number, value in values:
            name = _resolve(value, path)
            if name is not None:
                yield number + 1, value, name, ("orch" if orch and is_include else "")


def _exists(name, root=""):
    base = REPO_ROOT.joinpath(root, *name.split("."))
    return base.with_suffix(".sls").is_file() or (base / "init.sls").is_file()


def _all_references():
    found = []
    for top in (ORCH, STATES):
        for path in _files(top):
            for line, value, name, root in _references(path):
                found.append((path.relative_to(REPO_ROOT).as_posix(), line, value, name, root))
    return found


REFERENCES = _all_references()


def test_references_are_collected():
    """The collection sees the forms it is meant to see (a parser that finds nothing passes
    everything)."""
    names = {name for _, _, _, name, root in REFERENCES if not root}
    files = {path for path, _, _, _, _ in REFERENCES}
    assert len(REFERENCES) > 50
    assert any(path.startswith("orch/") for path in files)
    assert any(path.startswith("pgha/") for path in files)
    assert "pgha.gate.vip" in names                       # a single `- sls:` of a step
    assert "pgha.system" in names                         # an item of an `sls:` list
    assert "pgha.etcd.install" in names                   # `{{ tplroot }}.x.y` include
    assert "pgha.patroni.service" in names                # `.service` of pgha/patroni/init.sls
    assert ("orch/pgha/add_balancer.sls", "pgha.add_node", "orch") in {
        (path, name, root) for path, _, _, name, root in REFERENCES}    # an orchestration's include


@pytest.mark.parametrize("path,line,value,name,root", REFERENCES,
                         ids=["%s:%d:%s" % (p, n, v) for p, n, v, _, _ in REFERENCES])
def test_sls_reference_exists(path, line, value, name, root):
    where = "/".join(([root] if root else []) + name.split("."))
    assert _exists(name, root), "%s:%d names %s (%s): neither %s.sls nor %s/init.sls exists" % (
        path, line, value, name, where, where)


@pytest.mark.parametrize("value,path,expected", [
    ("{{ tplroot }}.etcd.install", "pgha/etcd/config.sls", "pgha.etcd.install"),
    (".install", "pgha/etcd/init.sls", "pgha.etcd.install"),
    ("..gate.vip", "pgha/etcd/init.sls", "pgha.gate.vip"),
    ("pgha.balancer", "orch/pgha/steps/add_node.sls", "pgha.balancer"),
    ("{{ tplroot }}.{{ component }}", "pgha/init.sls", None),
])
def test_resolve(value, path, expected):
    assert _resolve(value, REPO_ROOT / path) == expected


def test_exists_sls_and_init():
    assert _exists("pgha")
    assert _exists("pgha.etcd")
    assert _exists("pgha.etcd.install")
    assert not _exists("pgha.no_such_component")
    assert _exists("pgha.add_node", "orch")
    assert not _exists("pgha.add_node")
