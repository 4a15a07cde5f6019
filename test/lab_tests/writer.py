"""A client that keeps writing through the cluster's entry point (the VIP, or HAProxy's port
5000) while an operation runs, and checks afterwards that every acknowledged write is there.

Each write commits one row with a unique id; only writes whose COMMIT returned are counted as
acknowledged. On any error the client reconnects (1 s connect timeout) and goes on.
"""
import threading
import time
import uuid

import psycopg2

TABLE = "pgha_writer"


class Writer:
    def __init__(self, lab, host, port=5432, login=None, interval=0.01, name=None):
        from .helpers import superuser  # pylint: disable=import-outside-toplevel
        self.lab, self.host, self.port = lab, host, port
        self.user, self.password = login or superuser(lab)
        self.interval, self.name = interval, name or f"w{uuid.uuid4().hex[:8]}"
        self.acked = []            # (id, monotonic time of the acknowledged commit)
        self.errors = 0
        self.last_error = None
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self):
        conn = psycopg2.connect(host=self.host, port=self.port, dbname="postgres", user=self.user,
                                password=self.password, connect_timeout=1)
        conn.autocommit = True
        with conn.cursor() as cur:  # a SET, not a startup option: PgBouncer refuses those
            cur.execute("SET statement_timeout = 2000")
        return conn

    def start(self):
        conn = self._connect()
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id text PRIMARY KEY, at timestamptz DEFAULT now())")
        conn.close()
        self._thread.start()
        return self

    def _run(self):
        conn, seq = None, 0
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = self._connect()
                    self.reconnects += 1
                seq += 1
                row = f"{self.name}-{seq}"
                with conn.cursor() as cur:
                    cur.execute(f"INSERT INTO {TABLE} (id) VALUES (%s)", (row,))
                self.acked.append((row, time.monotonic()))
            except psycopg2.Error as exc:
                self.errors += 1
                self.last_error = str(exc).strip()
                if conn is not None:
                    try:
                        conn.close()
                    except psycopg2.Error:
                        pass
                conn = None
                time.sleep(0.05)
            time.sleep(self.interval)
        if conn is not None:
            conn.close()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=30)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def longest_gap(self):
        """Seconds of the longest stretch without an acknowledged write (write unavailability)."""
        times = [t for _, t in self.acked]
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)

    def missing(self, host):
        """Acknowledged ids that `host` (the new primary, or a replica) does not have."""
        from .helpers import query  # pylint: disable=import-outside-toplevel
        present = {r[0] for r in query(self.lab, host, f"SELECT id FROM {TABLE} WHERE id LIKE %s",
                                       (self.name + "-%",))}
        return [row for row, _ in self.acked if row not in present]
