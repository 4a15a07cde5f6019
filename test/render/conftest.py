"""
The fixtures of the render tests: a fake Patroni leader, a fake mine module, one
minion config per combination, and every salt-call the tests read (``rendered``),
run once per session. The matrix and the helpers are in render_helpers.py.
"""
import http.server
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import salt.payload
import yaml

from .render_helpers import (REPO, SALT_CALL, NODE_ADDRESS, SLS, CONTAINER_GRAINS, ALL_GRAINS, PILLARS,
                             LEADER_PILLARS, MINION_IDS, REPO_PILLARS, FAKE_MINES, COMBOS, TLS_COMBOS,
                             TLS_TEMPLATE_COMBOS, SYSTEM_COMBOS, HIGHSTATE_COMBOS, TEMPLATE_COMBOS,
                             WAL_G_JSON_COMBOS, BOOTSTRAP_PROBE, PGBACKREST_CONF_PROBE,
                             MAP_TEMPLATES, FILE_RENDERS, RENDERED_FILES, ALL_PILLARS, SENTINEL_COMBOS,
                             WATCHDOG_COMBOS, FAKE_DOWNGRADES)


def _ssh_identity(minion):
    user = "pgbackrest" if minion == "repo1" else "postgres"
    return {"user": user, "key": f"ssh-ed25519 AAAAkey{minion} {user}@{minion}",
            "host_key": f"ssh-ed25519 AAAAhost{minion}"}


# A test double of Salt's mine module: mine.get over the table of minions (minion option
# pgha_test_mine), by a glob over minion IDs (pgha_settings reads every minion's pgha_member)
# or a list of minion IDs. Pillar (I@) and compound targets are refused: they ignore case and
# expand globs, so pgha never finds a cluster's minions with them.
_FAKE_MINE = '''
import fnmatch

__virtualname__ = "mine"


def __virtual__():
    return __virtualname__


def get(tgt, fun, tgt_type="glob", exclude_minion=False):
    if tgt_type == "glob":
        matched = [minion for minion in __opts__["pgha_test_mine"] if fnmatch.fnmatch(minion, tgt)]
    elif tgt_type == "list":
        matched = tgt.split(",") if isinstance(tgt, str) else list(tgt)
    else:
        raise ValueError("fake mine: unsupported tgt_type %r (target %r)" % (tgt_type, tgt))
    return {minion: data[fun] for minion, data in __opts__["pgha_test_mine"].items()
            if minion in matched and fun in data}
'''

# A test double of pgha_packages: the pins' refusals the combination's minion option
# pgha_test_downgrades names, in place of the render host's installed packages.
_FAKE_PACKAGES = '''
__virtualname__ = "pgha_packages"


def __virtual__():
    return __virtualname__


def downgrades(pinned_pkgs=None, patroni=None):
    return list(__opts__.get("pgha_test_downgrades") or [])
'''


# -- fixtures: a fake Patroni leader, one minion config per combination, the salt-calls -------

