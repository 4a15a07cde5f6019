"""
Render every SLS file of the formula, offline, with ``salt-call --local``: a pillar matrix
(Type B with a VIP, Patroni from pip, an existing etcd) on Debian 12, Debian 13 and RHEL 9
grains. One ``state.show_sls`` subprocess per (grains, pillar) renders all SLS at once; a few
more render ``pgha`` alone (what highstate applies for the roles) and the Patroni config file.

Nothing is applied: show_sls only renders and compiles. The mine is a local datastore file
(this node, pg1, published 10.0.0.11); ``pgha_patroni.is_leader`` asks a fake Patroni REST API
on 127.0.0.1 for the pillar that manages users, and a missing config file (not the leader) for
the others.
"""
import copy
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import salt.payload
import yaml

REPO = Path(__file__).resolve().parents[2]
SALT_CALL = Path(sys.executable).with_name("salt-call")
NODE_ADDRESS = "10.0.0.11"
VIP = "10.0.0.100"
EXISTING_ETCD = ["http://10.0.0.21:2379", "http://10.0.0.22:2379"]


def _sls_names():
    names = []
    for path in sorted((REPO / "pgha").rglob("*.sls")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "init":
            parts.pop()
        names.append(".".join(parts))
    return names


SLS = _sls_names()
# SLS files that hold states of their own (the others only include); each must show up.
LEAF_SLS = {
    "pgha.repo", "pgha.etcd.install", "pgha.etcd.config", "pgha.etcd.service",
    "pgha.postgresql.install", "pgha.postgresql.users", "pgha.patroni.install",
    "pgha.patroni.config", "pgha.patroni.service", "pgha.vip_manager.install",
    "pgha.vip_manager.config", "pgha.vip_manager.service", "pgha.gate.etcd",
    "pgha.gate.patroni", "pgha.gate.prepared", "pgha.gate.vip",
}

GRAINS = {
    "debian12": {"os_family": "Debian", "os": "Debian", "osfinger": "Debian-12",
                 "osmajorrelease": 12, "oscodename": "bookworm"},
    "debian13": {"os_family": "Debian", "os": "Debian", "osfinger": "Debian-13",
                 "osmajorrelease": 13, "oscodename": "trixie"},
    "rhel9": {"os_family": "RedHat", "os": "RedHat",
              "osfinger": "Red Hat Enterprise Linux-9", "osmajorrelease": 9},
}

_SECRETS = {
    "postgresql": {"superuser": {"password": "su-secret"},
                   "replication_user": {"password": "repl-secret"}},
    "patroni": {"restapi": {"password": "rest-secret"}},
}


def _pillar(**pgha):
    merged = copy.deepcopy(_SECRETS)
    for key, value in pgha.items():
        if isinstance(value, dict) and key in merged:
            merged[key].update(value)
        else:
            merged[key] = value
    return {"pgha": {"cluster_name": "main", "address": NODE_ADDRESS, **merged}}


PILLARS = {
    # Type B defaults with a VIP; this node leads, so users/databases/extensions render.
    "typeb_vip": _pillar(
        roles=["postgresql", "etcd"], cluster_vip=VIP,
        pkg_repo={"url": "http://mirror.example/pgha", "trusted": True},
        postgresql={
            "users": [{"name": "app", "password": "app-secret", "createdb": True}],
            "databases": [{"name": "appdb", "owner": "app"}],
            "extensions": [{"name": "pg_trgm", "db": "appdb"}],
            "pg_hba": [{"type": "host", "database": "appdb", "user": "app",
                        "address": "10.0.0.0/24", "method": "scram-sha-256"}],
        }),
    # Patroni from PyPI in a virtualenv, no VIP (so the etcd v3 API).
    "pip": _pillar(
        roles=["postgresql", "etcd"],
        patroni={"install_method": "pip"},
        pip={"index_url": "http://mirror.example/simple", "no_index": False}),
    # An existing etcd (no etcd role) and vip-manager 2 on a named interface.
    "dcs_exists": _pillar(
        roles=["postgresql"], cluster_vip=VIP, vip_interface="eth1", dcs_exists=True,
        etcd={"endpoints": EXISTING_ETCD}, vip_manager={"major_version": 2}),
}
LEADER_PILLARS = {"typeb_vip"}

COMBOS = [(g, p) for g in GRAINS for p in PILLARS]
COMBO_IDS = [f"{g}-{p}" for g, p in COMBOS]
# `pgha` alone (the highstate of the node's roles), and the rendered Patroni config file.
HIGHSTATE_COMBOS = [("debian12", p) for p in PILLARS]
TEMPLATE_COMBOS = [("debian12", "typeb_vip"), ("rhel9", "typeb_vip"), ("debian12", "dcs_exists")]

REQUISITES = {"require", "watch", "onchanges", "onfail", "prereq", "listen", "use",
              "require_in", "watch_in", "onchanges_in", "onfail_in", "prereq_in", "listen_in",
              "require_any", "watch_any", "onchanges_any", "onfail_any"}


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
    root = base / f"{grains_id}-{pillar_id}"
    pillar_dir = root / "pillar"
    cachedir = root / "cache"
    pillar_dir.mkdir(parents=True)
    cachedir.mkdir()
    (pillar_dir / "top.sls").write_text("base:\n  '*':\n    - pgha\n")
    (pillar_dir / "pgha.sls").write_text(yaml.safe_dump(PILLARS[pillar_id]))
    patroni_config = root / "patroni.yml"
    if pillar_id in LEADER_PILLARS:
        patroni_config.write_text(yaml.safe_dump(
            {"restapi": {"connect_address": f"127.0.0.1:{leader_port}"}}))
    # the local mine (mine.get with file_client: local): this node published its address
    with open(cachedir / "datastore", "wb") as f:
        salt.payload.dump({"mine_cache": {"pgha_address": NODE_ADDRESS}}, f)
    config = {
        "id": "pg1",
        "file_client": "local",
        "root_dir": str(root),
        "cachedir": str(cachedir),
        "log_file": str(root / "minion.log"),
        "log_level_logfile": "warning",
        "file_roots": {"base": [str(base / "file_roots")]},
        "pillar_roots": {"base": [str(pillar_dir)]},
        "module_dirs": [str(REPO / "_modules")],
        "states_dirs": [str(REPO / "_states")],
        "grains": {**GRAINS[grains_id], "id": "pg1"},
        "enable_fqdns_grains": False,
        "pgha_patroni.config": str(patroni_config),
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
    """Every salt-call this module needs, run in parallel once per session."""
    assert SALT_CALL.exists(), f"no salt-call next to {sys.executable}"
    base = tmp_path_factory.mktemp("render")
    # file_roots holds only the formula: listing it (include resolution) stays fast.
    (base / "file_roots").mkdir()
    (base / "file_roots" / "pgha").symlink_to(REPO / "pgha")
    confdirs = {combo: _minion_config(base, *combo, patroni_leader) for combo in COMBOS}
    jobs = {("show_sls",) + combo: (confdirs[combo], "state.show_sls", ",".join(SLS))
            for combo in COMBOS}
    jobs.update({("highstate",) + combo: (confdirs[combo], "state.show_sls", "pgha")
                 for combo in HIGHSTATE_COMBOS})
    jobs.update({("template",) + combo: (confdirs[combo], "slsutil.renderer",
                                         "salt://pgha/patroni/files/config.yml.jinja",
                                         "default_renderer=jinja", "tplroot=pgha")
                 for combo in TEMPLATE_COMBOS})
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) + 1)) as pool:
        futures = {key: pool.submit(_salt_call, *args) for key, args in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def _states(rendered, kind, grains_id, pillar_id):
    result = rendered[(kind, grains_id, pillar_id)]
    data = result["data"]
    assert isinstance(data, dict) and data, (
        f"render failed (rc={result['rc']}):\n"
        + ("\n".join(data) if isinstance(data, list) else result["stdout"]) + "\n" + result["stderr"])
    assert result["rc"] == 0, result["stderr"]
    return data


def _fun(body):
    """(module, function, {arg: value}) of one state in show_sls output."""
    for key, value in body.items():
        if key.startswith("__"):
            continue
        args = {}
        function = None
        for item in value:
            if isinstance(item, str):
                function = item
            else:
                args.update(item)
        args.pop("order", None)     # added by the compiler, not by the SLS
        return key, function, args
    raise AssertionError(f"no state function in {body}")


def _state(states, state_id):
    assert state_id in states, f"{state_id} not rendered; got {sorted(states)}"
    return _fun(states[state_id])


# -- every SLS renders, and hangs together ------------------------------------------------------

@pytest.mark.parametrize("pillar_id", PILLARS)
def test_matrix_pillars_are_valid(pillar_id):
    """The pillars rendered here are ones pgha.validate accepts (no test of nonsense)."""
    spec = importlib.util.spec_from_file_location("pgha_module_for_render", REPO / "_modules" / "pgha.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defaults = yaml.safe_load((REPO / "pgha" / "parameters" / "defaults.yaml").read_text())
    assert module.check(PILLARS[pillar_id]["pgha"], defaults) == []


def test_sls_list_is_complete():
    assert "pgha" in SLS and "pgha.gate.etcd" in SLS and "pgha.postgresql.users" in SLS
    assert LEAF_SLS <= set(SLS)


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_every_sls_renders(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    rendered_sls = {body["__sls__"] for body in states.values()}
    assert rendered_sls <= set(SLS)
    assert LEAF_SLS <= rendered_sls, f"SLS without states: {LEAF_SLS - rendered_sls}"
    for state_id, body in states.items():
        module, function, _ = _fun(body)
        assert function, f"{state_id}: {module} has no function"
        assert state_id.startswith("pgha-") or module == "pgha_patroni", state_id


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_requisites_point_at_rendered_states(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    targets = set()
    for state_id, body in states.items():
        module, _, args = _fun(body)
        targets.add((module, state_id))
        if "name" in args:
            targets.add((module, args["name"]))
    for state_id, body in states.items():
        _, _, args = _fun(body)
        for key in REQUISITES & set(args):
            for requisite in args[key]:
                ((module, target),) = requisite.items()
                if module == "sls":
                    assert target in SLS, f"{state_id}: {key} sls {target} does not exist"
                else:
                    assert (module, target) in targets, f"{state_id}: {key} {module}: {target}"


# -- concrete facts, per distribution and pillar ---------------------------------------------

PG = {  # grains -> (packages, data_dir, bin_dir, patroni config, distro service, etcd env)
    "debian12": (["postgresql-15", "postgresql-client-15"], "/var/lib/postgresql/15/main",
                 "/usr/lib/postgresql/15/bin", "/etc/patroni/config.yml", "postgresql",
                 "/etc/default/etcd"),
    "debian13": (["postgresql-17", "postgresql-client-17"], "/var/lib/postgresql/17/main",
                 "/usr/lib/postgresql/17/bin", "/etc/patroni/config.yml", "postgresql",
                 "/etc/default/etcd"),
    "rhel9": (["postgresql15-server", "postgresql15-contrib"], "/var/lib/pgsql/15/data",
              "/usr/pgsql-15/bin", "/etc/patroni/patroni.yml", "postgresql-15",
              "/etc/etcd/etcd.conf"),
}


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_postgresql_and_patroni_per_distribution(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    pkgs, data_dir, _, patroni_config, distro_service, _ = PG[grains_id]

    assert _state(states, "pgha-postgresql-pkgs-installed") == (
        "pkg", "installed", {"pkgs": pkgs, "require": [{"sls": "pgha.repo"}]})
    assert _state(states, "pgha-postgresql-distro-service-dead")[2]["name"] == distro_service
    if GRAINS[grains_id]["os_family"] == "Debian":
        module, _, args = _state(states, "pgha-postgresql-createcluster-conf-managed")
        assert args["name"] == "/etc/postgresql-common/createcluster.conf"
        assert "create_main_cluster = false" in args["contents"]
        assert args["require_in"] == [{"pkg": "pgha-postgresql-pkgs-installed"}]
    else:
        assert "pgha-postgresql-createcluster-conf-managed" not in states

    # the file with every password: owner-only and never diffed
    module, function, args = _state(states, "pgha-patroni-config-file-managed")
    assert (module, function) == ("file", "managed")
    assert args["name"] == patroni_config
    assert args["mode"] == "0600"
    assert args["show_changes"] is False
    assert (args["user"], args["group"]) == ("postgres", "postgres")
    assert args["source"] == "salt://pgha/patroni/files/config.yml.jinja"
    assert args["context"] == {"tplroot": "pgha"}
    assert _state(states, "pgha-patroni-data-dir-managed")[2]["name"] == data_dir
    assert _state(states, "pgha-patroni-data-dir-managed")[2]["mode"] == "0700"
    assert _state(states, "pgha-patroni-config-dir-managed")[2]["name"] == "/etc/patroni"

    # a config change reloads Patroni, never restarts it
    module, function, args = _state(states, "pgha-patroni-service-running")
    assert (module, function, args["name"]) == ("service", "running", "patroni")
    assert args["reload"] is True and args["enable"] is True
    assert args["watch"] == [{"sls": "pgha.patroni.config"}]


@pytest.mark.parametrize("grains_id", GRAINS)
def test_patroni_from_packages(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    expected = {"Debian": ["patroni", "python3-etcd", "python3-psycopg2"],
                "RedHat": ["patroni", "patroni-etcd"]}[GRAINS[grains_id]["os_family"]]
    assert _state(states, "pgha-patroni-pkgs-installed")[2]["pkgs"] == expected
    assert "pgha-patroni-pip-installed" not in states
    assert "pgha-patroni-unit-file-managed" not in states


@pytest.mark.parametrize("grains_id", GRAINS)
def test_patroni_from_pip(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "pip")
    deps = {"Debian": ["python3-venv"],
            "RedHat": ["python3"]}[GRAINS[grains_id]["os_family"]]
    assert "pgha-patroni-pkgs-installed" not in states
    assert _state(states, "pgha-patroni-pip-deps-installed")[2]["pkgs"] == deps
    module, _, args = _state(states, "pgha-patroni-venv-created")
    assert (module, args["name"], args["creates"]) == (
        "cmd", "python3 -m venv /opt/patroni", "/opt/patroni/bin/pip")
    module, function, args = _state(states, "pgha-patroni-pip-installed")
    assert (module, function) == ("pip", "installed")
    # no VIP: no vip-manager 1.x, so Patroni uses the etcd v3 API
    assert args["pkgs"] == ["patroni[etcd3]==4.1.5", "psycopg2-binary"]
    assert args["bin_env"] == "/opt/patroni"
    assert args["index_url"] == "http://mirror.example/simple"
    assert args["no_index"] is False
    assert "find_links" not in args
    module, _, args = _state(states, "pgha-patroni-unit-file-managed")
    assert args["name"] == "/etc/systemd/system/patroni.service"
    assert args["context"] == {"patroni_bin": "/opt/patroni/bin/patroni",
                               "config": PG[grains_id][3], "user": "postgres"}


@pytest.mark.parametrize("grains_id", GRAINS)
def test_etcd_members_from_the_mine(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    assert _state(states, "pgha-etcd-pkgs-installed")[2]["pkgs"] == (
        ["etcd-server", "etcd-client"] if GRAINS[grains_id]["os_family"] == "Debian" else ["etcd"])
    module, _, args = _state(states, "pgha-etcd-config-file-managed")
    assert args["name"] == PG[grains_id][5]
    assert args["context"]["me"] == NODE_ADDRESS
    assert args["context"]["members"] == {"pg1": NODE_ADDRESS}
    assert args["context"]["etcd"]["cluster_token"] == "etcd-main"
    assert args["context"]["etcd"]["enable_v2"] is True           # vip-manager 1.x reads v2
    assert _state(states, "pgha-etcd-data-dir-managed")[2]["mode"] == "0700"
    assert _state(states, "pgha-gate-etcd-healthy") == (
        "pgha_etcd", "healthy", {"endpoints": [f"http://{NODE_ADDRESS}:2379"], "timeout": 90})


@pytest.mark.parametrize("grains_id", GRAINS)
def test_existing_etcd(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "dcs_exists")
    assert _state(states, "pgha-gate-etcd-healthy")[2]["endpoints"] == EXISTING_ETCD
    context = _state(states, "pgha-vip-manager-unit-dropin-managed")[2]["context"]
    assert context["endpoints"] == EXISTING_ETCD
    assert context["interface"] == "eth1"
    assert context["vm"]["major_version"] == 2
    # no etcd role: this node is no etcd member
    assert _state(states, "pgha-etcd-config-file-managed")[2]["context"]["members"] == {}


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_vip(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    if PILLARS[pillar_id]["pgha"].get("cluster_vip"):
        assert _state(states, "pgha-gate-vip-ready") == (
            "pgha_patroni", "vip_ready", {"name": VIP, "timeout": 60})
        assert "pgha-vip-manager-not-used" not in states
        module, _, args = _state(states, "pgha-vip-manager-unit-dropin-managed")
        assert args["name"] == "/etc/systemd/system/vip-manager.service.d/pgha.conf"
        assert args["context"]["vip"] == VIP and args["context"]["scope"] == "main"
        assert args["context"]["interface"] not in ("", "None", None)
    else:
        assert _state(states, "pgha-gate-vip-none")[:2] == ("test", "nop")
        assert _state(states, "pgha-vip-manager-not-used")[:2] == ("test", "nop")


@pytest.mark.parametrize("grains_id", GRAINS)
def test_package_repository(rendered, grains_id):
    module, function, args = _state(_states(rendered, "show_sls", grains_id, "typeb_vip"),
                                    "pgha-repo-pkgrepo-managed")
    assert (module, function) == ("pkgrepo", "managed")
    if GRAINS[grains_id]["os_family"] == "Debian":
        assert args["name"] == "deb [trusted=yes] http://mirror.example/pgha ./"
        assert args["file"] == "/etc/apt/sources.list.d/pgha.list"
    else:
        assert (args["name"], args["baseurl"], args["gpgcheck"]) == (
            "pgha", "http://mirror.example/pgha", 0)
    assert _state(_states(rendered, "show_sls", grains_id, "pip"),
                  "pgha-repo-none")[:2] == ("test", "nop")


@pytest.mark.parametrize("grains_id", GRAINS)
def test_users_databases_extensions_on_the_leader(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "typeb_vip")
    assert "pgha-postgresql-users-not-leader" not in states
    module, function, args = _state(states, "pgha-postgresql-user-app-present")
    assert (module, function) == ("postgres_user", "present")
    assert args["password"] == "app-secret"
    assert args["encrypted"] == "scram-sha-256"
    assert (args["login"], args["createdb"], args["superuser"]) == (True, True, False)
    assert (args["user"], args["db_port"]) == ("postgres", 5432)
    module, _, args = _state(states, "pgha-postgresql-database-appdb-present")
    assert (module, args["owner"], args["template"]) == ("postgres_database", "app", "template0")
    assert (args["encoding"], args["lc_collate"]) == ("UTF8", "C.UTF-8")
    module, _, args = _state(states, "pgha-postgresql-extension-appdb-pg_trgm-present")
    assert (module, args["name"], args["maintenance_db"]) == ("postgres_extension", "pg_trgm", "appdb")


@pytest.mark.parametrize("pillar_id", ["pip", "dcs_exists"])
def test_users_not_on_a_replica(rendered, pillar_id):
    states = _states(rendered, "show_sls", "debian12", pillar_id)
    assert _state(states, "pgha-postgresql-users-not-leader")[:2] == ("test", "nop")
    assert not [s for s in states if s.startswith("pgha-postgresql-user-")]


@pytest.mark.parametrize("grains_id,pillar_id", COMBOS, ids=COMBO_IDS)
def test_gates(rendered, grains_id, pillar_id):
    states = _states(rendered, "show_sls", grains_id, pillar_id)
    assert _state(states, "pgha-gate-patroni-healthy") == (
        "pgha_patroni", "healthy", {"role": "member", "timeout": 180})
    assert _state(states, "pgha-gate-pillar-valid")[:2] == ("pgha", "pillar_valid")
    assert _state(states, "pgha-gate-address-published") == (
        "pgha", "address_published", {"require": [{"pgha": "pgha-gate-pillar-valid"}]})
    assert _state(states, "pgha-gate-pillar-valid")[2]["require"] == [
        {"saltutil": "pgha-gate-modules-synced"}, {"saltutil": "pgha-gate-states-synced"}]
    assert _state(states, "pgha-gate-modules-synced") == (
        "saltutil", "sync_modules", {"refresh": False})
    assert _state(states, "pgha-gate-states-synced") == (
        "saltutil", "sync_states", {"refresh": True, "reload_modules": True})


# -- what highstate (`pgha`) applies for the node's roles -------------------------------------

@pytest.mark.parametrize("pillar_id,has_etcd,has_vip_manager", [
    ("typeb_vip", True, True),      # postgresql + etcd roles, VIP
    ("pip", True, False),           # postgresql + etcd roles, no VIP
    ("dcs_exists", False, True),    # postgresql role only: the etcd exists already
])
def test_highstate_follows_the_roles(rendered, pillar_id, has_etcd, has_vip_manager):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.repo", "pgha.postgresql.install", "pgha.patroni.install",
            "pgha.patroni.config", "pgha.patroni.service"} <= sls
    assert ({"pgha.etcd.install", "pgha.etcd.config", "pgha.etcd.service"} <= sls) is has_etcd
    assert bool(sls & {"pgha.etcd.install", "pgha.etcd.config", "pgha.etcd.service"}) is has_etcd
    assert ("pgha.vip_manager.service" in sls) is has_vip_manager
    # highstate never runs the orchestration's gates or the leader-only users
    assert not {s for s in sls if s.startswith("pgha.gate.")}
    assert "pgha.postgresql.users" not in sls


# -- the Patroni configuration file ----------------------------------------------------------

def _patroni_config(rendered, grains_id, pillar_id):
    result = rendered[("template", grains_id, pillar_id)]
    assert result["rc"] == 0 and isinstance(result["data"], str), (
        f"{result['stdout']}\n{result['stderr']}")
    assert result["data"].startswith("# Managed by Salt (pgha).")
    return yaml.safe_load(result["data"])


@pytest.mark.parametrize("grains_id,pillar_id", TEMPLATE_COMBOS,
                         ids=[f"{g}-{p}" for g, p in TEMPLATE_COMBOS])
def test_patroni_config_file(rendered, grains_id, pillar_id):
    config = _patroni_config(rendered, grains_id, pillar_id)
    _, data_dir, bin_dir, _, _, _ = PG[grains_id]
    assert {"scope", "namespace", "name", "restapi", "bootstrap", "postgresql", "tags"} <= set(config)
    assert (config["scope"], config["name"], config["namespace"]) == ("main", "pg1", "/service/")
    # secrets come through unmasked (Salt 3008 masks pillar only outside templates)
    assert config["restapi"] == {
        "listen": "0.0.0.0:8008", "connect_address": f"{NODE_ADDRESS}:8008",
        "authentication": {"username": "patroni", "password": "rest-secret"}}
    auth = config["postgresql"]["authentication"]
    assert auth["superuser"] == {"username": "postgres", "password": "su-secret"}
    assert auth["replication"] == {"username": "replicator", "password": "repl-secret"}
    assert auth["rewind"] == auth["superuser"]
    pg = config["postgresql"]
    assert (pg["data_dir"], pg["bin_dir"]) == (data_dir, bin_dir)
    assert pg["connect_address"] == f"{NODE_ADDRESS}:5432"
    # the postgres user's home, where Patroni can write its .pgpass
    home = "/var/lib/pgsql" if GRAINS[grains_id]["os_family"] == "RedHat" else "/var/lib/postgresql"
    assert pg["pgpass"] == f"{home}/.pgpass_patroni"
    assert f"host replication replicator {NODE_ADDRESS}/32 scram-sha-256" in pg["pg_hba"]
    assert pg["parameters"]["unix_socket_directories"] == "/var/run/postgresql"
    dcs = config["bootstrap"]["dcs"]
    assert (dcs["ttl"], dcs["loop_wait"], dcs["retry_timeout"]) == (30, 10, 10)
    # DCS-only parameters go to bootstrap, the others to the local config
    assert dcs["postgresql"]["parameters"]["max_connections"] == 200
    assert "max_connections" not in pg["parameters"]
    assert pg["parameters"]["shared_buffers"] == "128MB"
    assert "data-checksums" in config["bootstrap"]["initdb"]
    if pillar_id == "typeb_vip":
        assert config["etcd"] == {"hosts": [f"{NODE_ADDRESS}:2379"]}      # v2 for vip-manager 1
        assert "etcd3" not in config
        assert "host appdb app 10.0.0.0/24 scram-sha-256" in pg["pg_hba"]
    else:
        assert config["etcd3"] == {"hosts": ["10.0.0.21:2379", "10.0.0.22:2379"]}
        assert "etcd" not in config
