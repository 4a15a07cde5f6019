"""A fake PostgreSQL for the pgha_postgres unit tests: a ``cmd.run_all`` that runs the module's
real RUNNER program in-process, with ``psycopg2.connect`` replaced by a connection whose cursor
interprets the few statements pgha_postgres sends (against dicts of roles, databases,
extensions and auth functions) and records each one as the ``psycopg2.sql.Composed`` it got.
"""
import contextlib
import io
import json
import sys
from unittest.mock import patch

import psycopg2
from psycopg2 import sql


def template_of(composed):
    """(template with {} for each argument, [argument objects]) of a composed statement."""
    parts = composed.seq if isinstance(composed, sql.Composed) else [composed]
    text, args = "", []
    for part in parts:
        if isinstance(part, sql.SQL):
            text += part.string
        else:
            text += "{}"
            args.append(part)
    return text, args


def value(arg):
    if isinstance(arg, sql.Identifier):
        return arg.strings[0] if len(arg.strings) == 1 else tuple(arg.strings)
    return arg.wrapped


class FakePostgres:
    def __init__(self):
        self.roles = {"postgres": {"rolsuper": True, "rolcreatedb": True, "rolcreaterole": True,
                                   "rolcanlogin": True, "rolreplication": True, "rolpassword": None}}
        self.databases = {"postgres": ("UTF8", "C.UTF-8", "C.UTF-8", "postgres"),
                          "template1": ("UTF8", "C.UTF-8", "C.UTF-8", "postgres")}
        self.extensions = {}      # (db, name) -> schema
        self.auth = {}            # db -> set of roles granted
        self.executed = []        # (dbname, Composed)
        self.runs = []            # (argv, runas, stdin) of each cmd.run_all

    # -- the statements ------------------------------------------------------------------
    def execute(self, dbname, composed):
        self.executed.append((dbname, composed))
        text, args = template_of(composed)
        vals = [value(a) for a in args]
        words = text.split()
        if text.startswith("SELECT rolsuper"):
            role = self.roles.get(vals[0])
            cols = ["rolsuper", "rolcreatedb", "rolcreaterole", "rolcanlogin", "rolreplication", "rolpassword"]
            return [[role[c] for c in cols]] if role else []
        if text.startswith("CREATE ROLE"):
            assert vals[0] not in self.roles
            role = {"rolsuper": False, "rolcreatedb": False, "rolcreaterole": False, "rolcanlogin": False,
                    "rolreplication": False, "rolpassword": vals[1] if len(vals) > 1 else None}
            self._flags(role, words)
            self.roles[vals[0]] = role
            return None
        if text.startswith("ALTER ROLE {} PASSWORD"):
            self.roles[vals[0]]["rolpassword"] = vals[1]
            return None
        if text.startswith("ALTER ROLE {} WITH"):
            self._flags(self.roles[vals[0]], words)
            return None
        if text.startswith("SELECT 1 FROM pg_catalog.pg_database"):
            return [[1]] if vals[0] in self.databases else []
        if text.startswith("SELECT pg_catalog.pg_encoding_to_char"):
            row = self.databases.get(vals[0])
            return [list(row)] if row else []
        if text.startswith("CREATE DATABASE"):
            named = dict(zip([w for w in words[3:] if w.isupper() and w != "TEMPLATE"], vals[1:]))
            assert vals[0] not in self.databases and words[-2:] == ["TEMPLATE", "template0"]
            self.databases[vals[0]] = (named.get("ENCODING", "UTF8"), named.get("LC_COLLATE", "C"),
                                       named.get("LC_CTYPE", "C"), named.get("OWNER", "postgres"))
            return None
        if text.startswith("ALTER DATABASE"):
            self.databases[vals[0]] = self.databases[vals[0]][:3] + (vals[1],)
            return None
        if text.startswith("SELECT n.nspname FROM pg_catalog.pg_extension"):
            schema = self.extensions.get((dbname, vals[0]))
            return [[schema]] if schema else []
        if text.startswith("CREATE EXTENSION"):
            self.extensions[(dbname, vals[0])] = vals[1] if len(vals) > 1 else "public"
            return None
        if text.startswith("ALTER EXTENSION"):
            self.extensions[(dbname, vals[0])] = vals[1]
            return None
        if text.startswith("SELECT p.prosrc"):
            if vals[1] not in self.roles:
                return []
            granted = vals[1] in self.auth.get(dbname, set())
            body = " SELECT usename, passwd FROM pg_shadow WHERE usename = p_usename "
            return [[body if dbname in self.auth else None, dbname in self.auth, granted, granted, False]]
        if text.startswith(("CREATE SCHEMA", "CREATE OR REPLACE FUNCTION", "REVOKE", "GRANT USAGE")):
            self.auth.setdefault(dbname, set())
            return None
        if text.startswith("GRANT EXECUTE"):
            self.auth.setdefault(dbname, set()).add(vals[1])
            return None
        raise AssertionError(f"statement the fake does not know: {text}")

    @staticmethod
    def _flags(role, words):
        names = {"SUPERUSER": "rolsuper", "CREATEDB": "rolcreatedb", "CREATEROLE": "rolcreaterole",
                 "LOGIN": "rolcanlogin", "REPLICATION": "rolreplication"}
        for word in words:
            if word in names:
                role[names[word]] = True
            elif word.startswith("NO") and word[2:] in names:
                role[names[word[2:]]] = False

    # -- psycopg2 and cmd.run_all ----------------------------------------------------------
    def connect(self, dbname=None, **_):
        fake = self
        if dbname not in self.databases:
            raise psycopg2.OperationalError(f'FATAL:  database "{dbname}" does not exist')

        class Cursor:
            description = None

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, query, params=None):
                assert params is None, "pgha_postgres sends no query parameters (a % in a name)"
                self.rows = fake.execute(dbname, query)
                self.description = None if self.rows is None else [("c",)]

            def fetchall(self):
                return self.rows

        class Conn:
            autocommit = False

            def cursor(self):
                return Cursor()

            def close(self):
                pass

        return Conn()

    def run_all(self, argv, runas=None, stdin=None, python_shell=None, **kwargs):
        from pgha_postgres import RUNNER  # pylint: disable=import-outside-toplevel
        assert argv == [sys.executable, "-c", RUNNER] and python_shell is False
        assert kwargs.get("output_loglevel") == "quiet"
        self.runs.append((argv, runas, stdin))
        out, err, code = io.StringIO(), "", 0
        with patch.object(psycopg2, "connect", self.connect), patch.object(sys, "stdin", io.StringIO(stdin)), \
                contextlib.redirect_stdout(out):
            try:
                exec(RUNNER, {"__name__": "__main__"})  # pylint: disable=exec-used
            except SystemExit as exc:
                code, err = 1, str(exc.code)
        return {"retcode": code, "stdout": out.getvalue(), "stderr": err}

    def requests(self):
        return [json.loads(stdin) for _, _, stdin in self.runs]