class _LeaderHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = json.dumps({"state": "running", "role": "primary", "timeline": 1}).encode()
        self.send_response(200 if self.path == "/patroni" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def patroni_leader():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LeaderHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _minion_config(base, grains_id, pillar_id, leader_port):
    minion_id = MINION_IDS.get(pillar_id, "pg1")
    root = base / f"{grains_id}-{pillar_id}"
    pillar_dir = root / "pillar"
    cachedir = root / "cache"
    pillar_dir.mkdir(parents=True)
    cachedir.mkdir()
    (pillar_dir / "top.sls").write_text("base:\n  '*':\n    - pgha\n")
    (pillar_dir / "pgha.sls").write_text(yaml.safe_dump(ALL_PILLARS[pillar_id]))
    patroni_config = root / "patroni.yml"
    if pillar_id in LEADER_PILLARS:
        patroni_config.write_text(yaml.safe_dump(
            {"restapi": {"connect_address": f"127.0.0.1:{leader_port}"}}))
    # the local mine (mine.get with file_client: local): this node published its address and
    # its membership (pgha_settings.member)
    own = ALL_PILLARS[pillar_id]["pgha"]
    member = {"cluster_name": own.get("cluster_name"), "roles": own.get("roles", []), "address": NODE_ADDRESS}
    with open(cachedir / "datastore", "wb") as f:
        salt.payload.dump({"mine_cache": {"pgha_address": NODE_ADDRESS, "pgha_member": member}}, f)
    module_dirs = [str(REPO / "_modules")]
    extra = {}
    if pillar_id in FAKE_MINES:     # a whole cluster in the mine: the fake mine module
        module_dirs.insert(0, str(base / "fake_mine"))
        extra["pgha_test_mine"] = {
            minion: {"pgha_address": address,
                     # a 4th item: more of the entry (issue 24: metrics endpoints, monitored clusters)
                     "pgha_member": {"cluster_name": cluster, "roles": roles, "address": address,
                                     **(more[0] if more else {})},
                     **({"pgha_ssh": _ssh_identity(minion)} if pillar_id in REPO_PILLARS else {})}
            for minion, (address, cluster, roles, *more) in FAKE_MINES[pillar_id].items()}
    if pillar_id in FAKE_DOWNGRADES:  # the pins' verdict: the test double of pgha_packages
        module_dirs.insert(0, str(base / "fake_packages"))
        extra["pgha_test_downgrades"] = FAKE_DOWNGRADES[pillar_id]
    config = {
        "id": minion_id,
        "file_client": "local",
        "root_dir": str(root),
        "cachedir": str(cachedir),
        "log_file": str(root / "minion.log"),
        "log_level_logfile": "warning",
        "file_roots": {"base": [str(base / "file_roots")]},
        "pillar_roots": {"base": [str(pillar_dir)]},
        "module_dirs": module_dirs,
        "states_dirs": [str(REPO / "_states")],
        "utils_dirs": [str(REPO / "_utils")],
        "grains": {**ALL_GRAINS, **CONTAINER_GRAINS}[grains_id] | {"id": minion_id},
        "enable_fqdns_grains": False,
        "pgha_patroni.config": str(patroni_config),
        **extra,
    }
    (root / "minion").write_text(yaml.safe_dump(config))
    return root


def _salt_call(confdir, *args):
    proc = subprocess.run(
        [str(SALT_CALL), "--local", "-c", str(confdir), "--out=json", "--log-level=error", *args],
        capture_output=True, text=True, timeout=180, check=False)
    try:
        data = json.loads(proc.stdout)["local"]
    except (ValueError, KeyError):
        data = None
    return {"rc": proc.returncode, "data": data, "stderr": proc.stderr[-4000:],
            "stdout": proc.stdout[-4000:]}


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, patroni_leader):
    """Every salt-call the render tests need, run in parallel once per session."""
    assert SALT_CALL.exists(), f"no salt-call next to {sys.executable}"
    base = tmp_path_factory.mktemp("render")
    # file_roots holds only the formula: listing it (include resolution) stays fast.
    (base / "file_roots").mkdir()
    (base / "file_roots" / "pgha").symlink_to(REPO / "pgha")
    (base / "fake_mine").mkdir()
    (base / "fake_mine" / "mine.py").write_text(_FAKE_MINE)
    (base / "fake_packages").mkdir()
    (base / "fake_packages" / "pgha_packages.py").write_text(_FAKE_PACKAGES)
    (base / "file_roots" / "probe").mkdir()
    (base / "file_roots" / "probe" / "bootstrap_wal_g.jinja").write_text(BOOTSTRAP_PROBE)
    (base / "file_roots" / "probe" / "pgbackrest_conf.jinja").write_text(PGBACKREST_CONF_PROBE)
    confdirs = {combo: _minion_config(base, *combo, patroni_leader)
                for combo in dict.fromkeys(COMBOS + TLS_COMBOS + SYSTEM_COMBOS + SENTINEL_COMBOS + WATCHDOG_COMBOS)}
    jobs = {("show_sls",) + combo: (confdirs[combo], "state.show_sls", ",".join(SLS))
            for combo in COMBOS + TLS_COMBOS + SENTINEL_COMBOS}
    jobs.update({("highstate",) + combo: (confdirs[combo], "state.show_sls", "pgha")
                 for combo in HIGHSTATE_COMBOS})
    jobs.update({("system",) + combo: (confdirs[combo], "state.show_sls", "pgha.system")
                 for combo in SYSTEM_COMBOS})
    jobs.update({("template",) + combo: (confdirs[combo], "slsutil.renderer",
                                         "salt://pgha/patroni/files/config.yml.jinja",
                                         "default_renderer=jinja", "tplroot=pgha")
                 for combo in TEMPLATE_COMBOS + TLS_TEMPLATE_COMBOS})
    jobs.update({("watchdog",) + combo: (confdirs[combo], "state.show_sls", "pgha.patroni.watchdog")
                 for combo in WATCHDOG_COMBOS})
    jobs.update({("template",) + combo: (confdirs[combo], "slsutil.renderer",
                                         "salt://pgha/patroni/files/config.yml.jinja",
                                         "default_renderer=jinja", "tplroot=pgha")
                 for combo in WATCHDOG_COMBOS})
    jobs.update({("walg_json",) + combo: (confdirs[combo], "slsutil.renderer",
                                          "salt://pgha/wal_g/files/walg.json.jinja",
                                          "default_renderer=jinja", "tplroot=pgha")
                 for combo in WAL_G_JSON_COMBOS})
    jobs[("bootstrap_wal_g", "debian12", "wal_g")] = (
        confdirs[("debian12", "wal_g")], "slsutil.renderer", "salt://probe/bootstrap_wal_g.jinja",
        "default_renderer=jinja", "tplroot=pgha")
    for combo in (("debian12", "clone"), ("debian13", "standby_repo"), ("debian13", "standby_repo_main")):
        jobs[("pgbackrest_conf",) + combo] = (
            confdirs[combo], "slsutil.renderer", "salt://probe/pgbackrest_conf.jinja",
            "default_renderer=jinja", "tplroot=pgha")
    for state_id, grains_id, pillar_id in FILE_RENDERS:       # templates that read the map
        source, context = MAP_TEMPLATES[state_id]
        jobs[("file", state_id, grains_id, pillar_id)] = (
            confdirs[(grains_id, pillar_id)], "slsutil.renderer", f"salt://{source}", "default_renderer=jinja",
            *(f"{key}={json.dumps(value)}" for key, value in context.items()))
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) + 1)) as pool:
        futures = {key: pool.submit(_salt_call, *args) for key, args in jobs.items()}
        results = {key: future.result() for key, future in futures.items()}
    RENDERED_FILES.update({key: value for key, value in results.items() if key[0] == "file"})
    return results
