"""
Patroni's own account of a failure, picked out of its log (pure Python, no ``__salt__``). A
gate that gives up on Patroni (``pgha_patroni.wait_healthy``) quotes it, so that the failed
orchestration step says why (``UnicodeDecodeError`` in ``create_or_update_role``, ``FATAL:
password authentication failed``...) instead of only "not healthy after 180s". Synced with
``saltutil.sync_utils``.
"""
import re

# Patroni's log levels and PostgreSQL's severities that mean "this went wrong".
ERROR_RE = re.compile(r"\b(ERROR|FATAL|CRITICAL|PANIC)\b")
REDACTED = "<redacted>"


def secrets_of(conf):
    """Every ``password`` value in Patroni's configuration ``conf``: the log lines are redacted
    of them before they reach a state's comment (and so the job cache)."""
    found = []
    if isinstance(conf, dict):
        for key, value in conf.items():
            if key == "password" and isinstance(value, str) and value:
                found.append(value)
            else:
                found.extend(secrets_of(value))
    elif isinstance(conf, list):
        for value in conf:
            found.extend(secrets_of(value))
    return found


def _redact(line, secrets):
    # the longest first, so that a secret that contains another is redacted whole
    for secret in sorted(set(secrets), key=len, reverse=True):
        line = line.replace(secret, REDACTED)
    return line


def last_errors(text, secrets=(), limit=5, width=300):
    """
    The last ``limit`` error lines of a Patroni log ``text`` (``journalctl -o cat``): lines
    with ERROR, FATAL, CRITICAL or PANIC, and for each Python traceback its last line, the
    exception (``UnicodeDecodeError: 'ascii' codec can't decode ...``) with the frame that
    raised it. Each line is cut to ``width`` characters and redacted of ``secrets``;
    repeated lines (Patroni retries every loop) are given once, at their last place.
    """
    picked, frame, in_traceback = [], "", False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("Traceback (most recent call last)"):
            in_traceback, frame = True, ""
            continue
        if in_traceback:
            if line[:1].isspace():
                if stripped.startswith("File "):
                    frame = stripped
                continue
            # the exception line ends the traceback
            in_traceback = False
            picked.append(f"{stripped} ({frame})" if frame else stripped)
            continue
        if ERROR_RE.search(line):
            picked.append(stripped)
    unique = list(reversed(list(dict.fromkeys(reversed(picked)))))
    lines = [_redact(line, secrets) for line in unique[-limit:]]
    return [line if len(line) <= width else line[:width - 3] + "..." for line in lines]
