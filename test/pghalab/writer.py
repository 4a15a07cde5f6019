"""A client that keeps writing through the cluster's entry point (the VIP on 5432 for Type B,
HAProxy's 5000 behind the keepalived VIP for Type A) while an operation or a fault runs, and
checks afterwards that every acknowledged write is there.

One row per transaction, with a unique id (`<name>-<seq>`). Only an INSERT whose COMMIT
returned counts as acknowledged. As the superuser (the default login) the INSERT also returns
the node that committed it (its /etc/hostname) and that node's timeline (from the name of its
current WAL file), so each acknowledgement says who accepted it (pghalab.checks.split_brain).
On any error the writer closes its session, counts the error and connects again.

Deadlines (pghalab.pgclient) are the client's own, never a server-side statement_timeout
(under synchronous replication a commit cancelled by it is reported committed):
- deadline=2.0 (default): connect and each statement must finish within 2 s (connect_deadline
  for the connection, default the same), else the session is dropped and the write is not
  acknowledged (its outcome is unknown);
- deadline=None: no deadline at all, as a default libpq application: a blocking connect and a
  blocking commit, reconnecting on error. libpq's own parameters (connect_timeout,
  keepalives_idle, keepalives_interval, keepalives_count, tcp_user_timeout, ...) go through
  as keyword arguments, in both modes.
"""
import socket
import threading
import time
import uuid

from .checks import Success, timeline_of
from .cluster import query, superuser
from .pgclient import close, connect, execute

TABLE = "pgha_writer"
# The libpq settings docs/operations.md recommends to applications (Client settings for
# failover): a connection to a node that vanished or froze breaks within seconds instead of
# never. Keepalives probe an idle connection (5 s idle, then every 2 s, 3 misses);
# tcp_user_timeout (ms) bounds unacknowledged data on the wire (a commit sent to a node that
# died); connect_timeout bounds a connect to an address nobody answers.
DOCUMENTED_LIBPQ = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                    "tcp_user_timeout": 10000, "connect_timeout": 5}
# Who committed: the node's name and its timeline (only a primary can run the INSERT); reading
# /etc/hostname takes the superuser (or pg_read_server_files)
HOSTNAME = "rtrim(pg_read_file('/etc/hostname'), E'\\n')"
COMMITTED_BY = "RETURNING node, pg_walfile_name(pg_current_wal_lsn())"


