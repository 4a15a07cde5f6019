"""One bridge in its own network namespace, one namespace per node, a veth from the host.

Nodes get no default route: they reach each other and the host (salt-master, repository), nothing else.
"""
import os
from pathlib import Path

from .sh import quiet, run


class Network:
    def __init__(self, lab, subnet_prefix):
        self.lab = lab
        self.prefix = subnet_prefix          # "10.213.0"
        self.switch = f"{lab}-sw"
        self.host_if = f"{lab}-host"[:15]
        self.host_ip = f"{subnet_prefix}.1"

    def netns(self, node):
        return f"{self.lab}-{node}"

    def _peer(self, node):
        return f"p-{node}"[:15]

    def create(self):
        run(["ip", "netns", "add", self.switch])
        run(["ip", "-n", self.switch, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.switch, "link", "set", "br0", "up"])
        run(["ip", "link", "add", self.host_if, "type", "veth", "peer", "name", "p-host",
             "netns", self.switch])
        run(["ip", "-n", self.switch, "link", "set", "p-host", "master", "br0", "up"])
        run(["ip", "addr", "add", f"{self.host_ip}/24", "dev", self.host_if])
        run(["ip", "link", "set", self.host_if, "up"])

    def add_node(self, node, address):
        ns = self.netns(node)
        peer = self._peer(node)
        quiet(["ip", "-n", self.switch, "link", "del", peer])
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", self.switch, "link", "add", peer, "type", "veth", "peer", "name", "eth0",
             "netns", ns])
        run(["ip", "-n", self.switch, "link", "set", peer, "master", "br0", "up"])
        run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def flush_arp(self):
        # A re-created node has a new MAC: a stale entry stalls the host's first connects ~11 s.
        quiet(["ip", "neigh", "flush", "dev", self.host_if])

    def link(self, node, up):
        run(["ip", "-n", self.netns(node), "link", "set", "eth0", "up" if up else "down"])

    def drop_address(self, node, address):
        """Remove `address` from the node's eth0 if it is there: the VIP that a crashed node's
        namespace still holds (a real power cut loses it with the machine). True if removed."""
        out = run(["ip", "-n", self.netns(node), "-4", "-o", "addr", "show", "dev", "eth0"],
                  capture=True).stdout
        for cidr in (f.split()[3] for f in out.splitlines() if len(f.split()) > 3):
            if cidr.split("/")[0] == address:
                return quiet(["ip", "-n", self.netns(node), "addr", "del", cidr, "dev", "eth0"])
        return False

    def destroy(self):
        """Remove everything of this lab, including leftovers of an earlier run that has no state."""
        netns_dir = Path("/run/netns")
        names = sorted(os.listdir(netns_dir)) if netns_dir.exists() else []
        for name in names:
            if name.startswith(f"{self.lab}-") and name != self.switch:
                quiet(["ip", "netns", "del", name])
        quiet(["ip", "link", "del", self.host_if])
        quiet(["ip", "netns", "del", self.switch])
