"""A lab node: an overlay over the read-only image, booted by systemd-nspawn in its own netns
and its own cgroup (so a crash or a freeze hits exactly this node's processes)."""
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

from .sh import quiet, run

CGROUP_ROOTS = [Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/systemd")]
NODE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def unified_root():
    """cgroup v2 hierarchy: /sys/fs/cgroup/unified on hybrid hosts, /sys/fs/cgroup on pure v2."""
    hybrid = Path("/sys/fs/cgroup/unified")
    return hybrid if hybrid.exists() else Path("/sys/fs/cgroup")


def remove_cgroup_tree(cg, keep_root=False):
    """rmdir a cgroup's empty descendants, deepest first (a cgroup with processes stays)."""
    if not cg.exists():
        return
    for sub in sorted((p for p in cg.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        quiet(["rmdir", str(sub)])
    if not keep_root:
        quiet(["rmdir", str(cg)])


class Node:
    def __init__(self, lab, name, address, state_dir, netns):
        self.lab = lab
        self.name = name
        self.address = address
        self.dir = Path(state_dir) / "nodes" / name
        self.root = self.dir / "root"
        self.netns = netns
        self.pid_file = self.dir / "nspawn.pid"

    # -- cgroups -----------------------------------------------------------------------------
    def cgroups(self):
        roots = [unified_root()]
        if Path("/sys/fs/cgroup/systemd").exists():
            roots.append(Path("/sys/fs/cgroup/systemd"))
        return [r / f"pghalab-{self.lab}" / self.name for r in roots]

    def clear_stale_cgroups(self):
        """Drop the cgroups a crashed boot left behind: systemd 257 (Debian 13) SIGKILLs what it
        starts into a unit cgroup that already exists. A real reboot starts with none."""
        self._wait_unpopulated(10)
        for cg in self.cgroups():
            remove_cgroup_tree(cg, keep_root=True)

    def _enter_cgroups(self):
        for cg in self.cgroups():
            cg.mkdir(parents=True, exist_ok=True)
            (cg / "cgroup.procs").write_text(str(os.getpid()))

    # -- filesystem --------------------------------------------------------------------------
    def mount(self, lower):
        for sub in ("upper", "work", "root"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        if not os.path.ismount(self.root):
            run(["mount", "-t", "overlay", "overlay", "-o",
                 f"lowerdir={lower},upperdir={self.dir / 'upper'},workdir={self.dir / 'work'}",
                 str(self.root)])

    def write(self, path, content, mode=0o644):
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        target.chmod(mode)

    def configure(self, hosts, master_ip):
        self.write("/etc/hostname", self.name + "\n")
        self.write("/etc/hosts", hosts)
        self.write("/etc/resolv.conf", "")
        if not (self.root / "etc/machine-id").read_text().strip():
            self.write("/etc/machine-id", secrets.token_hex(16) + "\n", 0o444)
        # tzdata's postinst fails on a copied /etc/localtime: nodes use a symlink, like Debian.
        localtime = self.root / "etc/localtime"
        if localtime.is_symlink() or localtime.exists():
            localtime.unlink()
        localtime.symlink_to("/usr/share/zoneinfo/Etc/UTC")
        self.write("/etc/timezone", "Etc/UTC\n")
        self.write("/etc/salt/minion_id", self.name)
        # No DNS here: fqdn grains would wait on resolver timeouts at every salt-call.
        self.write("/etc/salt/minion.d/lab.conf",
                   f"master: {master_ip}\nid: {self.name}\nenable_fqdns_grains: false\n"
                   "acceptance_wait_time: 1\nrandom_reauth_delay: 0\nauth_timeout: 10\n"
                   "recon_default: 200\nrecon_max: 2000\nlog_level_logfile: info\n")

    # -- lifecycle ---------------------------------------------------------------------------
    def nspawn_pid(self):
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it if this process started it
        except ChildProcessError:
            pass
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return None
        return None if state in ("Z", "X") else pid

    def init_pid(self):
        pid = self.nspawn_pid()
        if pid is None:
            return None
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def boot(self, binds=()):
        # Nodes share the host's clock: no CAP_SYS_TIME, so a time daemon in a node cannot set it.
        cmd = ["systemd-nspawn", "-D", str(self.root), "-M", self.name, "--register=no",
               "--keep-unit", f"--network-namespace-path=/run/netns/{self.netns}",
               "--capability=all", "--drop-capability=CAP_SYS_TIME", "--resolv-conf=off", "--timezone=off", "--boot",
               "--console=passive"]
        cmd += [f"--bind{'' if rw else '-ro'}={src}:{dst}" for src, dst, rw in binds]
        self.clear_stale_cgroups()
        log = open(self.dir / "console.log", "ab")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                preexec_fn=self._enter_cgroups, start_new_session=True)
        self.pid_file.write_text(str(proc.pid))

    def wait_booted(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.init_pid():
                res = self.exec(["systemctl", "is-system-running"], check=False, capture=True)
                if res.stdout.strip() in ("running", "degraded"):
                    return
            time.sleep(0.3)
        raise TimeoutError(f"{self.name}: systemd did not reach running in {timeout}s")

    def _inside(self, cmd):
        """`cmd` as the host runs it inside this node (its namespaces, a clean environment)."""
        pid = self.init_pid()
        if pid is None:
            raise RuntimeError(f"{self.name} is not running")
        return ["nsenter", "-t", str(pid), "-a", "--", "env", "-i", f"PATH={NODE_PATH}",
                "LANG=C.UTF-8", "HOME=/root", *cmd]

    def exec(self, cmd, check=True, capture=False, input=None):
        return subprocess.run(self._inside(cmd), check=check, text=True, input=input,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE if capture else None)

    def popen(self, cmd, **kw):
        """Start `cmd` inside the node and return at once (a subprocess.Popen). The process
        lives in the node's namespaces but in the caller's cgroup: a freeze or a crash of the
        node does not reach it."""
        return subprocess.Popen(self._inside(cmd), text=True, **kw)

    def _wait_gone(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.nspawn_pid() is None:
                return True
            time.sleep(0.1)
        return False

    def stop(self, timeout=30):
        """Clean poweroff: nspawn forwards SIGTERM to the node's systemd as a shutdown request."""
        pid = self.nspawn_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
            if not self._wait_gone(timeout):
                self.crash()

    def crash(self):
        """SIGKILL of every process of the node at once: a power cut."""
        for cg in self.cgroups():
            kill = cg / "cgroup.kill"
            if kill.exists():
                kill.write_text("1")
                break
        else:
            for cg in self.cgroups():
                for pid in (cg / "cgroup.procs").read_text().split():
                    quiet(["kill", "-KILL", pid])
        self._wait_gone(10)
        self._wait_unpopulated(10)

    def _wait_unpopulated(self, timeout):
        """Killed processes linger a moment (a dying systemd in D state): until then the old
        boot's cgroups cannot be removed."""
        deadline = time.time() + timeout
        for cg in self.cgroups():
            events = cg / "cgroup.events"
            while events.exists() and "populated 1" in events.read_text() and time.time() < deadline:
                time.sleep(0.05)

    def freeze(self, frozen=True):
        (self.cgroups()[0] / "cgroup.freeze").write_text("1" if frozen else "0")

    def unmount(self):
        if os.path.ismount(self.root):
            run(["umount", "-l", str(self.root)])
