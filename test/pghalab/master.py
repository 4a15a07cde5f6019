"""The lab's salt-master: a real daemon on the host, serving this checkout as its file roots."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import noise
from .paths import REPO_ROOT
from .sh import run


def salt_bin(name):
    """Salt's commands from the interpreter running the lab (the project's virtualenv)."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


class Master:
    def __init__(self, state_dir, interface_ip):
        self.root = Path(state_dir) / "master"
        self.conf_dir = self.root / "etc"
        self.pillar_dir = Path(state_dir) / "pillar"
        self.states_dir = Path(state_dir) / "states"
        self.ip = interface_ip

    def configure(self):
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.pillar_dir.mkdir(parents=True, exist_ok=True)
        self.states_dir.mkdir(parents=True, exist_ok=True)
        # The site's top file: highstate applies pgha to the cluster's minions.
        (self.states_dir / "top.sls").write_text(
            "base:\n  'I@pgha:cluster_name:*':\n    - match: compound\n    - pgha\n")
        # file_roots as README documents it: the checkout (states, _modules, _states) plus
        # orch/, whose pgha/ folder makes `salt-run state.orch pgha.deploy` resolve.
        conf = {
            "root_dir": str(self.root),
            "pidfile": str(self.root / "salt-master.pid"),
            "log_file": str(self.root / "master.log"),
            "log_level_logfile": "info",
            "interface": self.ip,
            "auto_accept": True,
            "file_roots": {"base": [str(REPO_ROOT), str(REPO_ROOT / "orch"), str(self.states_dir)]},
            "pillar_roots": {"base": [str(self.pillar_dir)]},
            "timeout": 30,
            "gather_job_timeout": 30,
            "worker_threads": 4,
        }
        (self.conf_dir / "master").write_text(json.dumps(conf, indent=2))

    def pid(self):
        try:
            pid = int((self.root / "salt-master.pid").read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def start(self):
        if self.pid():
            return
        run([salt_bin("salt-master"), "-c", str(self.conf_dir), "-d"])
        deadline = time.time() + 30
        while not self.pid():
            if time.time() > deadline:
                raise TimeoutError("salt-master did not start; see " + str(self.root / "master.log"))
            time.sleep(0.2)

    def stop(self):
        pid = self.pid()
        if not pid:
            return
        os.killpg(os.getpgid(pid), signal.SIGTERM) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not self.pid():
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    def cli(self, tool, *args, **kw):
        """Run salt / salt-run / salt-key against this master."""
        return subprocess.run([salt_bin(tool), "-c", str(self.conf_dir), *args], text=True, **kw)

    def cli_quiet(self, tool, *args):
        """cli() for a person at a terminal: the same output, streamed, less Salt's own
        finalizer warnings about clients it did not close (see noise.py); returns the exit code."""
        proc = subprocess.Popen([salt_bin(tool), "-c", str(self.conf_dir), *args], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1)
        hidden = noise.copy_streams(proc, sys.stdout, sys.stderr)
        if hidden:
            print(f"(test/lab: {hidden} of Salt's 'unclosed ...' cleanup warnings not shown)", file=sys.stderr)
        return proc.returncode

    def wait_minions(self, names, timeout=120):
        deadline = time.time() + timeout
        pending = set(names)
        while pending and time.time() < deadline:
            res = self.cli("salt", "-L", ",".join(sorted(pending)), "test.ping", "--out=json",
                           "--static", "-t", "5", capture_output=True)
            try:
                answered = {k for k, v in json.loads(res.stdout or "{}").items() if v is True}
            except json.JSONDecodeError:
                answered = set()
            pending -= answered
            if pending:
                time.sleep(1)
        if pending:
            raise TimeoutError(f"minions did not answer in {timeout}s: {sorted(pending)}")
