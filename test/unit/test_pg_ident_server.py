"""pg_ident lines as pgha writes them (pgha_formats.pg_ident_line, pg_hba_line), read by a real
PostgreSQL: a peer line with map= lets the OS user the map names log in as the role, a
regular expression with \\1 maps by name, a name that needs quoting stays one field, and an OS
user no line names is refused. Skipped where test_mod_pgha_postgres_server's server cannot run."""
import subprocess
from pathlib import Path

import pgha_formats
from test_mod_pgha_postgres_server import _conn, mod, server  # noqa: F401  (fixtures)

IDENT = [{"mapname": "ops", "system_username": "nobody", "pg_username": 'Read "Only"'},
         {"mapname": "ops", "system_username": "/^(dae.*)$", "pg_username": "\\1"}]
HBA = [{"type": "local", "database": "all", "user": "postgres", "method": "trust"},
       {"type": "local", "database": "all", "user": 'Read "Only",daemon', "method": "peer", "options": "map=ops"},
       {"type": "local", "database": "all", "user": "all", "method": "reject"}]


def _psql(server, os_user, role):
    return subprocess.run(["runuser", "-u", os_user, "--", f"{server['binary']}/psql", "-XAt", "-h", server["host"],
                           "-p", server["port"], "-U", role, "-d", "postgres", "-c", "SELECT current_user"],
                          capture_output=True, text=True, check=False, cwd="/")


def test_peer_with_a_map(mod, server):
    conn = _conn(server)
    data = Path(mod._execute([("SHOW data_directory", [])], **conn)[0][0][0])
    for role in ('Read "Only"', "daemon"):
        mod.role_present(role, login=True, **conn)
    (data / "pg_ident.conf").write_text("".join(pgha_formats.pg_ident_line(e) + "\n" for e in IDENT))
    (data / "pg_hba.conf").write_text("".join(pgha_formats.pg_hba_line(e) + "\n" for e in HBA))
    mod._execute([("SELECT pg_reload_conf()", [])], **conn)
    errors = mod._execute([("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL", [])], **conn)
    assert errors == [[[0]]]
    ok = _psql(server, "nobody", 'Read "Only"')
    assert (ok.returncode, ok.stdout) == (0, 'Read "Only"\n'), ok.stderr
    ok = _psql(server, "daemon", "daemon")
    assert (ok.returncode, ok.stdout) == (0, "daemon\n"), ok.stderr
    refused = _psql(server, "daemon", 'Read "Only"')
    assert refused.returncode != 0 and "Peer authentication failed" in refused.stderr, refused.stderr
