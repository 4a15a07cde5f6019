"""A second PostgreSQL major for the upgrade scenario (issue 19), built once and cached.

Debian 13 ships PostgreSQL 17 only; forky's postgresql-18 binaries need a newer libc. Its
source package builds on Debian 13 with Debian 13's own build dependencies (checked in
/work/shared/lab-notes.md), so the lab builds it (``nocheck``, no JIT) in a
throwaway Debian 13 root, keeps the .debs under CACHE, keyed by the build's inputs (and records
the source's .dsc hash next to them), and serves them as a second flat apt repository, like a
site's own mirror of PGDG. The formula knows nothing of it: the scenario's pillar names it in
pgha:pkg_repos. Minutes of compiling on a miss: not part of `make test`.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .image import _digest
from .paths import CACHE

HOOK = Path(__file__).with_name("backport-hook.sh")
BACKPORTS = {
    # (suite, source package): the suite whose *source* it comes from, build profiles
    # libpq5 and libpq-dev are built too: postgresql-client-18 needs libpq5 >= 18 (PGDG, too,
    # serves the newest major's libpq5 to every major; it is backward compatible)
    ("trixie", "postgresql-18"): {"from": "forky", "profiles": "nocheck pkg.postgresql.nollvm"},
}
# libpq5: Debian 13's in the build root (harmless now that the build makes its own libpq5;
# kept so the cache key of the built packages stays)
BUILD_PACKAGES = ["build-essential", "dpkg-dev", "fakeroot", "ca-certificates", "libpq5"]


def available(suite, source):
    return (suite, source) in BACKPORTS


def ensure_backport(suite, source, log=print):
    """The directory of a flat apt repository (debs + Packages: ``<cache entry>/repo``) holding
    ``source`` built for ``suite``; built when the cache misses."""
    spec = BACKPORTS[(suite, source)]
    key = _digest(suite, source, spec["from"], spec["profiles"], BUILD_PACKAGES, HOOK.read_bytes())
    target = CACHE / f"backport-{suite}-{source}-{key}"
    if (target / ".complete").exists():
        return target / "repo"
    log(f"building {source} from {spec['from']}'s source for {suite} into {target} (once; tens of minutes)")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix=f".backport-{suite}-"))
    env = dict(os.environ, BACKPORT_SOURCE=source, BACKPORT_FROM=spec["from"],
               BACKPORT_PROFILES=spec["profiles"], BACKPORT_OUT=str(tmp / "repo"))
    try:
        subprocess.run(["mmdebstrap", "--variant=apt", "--mode=root", "--quiet",
                        "--include=" + ",".join(BUILD_PACKAGES), f"--customize-hook={HOOK} \"$1\"",
                        suite, str(tmp / "rootfs"), f"deb http://deb.debian.org/debian {suite} main"],
                       check=True, env=env)
        shutil.rmtree(tmp / "rootfs")
        with open(tmp / "repo" / "Packages", "wb") as out:
            subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=tmp / "repo", stdout=out,
                           stderr=subprocess.DEVNULL, check=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    (tmp / ".complete").touch()
    tmp.chmod(0o755)    # mkdtemp's 0700: apt's _apt user reads the repository too
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target / "repo"


# The lab's workaround for the archive's versions (never pgha's): Debian 13's PostgreSQL 17.12
# stamps a pg_attver option on every column that 18.6 does not know; pgha.upgrade's options
# pre-check refuses it. The upgrade tests and bench-upgrade clear it from the columns pg_dump
# restores (outside the catalogs), as superuser, on the primary, in each database.
CLEAR_PG_ATTVER = (
    "UPDATE pg_attribute a SET attoptions = NULLIF(array(SELECT o FROM unnest(a.attoptions) o "
    "WHERE o NOT LIKE 'pg_attver=%'), '{}') FROM pg_class c WHERE c.oid = a.attrelid AND "
    "a.attoptions::text LIKE '%pg_attver=%' AND a.attnum > 0 AND "
    "c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema', 'pg_toast')")