class Writer:
    """Commits one row per transaction through `host`:`port` from start() to stop(); see the
    module docstring.

    login: (user, password), default the lab's superuser; who: record the committing node
    (default: when writing as the superuser); source: the Success's source. acked: [(id, Success)] in order; errors:
    [(time.monotonic(), message)]; reconnects: sessions opened (the first one included)."""

    def __init__(self, lab, host, port=5432, login=None, interval=0.01, name=None, deadline=2.0,
                 connect_deadline=None, who=None, table=TABLE, source="writer", **libpq):
        self.lab, self.host, self.port = lab, host, port
        self.user, self.password = login or superuser(lab)
        self.who = login is None if who is None else who
        self.interval, self.name = interval, name or f"w{uuid.uuid4().hex[:8]}"
        self.deadline = deadline
        self.connect_deadline = deadline if connect_deadline is None else connect_deadline
        self.table, self.libpq, self.source = table, libpq, source
        self.acked = []
        self.errors = []
        self.reconnects = 0
        self.stuck = False      # stop() found it blocked and cut its connection (no deadline)
        self._conn = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"writer-{self.name}")

    # -- the client ------------------------------------------------------------------------------

    @property
    def sql(self):
        if self.who:
            return f"INSERT INTO {self.table} (id, node) VALUES (%s, {HOSTNAME}) {COMMITTED_BY}"
        return f"INSERT INTO {self.table} (id) VALUES (%s) RETURNING '', ''"

    @staticmethod
    def _after(seconds):
        return None if seconds is None else time.monotonic() + seconds

    def _connect(self):
        return connect(self.host, self.port, self.user, self.password, self._after(self.connect_deadline),
                       **self.libpq)

    def start(self):
        """Create the table (through the entry point, as `login`), then write in a thread."""
        conn = self._connect()
        try:
            execute(conn, f"CREATE TABLE IF NOT EXISTS {self.table} (id text PRIMARY KEY, node text, "
                          "at timestamptz DEFAULT clock_timestamp())", None, self._after(self.deadline))
        finally:
            close(conn)
        self._thread.start()
        return self

    def stop(self, wait=30):
        """Stop writing. A writer without a deadline may be blocked for good on a connection
        to a node that vanished (nothing ever answers, libpq waits forever): after `wait`
        seconds its socket is shut down from here, which breaks libpq's wait, and `stuck`
        records that it never came back by itself."""
        self._stop.set()
        self._thread.join(timeout=wait)
        if self._thread.is_alive():
            self.stuck = True
            self.cut()
            self._thread.join(timeout=10)
        return self

    def cut(self):
        """Shut the current connection's socket down (as a dead peer's RST would): a blocked
        libpq call returns with an error at once."""
        conn = self._conn
        if conn is None:
            return
        try:
            sock = socket.socket(fileno=socket.dup(conn.fileno()))
        except (OSError, ValueError, AttributeError):   # already closed
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            sock.close()

    def blocked_since(self, now=None):
        """Seconds since this writer's last acknowledgement or error (how long its current
        statement has waited), or 0 when it never wrote."""
        last = max([s.end for _, s in self.acked[-1:]] + [t for t, _ in self.errors[-1:]], default=None)
        return 0.0 if last is None else (time.monotonic() if now is None else now) - last

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self):
        conn, seq = None, 0
        while not self._stop.is_set():
            seq += 1
            row = f"{self.name}-{seq}"
            start = time.monotonic()
            try:
                if conn is None:
                    conn = self._connect()
                    self._conn = conn
                    self.reconnects += 1
                node, walfile = execute(conn, self.sql, (row,), self._after(self.deadline))
                self.record_ack(row, node, walfile, start, time.monotonic())
            except Exception as exc:  # pylint: disable=broad-except ; every failure is a data point
                self.record_error(exc)
                close(conn)
                conn = self._conn = None
                time.sleep(0.05)
            time.sleep(self.interval)
        close(conn)

    # -- bookkeeping (pure) ----------------------------------------------------------------------

    def record_ack(self, row, node, walfile, start, end):
        self.acked.append((row, Success((node or "").strip(), timeline_of(walfile), start, end, self.source)))

    def record_error(self, exc, at=None):
        self.errors.append((time.monotonic() if at is None else at, str(exc).strip()[:300]))

    @property
    def last_error(self):
        return self.errors[-1][1] if self.errors else None

    def ack_times(self):
        """time.monotonic() of each acknowledgement."""
        return [s.end for _, s in self.acked]

    def successes(self):
        return [s for _, s in self.acked]

    def acked_since(self, t):
        """Successes of writes sent after `t`."""
        return [s for _, s in self.acked if s.start > t]

    def longest_gap(self):
        """Seconds of the longest stretch without an acknowledged write (write unavailability)."""
        times = self.ack_times()
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)

    def missing_from(self, present):
        """Acknowledged ids not in `present` (ids a node has), in order."""
        return [row for row, _ in self.acked if row not in present]

    # -- afterwards ------------------------------------------------------------------------------

    def present(self, host):
        """Ids of this writer's rows that `host` has (read as the superuser)."""
        return {r[0] for r in query(self.lab, host, f"SELECT id FROM {self.table} WHERE id LIKE %s",
                                    (self.name + "-%",))}

    def missing(self, host):
        """Acknowledged ids that `host` (the new primary, or a replica) does not have."""
        return self.missing_from(self.present(host))
