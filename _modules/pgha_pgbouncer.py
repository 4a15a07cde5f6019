"""
PgBouncer on a database node (issue 21): its version (for the settings it has), the gate that
waits until it answers, and PAUSE/RESUME through its admin console around a planned switchover.

The admin console is the database ``pgbouncer`` of PgBouncer's own port; its user is
``pgha:pgbouncer:auth_user:name`` (PgBouncer's admin_users), whose password is read here from
``__pillar__`` (Salt 3008's pillar.get masks values outside a template), never passed in, logged
or returned. The console takes only simple commands without parameters: the few this module
sends are constants.
"""
import logging
import re
import select
import time

import salt.utils.data
import salt.utils.path
from salt.exceptions import CommandExecutionError

log = logging.getLogger(__name__)

__virtualname__ = "pgha_pgbouncer"

VERSION_RE = re.compile(r"PgBouncer\s+(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)
ADMIN_DB = "pgbouncer"


def __virtual__():
    return __virtualname__


def version(binary="pgbouncer"):
    """
    The installed PgBouncer's version (``'1.18.0'``) from ``pgbouncer --version``, or ``''``
    when PgBouncer is not installed. pgha.validate uses it on a re-run: it wins over the
    package sources' ``pgbouncer:version``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbouncer.version
    """
    path = salt.utils.path.which(binary) or salt.utils.path.which(f"/usr/sbin/{binary}")
    if not path:
        return ""
    res = __salt__["cmd.run_all"]([path, "--version"], python_shell=False, ignore_retcode=True,
                                  output_loglevel="quiet")
    found = VERSION_RE.search(f"{res.get('stdout', '')}\n{res.get('stderr', '')}")
    return found.group(1) if found else ""


def _password():
    return salt.utils.data.traverse_dict_and_list(__pillar__, "pgha:pgbouncer:auth_user:password", "",
                                                  delimiter=":")


def _admin_user():
    return salt.utils.data.traverse_dict_and_list(__pillar__, "pgha:pgbouncer:auth_user:name", "pgbouncer",
                                                  delimiter=":")


def _connect(host, port, timeout, async_=False):
    import psycopg2  # pylint: disable=import-outside-toplevel
    try:
        conn = psycopg2.connect(host=host, port=int(port), dbname=ADMIN_DB, user=_admin_user(),
                                password=_password(), connect_timeout=max(1, int(timeout)),
                                application_name="pgha", async_=1 if async_ else 0)
        if async_:
            if not _wait(conn, time.monotonic() + timeout):
                conn.close()
                raise CommandExecutionError(f"PgBouncer's admin console on {host}:{port}: no connection "
                                            f"within {timeout} s")
        else:
            # the admin console has no transactions: autocommit sends each command as it is
            conn.autocommit = True
        return conn
    except psycopg2.Error as exc:
        raise CommandExecutionError(f"PgBouncer's admin console on {host}:{port}: "
                                    f"{(str(exc).strip().splitlines() or ['?'])[0]}") from exc


def _wait(conn, deadline):
    """Poll an asynchronous connection until its command is done; False when ``deadline``
    passed first."""
    import psycopg2.extensions as ext  # pylint: disable=import-outside-toplevel
    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if state == ext.POLL_READ:
            select.select([conn.fileno()], [], [], min(left, 1.0))
        elif state == ext.POLL_WRITE:
            select.select([], [conn.fileno()], [], min(left, 1.0))


def _command(host, port, command, timeout=10):
    """One admin console command (a constant of this module); its rows, if any. PgBouncer's
    refusals (e.g. RESUME: "pooler is not paused/suspended") come back as
    CommandExecutionError, like a failed connection, so callers handle one kind."""
    import psycopg2  # pylint: disable=import-outside-toplevel
    conn = _connect(host, port, timeout)
    try:
        with conn.cursor() as cur:
            cur.execute(command)
            return cur.fetchall() if cur.description else None
    except psycopg2.Error as exc:
        raise CommandExecutionError(f"{command} on {host}:{port}: "
                                    f"{(str(exc).strip().splitlines() or ['?'])[0]}") from exc
    finally:
        conn.close()


def ready(port=6432, host="127.0.0.1", timeout=60):
    """
    Wait until PgBouncer answers on ``host:port`` (its admin console's ``SHOW VERSION``);
    returns the version it reports. The deploy's gate.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbouncer.ready
    """
    deadline, last = time.monotonic() + timeout, None
    while True:
        try:
            rows = _command(host, port, "SHOW VERSION", timeout=5)
            return str(rows[0][0]) if rows else ""
        except CommandExecutionError as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"PgBouncer did not answer within {timeout} s: {last}")
        time.sleep(1)


