"""Probes that write directly on the database nodes while a fault runs, so that the checker
sees every node that accepted a write, not only the one behind the entry point:

- DirectProbes: from the host, an INSERT into their own table (pgha_probe) directly on every
  database node's 5432, five times a second each, 1.5 s deadlines (pghalab.pgclient); each
  success recorded as a pghalab.checks.Success.
- NodeProbe (partition only): the same from inside the partitioned node over its unix socket,
  as a client on the old primary's side of the partition would.

What they can and cannot see: from the host, nothing reaches a frozen or partitioned node (its
link is down; the host reaches nodes over the bridge), so a partitioned old primary is seen
only by the NodeProbe inside it, and a frozen one by nobody while frozen, and by every probe
again once thawed, before Patroni demotes it. A crashed node accepts nothing. What a node
accepted and then lost to pg_rewind is visible only through the acknowledgements the probes
recorded, not in any table afterwards.
"""
import json
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

from . import pgclient
from .checks import Success, timeline_of
from .cluster import query, superuser
from .pgclient import close, connect, execute, read_only
from .writer import COMMITTED_BY, HOSTNAME

PROBE_TABLE = "pgha_probe"
RUN_DIR = "/var/run/postgresql"        # pgha's paths:run_dir (os_family/Debian.yaml)
PROBE_SQL = f"INSERT INTO {PROBE_TABLE} (node, prober, seq) VALUES ({HOSTNAME}, %s, %s) {COMMITTED_BY}"


def create_probe_table(lab, host):
    query(lab, host, f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (node text, prober text, seq bigint, "
                     "at timestamptz DEFAULT clock_timestamp())")


class DirectProbes:
    """From the host, an INSERT into pgha_probe on each of `nodes` ({name: address}) every
    `interval` s; successes: [Success]."""

    def __init__(self, lab, nodes, interval=0.2, timeout=1.5):
        self.nodes = dict(nodes)
        self.user, self.password = superuser(lab)
        self.interval, self.timeout = interval, timeout
        self.prober = f"p{uuid.uuid4().hex[:8]}"
        self.successes = []
        self.attempts = defaultdict(int)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n, a), daemon=True, name=f"probe-{n}")
                         for n, a in self.nodes.items()]

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self

    def _run(self, name, address):
        conn, seq = None, 0
        while not self._stop.is_set():
            seq += 1
            start = time.monotonic()
            self.attempts[name] += 1
            try:
                if conn is None:
                    conn = connect(address, 5432, self.user, self.password, start + self.timeout)
                node, walfile = execute(conn, PROBE_SQL, (self.prober, seq), time.monotonic() + self.timeout)
                with self._lock:
                    self.successes.append(Success(node.strip(), timeline_of(walfile), start,
                                                  time.monotonic(), "direct"))
            except Exception as exc:  # pylint: disable=broad-except
                if not read_only(exc):    # a replica's session stays: it may be promoted
                    close(conn)
                    conn = None
            time.sleep(self.interval)
        close(conn)


# Runs inside a node with the node's python3 and python3-psycopg2 (Patroni's dependency), as
# the postgres user over the unix socket (pg_hba: local all postgres peer), after the text of
# pghalab/pgclient.py (its connect, execute, close). One JSON line per attempt; exits when its
# stdin closes.
NODE_PROBE_LOOP = r"""

def probe(socket_dir, sql, prober, interval, timeout):
    import json, os, sys
    interval, timeout = float(interval), float(timeout)
    conn, seq, stdin = None, 0, sys.stdin.fileno()
    while not (select.select([stdin], [], [], 0)[0] and not os.read(stdin, 1)):
        seq += 1
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = connect(socket_dir, 5432, "postgres", None, t0 + timeout)
            node, walfile = execute(conn, sql, (prober, seq), time.monotonic() + timeout)
            line = {"ok": 1, "node": node.strip(), "wal": walfile, "t0": t0, "t1": time.monotonic()}
        except Exception as exc:
            line = {"ok": 0, "t0": t0, "t1": time.monotonic(), "err": str(exc).strip()[:200]}
            close(conn)
            conn = None
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        time.sleep(interval)


if __name__ == "__main__":
    import sys
    probe(*sys.argv[1:6])
"""
NODE_PROBE_SCRIPT = Path(pgclient.__file__).read_text() + NODE_PROBE_LOOP


class NodeProbe:
    """The probe inside node `name` (see NODE_PROBE_SCRIPT); successes: [Success]."""

    def __init__(self, lab, name, interval=0.2, timeout=1.5):
        self.node = lab.node(name)
        self.interval, self.timeout = interval, timeout
        self.prober = f"i{uuid.uuid4().hex[:8]}"
        self.successes, self.failures, self.other = [], 0, []
        self._proc = None
        self._reader = None

    def start(self):
        self._proc = self.node.popen(
            ["runuser", "-u", "postgres", "--", "python3", "-c", NODE_PROBE_SCRIPT, RUN_DIR, PROBE_SQL,
             self.prober, str(self.interval), str(self.timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"inside-{self.node.name}")
        self._reader.start()
        return self

    def _read(self):
        for line in self._proc.stdout:
            try:
                data = json.loads(line)
            except ValueError:
                self.other.append(line.rstrip())     # e.g. a traceback: no psycopg2 in the node
                continue
            if data.get("ok"):
                self.successes.append(Success(data["node"], timeline_of(data["wal"]), data["t0"],
                                              data["t1"], "inside"))
            else:
                self.failures += 1

    def stop(self):
        if self._proc is None:
            return self
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout=15)
        except Exception:  # pylint: disable=broad-except ; a stuck probe is killed
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._reader.join(timeout=5)
        return self
