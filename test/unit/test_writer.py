"""The lab writer (pghalab.writer.Writer) and its client (pghalab.pgclient) without a lab: the
bookkeeping of acknowledged writes, and deadlines that are the client's own, against a server
that accepts connections and never answers. No PostgreSQL."""
import json
import socket
import subprocess
import sys
import time

import psycopg2
import pytest

from pghalab import pgclient
from pghalab.checks import Success
from pghalab.probes import NODE_PROBE_SCRIPT
from pghalab.writer import Writer

LOGIN = ("app", "secret")


@pytest.fixture
def silent_server():
    """(host, port) of a TCP listener that completes the handshake and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()


def writer(**kw):
    return Writer(None, "127.0.0.1", login=LOGIN, **kw)


# -- bookkeeping ---------------------------------------------------------------------------------

def test_acknowledged_writes_and_what_a_node_lacks():
    w = writer(name="w1")
    w.record_ack("w1-1", "pg1\n", "00000002000000000000000A", 1.0, 1.1)
    w.record_ack("w1-2", "pg1", "00000002000000000000000A", 1.2, 1.3)
    w.record_ack("w1-4", "pg2", "00000003000000000000000B", 4.0, 4.4)
    assert w.acked[0] == ("w1-1", Success("pg1", 2, 1.0, 1.1, "writer"))
    assert w.ack_times() == [1.1, 1.3, 4.4]
    assert w.missing_from({"w1-1", "w1-4", "w1-3"}) == ["w1-2"]
    assert w.missing_from(set()) == ["w1-1", "w1-2", "w1-4"]
    assert w.longest_gap() == pytest.approx(3.1)
    assert [s.node for s in w.acked_since(1.1)] == ["pg1", "pg2"]
    assert w.successes()[2].timeline == 3


def test_no_write_means_no_gap_and_no_error():
    w = writer()
    assert w.longest_gap() == 0.0 and w.missing_from(set()) == []
    assert w.last_error is None and w.errors == [] and w.reconnects == 0


def test_errors_are_counted_with_their_time():
    w = writer()
    w.record_error(TimeoutError("no answer before the client's deadline"), at=5.0)
    w.record_error(psycopg2.OperationalError("server closed the connection\n"), at=6.0)
    assert w.errors == [(5.0, "no answer before the client's deadline"), (6.0, "server closed the connection")]
    assert w.last_error == "server closed the connection"


def test_who_committed_is_asked_only_as_the_superuser():
    assert "pg_read_file" not in writer().sql            # another login: no privilege for it
    assert "pg_read_file" in writer(who=True).sql
    w = writer()
    w.record_ack("x-1", "", "", 0.0, 0.1)                  # what the INSERT returns then
    assert w.acked[0][1] == Success("", 0, 0.0, 0.1, "writer")


def test_deadline_modes():
    assert writer().deadline == 2.0 and writer().connect_deadline == 2.0
    assert writer(deadline=3, connect_deadline=1).connect_deadline == 1
    blocking = writer(deadline=None, keepalives_idle=5, tcp_user_timeout=3000)
    assert blocking.deadline is None and blocking.connect_deadline is None
    assert blocking.libpq == {"keepalives_idle": 5, "tcp_user_timeout": 3000}


# -- client-side deadlines ---------------------------------------------------------------------------

def test_connect_gives_up_at_the_clients_deadline(silent_server):
    host, port = silent_server
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        pgclient.connect(host, port, *LOGIN, time.monotonic() + 0.3)
    assert 0.25 < time.monotonic() - started < 2


def test_without_a_deadline_libpq_parameters_apply(silent_server):
    host, port = silent_server
    started = time.monotonic()
    with pytest.raises(psycopg2.OperationalError):
        pgclient.connect(host, port, *LOGIN, None, connect_timeout=2)
    assert time.monotonic() - started < 10


def test_the_writer_counts_nothing_a_silent_server_never_answered(silent_server):
    host, port = silent_server
    w = Writer(None, host, port, login=LOGIN, deadline=0.2, interval=0.0)
    with pytest.raises(TimeoutError):
        w.start()                                         # the table is created first
    w._thread.start()  # pylint: disable=protected-access ; the loop alone
    time.sleep(1.0)
    w.stop()
    assert not w._thread.is_alive()  # pylint: disable=protected-access
    assert w.acked == [] and w.reconnects == 0
    assert 2 <= len(w.errors) <= 6, w.errors
    assert {m for _, m in w.errors} == {"no answer before the client's deadline"}


def test_the_probe_script_for_inside_a_node_runs(tmp_path):
    """pghalab/pgclient.py and the probe loop, as NodeProbe runs them in a node: one JSON line
    per attempt (here: failures, no server), and an exit when stdin closes."""
    proc = subprocess.Popen([sys.executable, "-c", NODE_PROBE_SCRIPT, str(tmp_path), "SELECT 1", "p1", "0.05", "0.5"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        lines = [json.loads(proc.stdout.readline()) for _ in range(2)]
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert [line["ok"] for line in lines] == [0, 0], lines
    assert all(line["t1"] >= line["t0"] for line in lines)
    assert proc.returncode == 0


# -- a writer without a deadline, blocked for good (a crashed node behind the VIP) ----------------

class _Conn:
    def __init__(self, sock):
        self.sock = sock

    def fileno(self):
        return self.sock.fileno()


def test_stop_cuts_a_writer_blocked_for_good_and_says_so():
    """A commit sent to a node that vanished waits forever with libpq's defaults: stop() shuts
    the socket down from outside (the blocked read returns) and records `stuck`."""
    import threading
    mine, peer = socket.socketpair()
    w = writer(deadline=None)
    w._conn = _Conn(mine)  # pylint: disable=protected-access
    got = []
    w._thread = threading.Thread(target=lambda: got.append(mine.recv(10)), daemon=True)  # pylint: disable=protected-access
    w._thread.start()  # pylint: disable=protected-access
    w.stop(wait=0.2)
    assert w.stuck is True and got == [b""]
    assert not w._thread.is_alive()  # pylint: disable=protected-access
    mine.close()
    peer.close()


def test_stop_of_a_writer_that_ends_by_itself_is_not_stuck():
    w = writer(deadline=None)
    w._thread.start()  # pylint: disable=protected-access ; nothing to write: _stop ends it
    w._stop.set()  # pylint: disable=protected-access
    w.stop(wait=5)
    assert w.stuck is False


def test_cut_without_a_connection_does_nothing():
    writer().cut()


def test_blocked_since_counts_from_the_last_ack_or_error():
    w = writer(name="w1")
    assert w.blocked_since(now=10.0) == 0.0
    w.record_ack("w1-1", "pg1", "00000001000000000000000A", 1.0, 2.0)
    assert w.blocked_since(now=10.0) == 8.0
    w.record_error(RuntimeError("x"), at=5.0)
    assert w.blocked_since(now=10.0) == 5.0


def test_documented_libpq_settings_are_libpq_keywords():
    from pghalab.writer import DOCUMENTED_LIBPQ
    assert set(DOCUMENTED_LIBPQ) == {"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                                     "tcp_user_timeout", "connect_timeout"}
    # the writer passes them to libpq as they are: a connect string libpq parses
    dsn = psycopg2.extensions.make_dsn(host="127.0.0.1", **DOCUMENTED_LIBPQ)
    assert psycopg2.extensions.parse_dsn(dsn)["tcp_user_timeout"] == "10000"
