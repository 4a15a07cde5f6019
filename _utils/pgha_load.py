"""
How pgha's utils modules reach each other: the one implementation of that loader.

Salt loads each file of ``_utils`` on its own, as ``salt.loaded.ext.utils.<name>``, and gives a
utils module no ``__utils__``; the files' directory (a minion's or the master's
``extmods/utils``) is on ``sys.path`` only while Salt imports one of them. So a utils module
loads its siblings by path, with :py:func:`sibling`. It reaches this file the same way, with
one bootstrap line (``runpy`` runs the copy next to it, so a newly synced loader is the one used):

    _sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]

Unit tests import ``_utils`` from ``sys.path``; the siblings are still loaded here, by path.
"""
import importlib.util
import os.path
import sys

__virtualname__ = "pgha_load"


def __virtual__():
    return __virtualname__


def sibling(name):
    """The utils module ``name`` next to this file, loaded once per version of the file: it is
    kept in ``sys.modules`` under its name and modification time, so a running minion loads the
    new file after ``saltutil.sync_utils`` while the modules that imported the old one keep it."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    key = f"pgha_utils_{name}_{os.stat(path).st_mtime_ns}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[key]    # a half-imported module must not be found next time
            raise
    return sys.modules[key]