def pause(port=6432, host="127.0.0.1", timeout=10):
    """
    ``PAUSE`` PgBouncer on ``host:port``: it waits for the server connections to be released
    (in session mode: for the clients to disconnect), then holds new queries until ``RESUME``.
    Returns ``{"paused": True}``, or, when the PAUSE did not finish within ``timeout`` seconds,
    resumes it and returns ``{"paused": False, "comment": ...}``: clients are never left held.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbouncer.pause timeout=5
    """
    import psycopg2  # pylint: disable=import-outside-toplevel
    conn = _connect(host, port, timeout, async_=True)
    done, error = False, None
    try:
        # the cursor must outlive the polling: psycopg2 polls an asynchronous command through
        # it ("the asynchronous cursor has disappeared" otherwise, after PAUSE was sent)
        cur = conn.cursor()
        cur.execute("PAUSE")
        done = _wait(conn, time.monotonic() + timeout)
    except psycopg2.Error as exc:
        error = exc
    finally:
        # PgBouncer stays paused after the console disconnects, until a RESUME
        conn.close()
    if done:
        return {"paused": True}
    # a PAUSE sent and still waiting (or failed on our side) holds new queries: undo it from a
    # second connection, whatever went wrong ("not paused" is no error there)
    resume(port=port, host=host)
    if error is not None:
        raise CommandExecutionError(f"PAUSE on {host}:{port}: {(str(error).strip().splitlines() or ['?'])[0]}; "
                                    "resumed") from error
    return {"paused": False, "comment": f"PAUSE on {host}:{port} did not finish within {timeout} s "
                                        "(server connections still in use); resumed"}


def resume(port=6432, host="127.0.0.1", timeout=10):
    """
    ``RESUME`` PgBouncer on ``host:port``. Resuming a PgBouncer that is not paused is no
    error: returns ``{"resumed": False}`` then.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbouncer.resume
    """
    try:
        _command(host, port, "RESUME", timeout=timeout)
    except CommandExecutionError as exc:
        if "not paused" in str(exc).lower():
            return {"resumed": False}
        raise
    return {"resumed": True}


def userlist(names, port=5432, host="/var/run/postgresql"):
    """
    The text of PgBouncer's auth_file in userlist mode (``pgbouncer:auth_user:enabled: false``):
    one ``"name" "SCRAM-SHA-256$..."`` line per role of ``names``, with the verifier PostgreSQL
    stores for it (read on this node; replicas have the leader's). PgBouncer checks clients
    against it and, the salt being PostgreSQL's own, logs in to PostgreSQL with the client's
    SCRAM proof. The file's template calls it; its return holds secrets.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_pgbouncer.userlist '[pgbouncer, app]' --out=quiet
    """
    stored = __salt__["pgha_postgres.scram_verifiers"](names, port=port, host=host)
    lines, problems = [], []
    for name in names:
        verifier = stored.get(name)
        if not isinstance(verifier, str) or not verifier.startswith("SCRAM-SHA-256$"):
            problems.append(f"{name!r} has {'no role' if name not in stored else 'no SCRAM-SHA-256 password'} "
                            "in PostgreSQL")
            continue
        lines.append(__utils__["pgha_formats.pgbouncer_userlist"](name, verifier, "pgha:postgresql:users"))
    if problems:
        raise CommandExecutionError("PgBouncer's userlist (pgbouncer:auth_user:enabled false): " +
                                    "; ".join(problems) + " (pgha.postgresql.users creates them on the leader first)")
    return "\n".join(lines) + "\n"
