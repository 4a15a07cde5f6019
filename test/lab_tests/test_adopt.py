"""Adopt a running standalone PostgreSQL (pgha:postgresql_exists on pg1): its rows survive on
the primary and on every replica, the stop is announced and short, and failover works.
"""
import datetime
import re

import pytest

from pghalab.cluster import query, run_orch, salt_json, wait_for

from .helpers import steps

SCENARIO = "adopt"
VIP = "10.213.0.100"
ROWS = 1000


@pytest.fixture(scope="module")
def standalone(lab):
    """pg1 runs Debian's own PostgreSQL 15 'main' cluster with a table of rows, as a site
    would before pgha."""
    pg1 = lab.node("pg1")
    pg1.exec(["sh", "-c", "echo 'deb [trusted=yes] file:/srv/pgha-repo ./' > /etc/apt/sources.list.d/lab.list"
              " && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15"])
    sql = (f"CREATE TABLE legacy (id int PRIMARY KEY, note text); "
           f"INSERT INTO legacy SELECT g, 'row ' || g FROM generate_series(1, {ROWS}) g;")
    pg1.exec(["su", "postgres", "-c", f"psql -Xq -c \"{sql}\""])
    started = pg1.exec(["su", "postgres", "-c", "psql -XAtc 'SELECT pg_postmaster_start_time()'"],
                       capture=True).stdout.strip()
    return {"started": started}


def test_mismatch_fails_before_any_change(lab, standalone):
    """Pillar naming another data directory stops the deploy in pgha.prepare: nothing changes
    and the standalone keeps running."""
    pillar_file = lab.master.pillar_dir / "roles_pg1.sls"
    original = pillar_file.read_text()
    pillar_file.write_text(original + "  postgresql:\n    data_dir: /var/lib/postgresql/15/other\n")
    try:
        lab.master.cli("salt", "pg1", "saltutil.refresh_pillar", "wait=True", capture_output=True)
        result = run_orch(lab, "pgha.deploy")
    finally:
        pillar_file.write_text(original)
        lab.master.cli("salt", "pg1", "saltutil.refresh_pillar", "wait=True", capture_output=True)
    assert result["rc"] != 0
    text = result["stdout"] + result["stderr"]
    assert "no node was changed" in text
    assert ("pgha:postgresql:data_dir is /var/lib/postgresql/15/other, but the existing "
            "PostgreSQL uses /var/lib/postgresql/15/main") in text
    pg1 = lab.node("pg1")
    assert pg1.exec(["test", "-e", "/etc/patroni/config.yml"], check=False).returncode != 0
    running = pg1.exec(["su", "postgres", "-c", "psql -XAtc 'SELECT count(*) FROM legacy'"],
                       capture=True).stdout.strip()
    assert running == str(ROWS)


def test_deploy_adopts_the_standalone(lab, standalone, deployed):
    result = deployed["result"]
    assert result["rc"] == 0, result["stdout"][-6000:] + result["stderr"][-2000:]
    assert "will stop for a few seconds" in result["stderr"] + result["stdout"]
    failed = {k: v.get("comment") for k, v in steps(result).items() if v.get("result") is not True}
    assert not failed, failed
    assert query(lab, VIP, "SELECT pg_read_file('/etc/hostname')")[0][0].strip() == "pg1"
    for node in lab.nodes():
        wait_for(lambda n=node: query(lab, n.address, "SELECT count(*) FROM legacy")[0][0] == ROWS,
                 timeout=60, what=f"the standalone's rows on {node.name}")
    assert query(lab, lab.node("pg2").address, "SELECT pg_is_in_recovery()")[0][0] is True


def _pg_log_times(text, message):
    """Timestamps (seconds, UTC) of PostgreSQL log lines carrying `message`."""
    found = []
    for line in text.splitlines():
        match = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (UTC|GMT) \[\d+\] LOG:  " + message, line)
        if match:
            found.append(datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp())
    return found


def test_stop_was_short(lab, standalone, deployed):
    """From the standalone's shutdown to Patroni's PostgreSQL accepting writes."""
    pg1 = lab.node("pg1")
    distro_log = pg1.exec(["cat", "/var/log/postgresql/postgresql-15-main.log"], capture=True).stdout
    patroni_log = pg1.exec(["journalctl", "-u", "patroni", "--no-pager"], capture=True).stdout
    stopped = _pg_log_times(distro_log, "database system is shut down")[-1]
    writable = min(t for t in _pg_log_times(patroni_log, "database system is ready to accept connections")
                   if t > stopped)
    print(f"\nFIGURE adopt_write_unavailable_seconds={writable - stopped:.1f}")
    assert writable > stopped


def test_failover_after_adoption(lab, standalone, deployed):
    from pghalab.__main__ import FAULTS  # pylint: disable=import-outside-toplevel
    FAULTS["crash"](lab, "pg1")
    try:
        new = wait_for(lambda: [n.name for n in lab.nodes() if n.name != "pg1" and not
                                query(lab, n.address, "SELECT pg_is_in_recovery()")[0][0]],
                       timeout=90, what="a new primary after pg1 crashed")
        wait_for(lambda: query(lab, VIP, "SELECT pg_read_file('/etc/hostname')")[0][0].strip() == new[0],
                 timeout=30, what=f"the VIP on {new[0]}")
        assert query(lab, VIP, "SELECT count(*) FROM legacy")[0][0] == ROWS
    finally:
        FAULTS["start"](lab, "pg1")
    lab.master.wait_minions(["pg1"])
    ret = salt_json(lab, "pg1", "pgha_patroni.wait_healthy", "role=replica", "timeout=120")
    assert isinstance(ret["pg1"], str), ret
