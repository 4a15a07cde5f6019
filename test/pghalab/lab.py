"""Bring a lab up, tear it down, and act on its nodes."""
import json
import os
import shutil
import time
from pathlib import Path

import yaml

from . import backport, image
from .master import Master
from .network import Network
from .node import Node, remove_cgroup_tree, unified_root
from .paths import STATE_ROOT
from .scenarios import SCENARIOS, SUBNET, lab_pillar
from .sh import quiet

REPO_MOUNT = "/srv/pgha-repo"
BACKPORTS_MOUNT = "/srv/pgha-backports"


def suite_of(scenario):
    """The Debian release a scenario's lab runs: PGHA_LAB_SUITE, else the scenario's own
    (standby, upgrade: Debian 13), else Debian 12."""
    return os.environ.get("PGHA_LAB_SUITE") or SCENARIOS[scenario].get("suite") or image.DEFAULT_SUITE


class Lab:
    def __init__(self, name="pgha"):
        self.name = name
        self.dir = STATE_ROOT / name
        self.net = Network(name, SUBNET)
        self.master = Master(self.dir, self.net.host_ip)
        self.info_file = self.dir / "lab.json"

    # -- bookkeeping -------------------------------------------------------------------------
    @property
    def info(self):
        return json.loads(self.info_file.read_text()) if self.info_file.exists() else {}

    def node(self, name):
        nodes = self.info.get("nodes", {})
        if name not in nodes:
            raise SystemExit(f"no node {name!r} in lab {self.name} (nodes: {', '.join(nodes)})")
        return Node(self.name, name, nodes[name], self.dir, self.net.netns(name))

    def nodes(self):
        return [self.node(n) for n in self.info.get("nodes", {})]

    def binds(self):
        """(host path, node path, writable) for every node: the package repository read-only,
        and the scenario's shared directories (storage all nodes see, like NFS) writable."""
        shared = [(str(self.dir / "shared" / name), path, True)
                  for name, path in SCENARIOS[self.info["scenario"]].get("shared", {}).items()]
        for host_path, _, _ in shared:
            Path(host_path).mkdir(parents=True, exist_ok=True)
        # a second repository (issue 19: a PostgreSQL major built by pghalab.backport)
        extra = [(path, BACKPORTS_MOUNT, False) for path in self.info.get("backports", [])[:1]]
        return [(self.info["repo"], REPO_MOUNT, False)] + extra + shared

    # -- up / down ---------------------------------------------------------------------------
    def up(self, scenario="typeb", suite=None, log=print):
        spec = SCENARIOS[scenario]
        suite = suite or suite_of(scenario)
        self.down(log=lambda *_: None)
        rootfs, repo = image.ensure_image(suite, log=log)
        t0 = time.time()
        self.dir.mkdir(parents=True, exist_ok=True)
        nodes = {n: f"{SUBNET}.{i}" for n, i in spec["nodes"].items()}
        backports = [str(backport.ensure_backport(suite, source, log=log))
                     for source in spec.get("backports", []) if backport.available(suite, source)]
        self.info_file.write_text(json.dumps({"scenario": scenario, "suite": suite, "nodes": nodes,
                                              "rootfs": str(rootfs), "repo": str(repo),
                                              "backports": backports}))
        self.net.create()
        self.write_pillar(scenario, spec)
        self.master.configure()
        self.master.start()
        hosts = "127.0.0.1 localhost\n" + f"{self.net.host_ip} salt lab-master\n" + "".join(
            f"{ip} {n}\n" for n, ip in nodes.items())
        for name, ip in nodes.items():
            self.net.add_node(name, ip)
            node = self.node(name)
            node.mount(rootfs)
            node.configure(hosts, self.net.host_ip)
            node.boot(binds=self.binds())
        for node in self.nodes():
            node.wait_booted()
        self.net.flush_arp()
        self.master.wait_minions(nodes)
        log(f"lab {self.name} up ({scenario}, {suite}): {len(nodes)} nodes in {time.time() - t0:.1f}s")

    def write_pillar(self, scenario, spec):
        pillar_dir = self.master.pillar_dir
        pillar_dir.mkdir(parents=True, exist_ok=True)
        # Spare nodes boot as plain minions: they join the cluster when a test assigns them.
        top = {"base": {}}
        for name, roles in spec["roles"].items():
            node = {"roles": roles, **spec.get("node_pillar", {}).get(name, {})}
            (pillar_dir / f"roles_{name}.sls").write_text(yaml.safe_dump({"pgha": node}))
            if name not in spec.get("spares", ()):
                top["base"][name] = ["cluster", f"roles_{name}"]
        (pillar_dir / "top.sls").write_text(yaml.safe_dump(top))
        path = pillar_dir / "cluster.sls"
        path.write_text(yaml.safe_dump(lab_pillar(scenario), sort_keys=False))
        path.chmod(0o600)

    def assign(self, name):
        """Give a spare node the cluster's pillar and its roles (the user's step before
        pgha.add_node)."""
        top_file = self.master.pillar_dir / "top.sls"
        top = yaml.safe_load(top_file.read_text())
        top["base"][name] = ["cluster", f"roles_{name}"]
        top_file.write_text(yaml.safe_dump(top))
        self.master.cli("salt", name, "saltutil.refresh_pillar", "wait=True", capture_output=True, check=True)

    def unassign(self, name):
        """Take a node's pillar away (the user's step after pgha.remove_node)."""
        top_file = self.master.pillar_dir / "top.sls"
        top = yaml.safe_load(top_file.read_text())
        top["base"].pop(name, None)
        top_file.write_text(yaml.safe_dump(top))
        self.master.cli("salt", name, "saltutil.refresh_pillar", "wait=True", capture_output=True, check=True)

    def pillar(self):
        return yaml.safe_load((self.master.pillar_dir / "cluster.sls").read_text())

    def down(self, log=print):
        for node in self._leftover_nodes():
            node.stop(timeout=20)
            node.unmount()
        self.master.stop()
        quiet(["pkill", "-f", f"-c {self.master.conf_dir}"])
        for root in (unified_root(), Path("/sys/fs/cgroup/systemd")):
            cg = root / f"pghalab-{self.name}"
            if cg.exists():
                kill = cg / "cgroup.kill"
                if kill.exists():
                    quiet(["sh", "-c", f"echo 1 > {kill}"])
                time.sleep(0.2)
                remove_cgroup_tree(cg)
        self.net.destroy()
        for mount in self._mounts():
            quiet(["umount", "-l", mount])
        shutil.rmtree(self.dir, ignore_errors=True)
        log(f"lab {self.name} down")

    def _leftover_nodes(self):
        nodes_dir = self.dir / "nodes"
        if not nodes_dir.exists():
            return []
        return [Node(self.name, d.name, None, self.dir, self.net.netns(d.name))
                for d in nodes_dir.iterdir() if d.is_dir()]

    def _mounts(self):
        prefix = str(self.dir) + "/"
        with open("/proc/mounts") as f:
            return [line.split()[1] for line in f if line.split()[1].startswith(prefix)]

    # -- status ------------------------------------------------------------------------------
    def status(self):
        info = self.info
        if not info:
            return f"lab {self.name}: down"
        lines = [f"lab {self.name}: scenario {info['scenario']}, master pid {self.master.pid()}"]
        for node in self.nodes():
            lines.append(f"  {node.name:6} {node.address:15} "
                         f"{'running' if node.init_pid() else 'stopped'}")
        return "\n".join(lines)
