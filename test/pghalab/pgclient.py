"""A PostgreSQL client whose deadlines are the client's own: an asynchronous psycopg2
connection driven with poll() and select() until the operation is done or the deadline
(time.monotonic()) passes, whatever the server does. A frozen or partitioned server never
answers; a server-side statement_timeout would be wrong for writes: cancelling a commit that
waits for its synchronous standby reports it committed to the client (PostgreSQL's "canceling
wait for synchronous replication": committed locally, maybe not replicated). A deadline that
passes raises TimeoutError; the caller closes the connection and counts the operation as not
acknowledged (its outcome is unknown).

With deadline None: a blocking connection, as a default libpq application has (libpq's own
parameters, connect_timeout, keepalives_*, tcp_user_timeout, passed through).

This file is also the head of the probe that runs inside a node (pghalab.probes.NodeProbe,
with the node's python3 and python3-psycopg2): the standard library and psycopg2 only.
"""
import select
import time

import psycopg2
from psycopg2 import extensions


def wait(conn, deadline):
    """Drive the asynchronous connection `conn` until its operation is done, or raise
    TimeoutError once `deadline` (time.monotonic(); None: never) has passed."""
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError("no answer before the client's deadline")
        if state == extensions.POLL_READ:
            select.select([conn.fileno()], [], [], left)
        else:
            select.select([], [conn.fileno()], [], left)


def connect(host, port, user, password, deadline, dbname="postgres", **libpq):
    """A session in autocommit: asynchronous, established before `deadline`; with deadline
    None, blocking (libpq's parameters `libpq` apply, e.g. connect_timeout)."""
    if deadline is None:
        conn = psycopg2.connect(host=host, port=port, dbname=dbname, user=user, password=password, **libpq)
        conn.autocommit = True
        return conn
    conn = psycopg2.connect(host=host, port=port, dbname=dbname, user=user, password=password,
                            async_=1, **libpq)
    try:
        wait(conn, deadline)
    except BaseException:
        conn.close()
        raise
    return conn


def execute(conn, sql, params, deadline):
    """Run one statement; its first row (None if it returns none). On an asynchronous
    connection, TimeoutError once `deadline` has passed (None: wait as long as it takes)."""
    cur = conn.cursor()
    cur.execute(sql, params)
    if conn.async_:
        wait(conn, deadline)
    return cur.fetchone() if cur.description else None


def close(conn):
    if conn is not None:
        try:
            conn.close()
        except Exception:  # pylint: disable=broad-except ; already broken
            pass


def read_only(exc):
    """The error of a write on a replica (read_only_sql_transaction)."""
    return getattr(exc, "pgcode", None) == "25006"
