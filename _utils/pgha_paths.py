"""
Which paths pgha may delete, pure Python (no ``__salt__``). pgha.remove deletes ``data_dir``,
``wal_dir`` and etcd's data directory with ``file.absent``, which deletes a tree without asking:
a ``data_dir: /var/lib`` typed by mistake would take every service's data with it. The settings
validator refuses such paths before any change; the removal states ask again on the node
(``pgha_removal.refusals``), the second belt. Synced with ``saltutil.sync_utils``.
"""
import posixpath

# Directories of the operating system and of other software, with all their parents. A path
# that is one of them, or contains one (``/`` contains them all), is never a data directory
# pgha may delete.
SYSTEM_DIRS = frozenset((
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
    "/lost+found", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/snap", "/srv",
    "/sys", "/tmp", "/usr", "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib64", "/usr/libexec",
    "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/sbin", "/usr/share", "/usr/src",
    "/var", "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log",
    "/var/mail", "/var/opt", "/var/run", "/var/spool", "/var/tmp", "/var/www",
    # the distributions' parents of every PostgreSQL cluster and etcd's data
    "/var/lib/postgresql", "/var/lib/pgsql", "/var/lib/etcd",
))


def system_dir_problem(path):
    """
    Why ``path`` must not be deleted as a data directory (None when it may be): it is not an
    absolute path, or it is or contains a system directory (``SYSTEM_DIRS``). ``..`` and
    repeated slashes are resolved first, lexically (``/var/lib/pg/../..`` is
    ``/var``); symbolic links are the caller's to resolve (``os.path.realpath`` on the node).
    """
    if not isinstance(path, str) or not path.startswith("/"):
        return f"must be an absolute path (got {path!r})"
    if "\n" in path or "\0" in path:
        return f"must not contain a newline or NUL (got {path!r})"
    # posixpath.normpath keeps a leading '//' (POSIX leaves it implementation-defined); Linux
    # treats it as '/'.
    normal = posixpath.normpath("/" + path.lstrip("/"))
    # SYSTEM_DIRS holds every parent of its directories too, so "contains a system directory"
    # is "is one of them" (a unit test keeps it so).
    if normal in SYSTEM_DIRS:
        return f"is or contains the system directory {normal} (got {path!r})"
    return None
