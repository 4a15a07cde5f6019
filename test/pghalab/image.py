"""Node images and the offline package sources the nodes install from.

Everything is cached under CACHE, keyed by a hash of its inputs, and rebuilt when missing:
a cache hit saves minutes, a miss costs nothing but time.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .paths import CACHE, REPO_ROOT

HOOK = Path(__file__).with_name("image-hook.sh")

SUITES = {
    "bookworm": {
        "sources": [
            "deb http://deb.debian.org/debian bookworm main",
            "deb http://deb.debian.org/debian bookworm-updates main",
            "deb http://deb.debian.org/debian-security bookworm-security main",
        ],
        "postgresql": "15",
        # An older minor next to the newest (bookworm's main archive has 15.18, bookworm-security
        # 15.20): the minor-update scenario deploys pinned to it and pgha.update moves to 15.20.
        "older_versions": ["postgresql-15=15.18-0+deb12u1", "postgresql-client-15=15.18-0+deb12u1"],
    },
    "trixie": {
        "sources": [
            "deb http://deb.debian.org/debian trixie main",
            "deb http://deb.debian.org/debian trixie-updates main",
            "deb http://deb.debian.org/debian-security trixie-security main",
        ],
        "postgresql": "17",
        # Python 3.13 on the nodes: wheels built on the host (3.11) would not install there.
        "build_wheels": True,
        # what the PostgreSQL 18 built by pghalab.backport needs from Debian 13 beyond the
        # packages above (its io_uring support)
        "extra_packages": ["liburing2"],
    },
}
DEFAULT_SUITE = os.environ.get("PGHA_LAB_SUITE", "bookworm")

BASE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "iproute2", "iputils-ping", "procps", "psmisc",
    "python3", "python3-venv", "ca-certificates", "netbase", "less",
    # the load of bench-resilience --load (false failovers): the lab's, not the formula's
    "stress-ng",
]


def repo_packages(suite):
    pg = SUITES[suite]["postgresql"]
    return [
        f"postgresql-{pg}", f"postgresql-client-{pg}", "patroni", "python3-etcd",
        "python3-psycopg2", "etcd-server", "etcd-client", "vip-manager", "pgbackrest",
        "haproxy", "pgbouncer", "keepalived", "chrony", "nftables", "openssh-server",
        "openssh-client", "rsync", "curl", "locales",
        # test_roles_objects: PostGIS from its package (issue 22). With its dependencies (GDAL,
        # PROJ, GEOS, ...) about 50 more packages, ~100 MB in the repository, once per cache.
        f"postgresql-{pg}-postgis-3",
        # issue 24 (scenario monitor): the Prometheus chain pgha:monitoring installs
        "prometheus", "prometheus-alertmanager", "prometheus-node-exporter",
        "prometheus-postgres-exporter", "prometheus-pgbouncer-exporter",
    ] + SUITES[suite].get("extra_packages", [])


def _digest(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
    return h.hexdigest()[:12]


def _requirements():
    return [REPO_ROOT / "requirements-node.txt", REPO_ROOT / "requirements-patroni.txt"]


# A second Patroni version for the pip-update test: a pip run of its own (its pin conflicts
# with requirements-patroni.txt's in one resolver run).
PREVIOUS_PATRONI = REPO_ROOT / "requirements-patroni-previous.txt"


def ensure_wheelhouse(log=print):
    """A pip wheelhouse for the nodes: Salt (timelib only ships sources) and pip-installed Patroni."""
    reqs = _requirements()
    key = _digest(sys.version_info[:2], *(r.read_bytes() for r in reqs + [PREVIOUS_PATRONI]))
    target = CACHE / f"wheelhouse-{key}"
    if (target / ".complete").exists():
        return target
    log(f"building wheelhouse {target}")
    tmp = Path(tempfile.mkdtemp(dir=CACHE.parent if CACHE.exists() else None, prefix="wh-"))
    CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(tmp)]
    for r in reqs:
        cmd += ["-r", str(r)]
    subprocess.run(cmd, check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(tmp), "-r", str(PREVIOUS_PATRONI)],
                   check=True)
    for r in reqs + [PREVIOUS_PATRONI]:
        shutil.copy(r, tmp / r.name)
    (tmp / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    shutil.move(str(tmp), target)
    return target


def ensure_image(suite=None, log=print):
    """Return (rootfs, apt_repo): a bare node image and the flat repository its packages come from."""
    suite = suite or DEFAULT_SUITE
    if suite not in SUITES:
        raise SystemExit(f"unknown suite {suite!r} (known: {', '.join(SUITES)})")
    build_wheels = SUITES[suite].get("build_wheels", False)
    if build_wheels:
        # The image hook builds them with the node's own Python, from these requirements.
        wheel_inputs = [r.read_bytes() for r in _requirements() + [PREVIOUS_PATRONI]]
    else:
        wheelhouse = ensure_wheelhouse(log)
        wheel_inputs = [wheelhouse.name]
    packages = repo_packages(suite)
    older = SUITES[suite].get("older_versions", [])
    key = _digest(suite, BASE_PACKAGES, packages, older, HOOK.read_bytes(), *wheel_inputs)
    target = CACHE / f"image-{suite}-{key}"
    if (target / ".complete").exists():
        return target / "rootfs", target / "repo"
    log(f"building node image {target} (mmdebstrap, a few minutes)")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix=f".image-{suite}-"))
    if build_wheels:
        wheelhouse = tmp / "wheels"
        wheelhouse.mkdir()
        for r in _requirements() + [PREVIOUS_PATRONI]:
            shutil.copy(r, wheelhouse / r.name)
    env = dict(os.environ, WHEELHOUSE=str(wheelhouse), REPO_OUT=str(tmp / "repo"),
               REPO_PACKAGES=" ".join(packages), REPO_OLDER_VERSIONS=" ".join(older),
               BUILD_WHEELS="1" if build_wheels else "",
               HOST_CA_BUNDLE=os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or "")
    cmd = ["mmdebstrap", "--variant=apt", "--mode=root", "--quiet",
           "--include=" + ",".join(BASE_PACKAGES),
           f"--customize-hook={HOOK} \"$1\"",
           suite, str(tmp / "rootfs"), *SUITES[suite]["sources"]]
    subprocess.run(cmd, check=True, env=env)
    # apt's file: method reads a flat repository: debs plus a Packages index.
    with open(tmp / "repo" / "Packages", "wb") as out:
        subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=tmp / "repo",
                       stdout=out, stderr=subprocess.DEVNULL, check=True)
    shutil.copytree(wheelhouse, tmp / "repo" / "wheels")
    if build_wheels:
        shutil.rmtree(wheelhouse)
    (tmp / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target / "rootfs", target / "repo"
