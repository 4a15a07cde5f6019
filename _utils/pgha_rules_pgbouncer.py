"""
pgha's rules for PgBouncer (issue 21): the settings the installed PgBouncer lacks, named with
the version that has them, and what PgBouncer needs in either layout (Type B runs it too when
``pgbouncer:enabled`` is true). Each function returns problems as (key, message); ``cfg`` is the
merged pgha settings.

The node's PgBouncer version: ``context["pgbouncer_version"]`` (the installed binary, read by
``pgha_pgbouncer.version`` on a re-run) wins over ``pgbouncer:version`` (parameters/osfinger: the
version the distro's package sources hold; pillar may set it for another repository).
"""
import os.path
import re
import runpy

# pgha_load.sibling: Salt loads each utils file alone, so siblings are loaded by path (pgha_load).
_sibling = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgha_load.py"))["sibling"]

_get = _sibling("pgha_cluster").get
_rules = _sibling("pgha_rules")

# The first PgBouncer release with each setting, from PgBouncer's changelog:
# - so_reuseport: 1.12.0 (2019-10-17), what pgbouncer:processes > 1 needs;
# - auth_dbname: 1.19.0 (2023-05-04; pgbouncer/pgbouncer#764 was merged 2023-01-03, after
#   1.18.0 of 2022-12-12);
# - max_prepared_statements: 1.21.0 (2023-10-16, "The one with prepared statements").
# Each entry: pgha key, PgBouncer's setting, (major, minor), "is it used" for the merged settings.
MIN_VERSIONS = (
    ("pgbouncer:processes", "so_reuseport", (1, 12), lambda cfg: _int(_get(cfg, "pgbouncer:processes")) > 1),
    ("pgbouncer:auth_dbname", "auth_dbname", (1, 19), lambda cfg: bool(_get(cfg, "pgbouncer:auth_dbname"))),
    ("pgbouncer:max_prepared_statements", "max_prepared_statements", (1, 21),
     lambda cfg: _get(cfg, "pgbouncer:max_prepared_statements") is not None),
)
VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_version(text):
    """``(major, minor)`` of a PgBouncer version (``'1.18'``, ``'1.24.1'``, ``'PgBouncer 1.18.0'``
    without the name), or None."""
    found = VERSION_RE.match(str(text or "").strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def node_version(cfg, context):
    """(version text, where it came from) of this node's PgBouncer, or (None, None) unknown."""
    installed = (context or {}).get("pgbouncer_version")
    if parse_version(installed):
        return str(installed), "installed"
    listed = _get(cfg, "pgbouncer:version")
    if isinstance(listed, str) and parse_version(listed):
        return listed, "pgbouncer:version"
    return None, None


def versions(cfg, context):
    """Problems as (key, message) with a PgBouncer setting this node's PgBouncer lacks. Not
    checked where PgBouncer does not run, or when its version is unknown."""
    if not _rules.pgbouncer_on(cfg) or "postgresql" not in _rules._roles(cfg):
        return []
    version, source = node_version(cfg, context)
    if not version:
        return []
    have = parse_version(version)
    where = (f"the installed PgBouncer is {version}" if source == "installed" else
             f"this node's package sources have PgBouncer {version} (pgbouncer:version)")
    problems = []
    for key, setting, needed, used in MIN_VERSIONS:
        if used(cfg) and have < needed:
            problems.append((key, f"needs PgBouncer >= {needed[0]}.{needed[1]} ({setting}), but {where} on "
                             f"{(context or {}).get('os') or 'this OS'}: leave it unset, or install a newer "
                             "PgBouncer (pkg_repo) and set pgbouncer:version"))
    return problems


def settings(cfg):
    """Problems as (key, message) across PgBouncer's keys, wherever it runs (Type A or B)."""
    if not _rules.pgbouncer_on(cfg):
        return []
    problems = []
    password = _get(cfg, "pgbouncer:auth_user:password")
    # Type A's rule (pgha_rules.core) already asks for it; Type B with PgBouncer needs it too:
    # the auth_query role logs in with it, and it is the admin console's user either way.
    if not cfg.get("with_haproxy_load_balancing") and (
            password is None or (isinstance(password, str) and password.strip() == "")):
        problems.append(("pgbouncer:auth_user:password", "is missing or empty: pgbouncer:enabled needs it "
                         "(the auth_query role, and PgBouncer's admin user)"))
    if _get(cfg, "pgbouncer:auth_user:enabled") is False and _get(cfg, "pgbouncer:auth_dbname"):
        problems.append(("pgbouncer:auth_dbname", "is where auth_query runs, but pgbouncer:auth_user:enabled "
                         "is false (userlist mode): leave it empty"))
    if _get(cfg, "pgbouncer:switchover_pause") is True:
        # measured (make bench-pgbouncer, docs/measurements.md): after a paused switchover the new
        # leader's PgBouncer left new clients unanswered, in session and transaction pool modes;
        # refused until that is understood, since it leaves 6432 not serving
        problems.append(("pgbouncer:switchover_pause", "is not available yet: in the lab, new clients through "
                         "port 6432 got no answer after a paused switchover (session and transaction pool "
                         "modes); leave it false (a switchover without it: about 2 s of write "
                         "unavailability, no acknowledged commit lost)"))
    elif _get(cfg, "pgbouncer:switchover_pause") is True and _int(_get(cfg, "pgbouncer:processes")) > 1:
        problems.append(("pgbouncer:switchover_pause", "cannot reach every process when pgbouncer:processes "
                         "> 1: the admin console's TCP connection lands on one process of the shared port"))
    return problems
