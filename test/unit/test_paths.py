"""_utils/pgha_paths.py: which directories pgha may delete (the removal states' second belt)."""
import posixpath

import pytest
from pgha_paths import SYSTEM_DIRS, system_dir_problem


@pytest.mark.parametrize("path", [
    "/var/lib/postgresql/16/main", "/var/lib/postgresql/16/main/", "/data/pg", "/srv/pg/main",
    "/var/lib/etcd/pgha", "/var/lib/etcd/default.etcd", "/pgwal", "/home/postgres/data", "/opt/pg/data"])
def test_data_directories_may_go(path):
    assert system_dir_problem(path) is None


@pytest.mark.parametrize("path,words", [
    ("/", "is or contains the system directory /"),
    ("//", "is or contains the system directory /"),
    ("/etc", "is or contains the system directory /etc"),
    ("/etc/", "is or contains the system directory /etc"),
    ("/var/lib", "is or contains the system directory /var/lib"),
    ("/var/lib/postgresql/..", "is or contains the system directory /var/lib"),
    ("/var/lib/pg/../../..", "is or contains the system directory /"),
    ("//usr//lib", "is or contains the system directory /usr/lib"),
    ("/home", "is or contains the system directory /home"),
    ("/root", "is or contains the system directory /root"),
    ("/tmp", "is or contains the system directory /tmp"),
    ("/var/lib/postgresql", "is or contains the system directory /var/lib/postgresql"),
    ("/var/lib/etcd", "is or contains the system directory /var/lib/etcd"),
    ("/boot", "is or contains the system directory /boot"),
])
def test_system_directories_are_refused(path, words):
    problem = system_dir_problem(path)
    assert problem.startswith(words) and repr(path) in problem


def test_every_parent_of_a_system_directory_is_one():
    # so that "is one" also means "contains none": a path above a system directory is listed
    for path in SYSTEM_DIRS - {"/"}:
        assert posixpath.dirname(path) in SYSTEM_DIRS, path


@pytest.mark.parametrize("path", ["", "relative/dir", "~/data", None, 5, "/data/pg\n/etc", "/data\0"])
def test_not_an_absolute_path(path):
    assert system_dir_problem(path)
