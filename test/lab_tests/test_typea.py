"""Type A on real nodes: HAProxy + keepalived on two balancers, PgBouncer on three database
nodes, synchronous mode on. Clients use the keepalived VIP. Every password is a nasty one and a
user and a database have names that need quoting (pghalab.nasty): they log in exactly, their
prefixes do not. Careless and hostile orchestration input is refused before any change. Last,
faults: the crash of the balancer holding the VIP and of the primary, under a writer through
port 5000."""
import base64
import collections
import ipaddress
import json
import shlex
import time
import urllib.error
import urllib.request

import psycopg2
import pytest

from pghalab import nasty
from pghalab.cluster import (app_user, connect, identity, patroni_roles, query, run_orch, salt_json, superuser,
                             wait_for)
from pghalab.faults import assert_fault_handled, run_fault

from .helpers import (assert_orch_changed_nothing, kill_haproxy_on_vip_holder, minion_changes,
                      state_comments, steps)

SCENARIO = "typea"
VIP = "10.213.0.100"


def whoami(lab, port):
    return identity(lab, VIP, port)


def test_deploy_type_a(lab, deployed):
    result = deployed["result"]
    assert result["rc"] == 0, result["stdout"][-4000:] + result["stderr"][-2000:]
    failed = {k: v.get("comment") for k, v in steps(result).items() if v.get("result") is not True}
    assert not failed


def test_ports_route_by_role(lab, deployed):
    roles = patroni_roles(lab)
    leader = next(n for n, r in roles.items() if r == "leader")
    sync = {n for n, r in roles.items() if r == "sync_standby"}
    asyncs = {n for n, r in roles.items() if r == "replica"}
    assert len(sync) == 1 and len(asyncs) == 1, roles
    assert whoami(lab, 5000) == (leader, False)
    seen = collections.Counter(whoami(lab, 5001) for _ in range(6))
    assert {h for h, _ in seen} == sync | asyncs, seen
    assert all(recovery for _, recovery in seen)
    assert {whoami(lab, 5002)[0] for _ in range(4)} == sync
    assert {whoami(lab, 5003)[0] for _ in range(4)} == asyncs
    assert whoami(lab, 6000) == (leader, False)           # direct port, no PgBouncer


def test_pgbouncer_pools_are_used(lab, deployed):
    roles = patroni_roles(lab)
    leader = next(n for n, r in roles.items() if r == "leader")
    app_name, _ = app_user(lab)
    conn = connect(lab, VIP, dbname="appdb", port=5000, login=app_user(lab))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        pgb = lab.pillar()["pgha"]["pgbouncer"]["auth_user"]
        admin = psycopg2.connect(host=lab.node(leader).address, port=6432, dbname="pgbouncer",
                                 user="pgbouncer", password=pgb["password"], connect_timeout=3)
        admin.autocommit = True
        try:
            with admin.cursor() as cur:
                cur.execute("SHOW POOLS")
                cols = [c.name for c in cur.description]
                pools = [dict(zip(cols, row)) for row in cur.fetchall()]
        finally:
            admin.close()
    finally:
        conn.close()
    appdb = [p for p in pools if p["database"] == "appdb" and p["user"] == app_name]
    assert appdb and appdb[0]["sv_active"] + appdb[0]["sv_idle"] + appdb[0]["sv_used"] >= 1, pools


def test_switchover_moves_port_5000_and_cuts_old_sessions(lab, deployed):
    roles = patroni_roles(lab)
    old = next(n for n, r in roles.items() if r == "leader")
    candidate = next(n for n, r in roles.items() if r == "sync_standby")
    session = connect(lab, VIP, port=5000)
    started = time.monotonic()
    res = lab.master.cli("salt", old, "pgha_patroni.switchover", f"candidate={candidate}",
                         "--out=json", "--static", capture_output=True, timeout=120)
    assert res.returncode == 0, res.stdout
    wait_for(lambda: whoami(lab, 5000) == (candidate, False), timeout=30,
             what="port 5000 on the new primary")
    print(f"\nFIGURE port5000_follows_switchover_seconds={time.monotonic() - started:.1f}")
    with pytest.raises(psycopg2.Error):
        with session.cursor() as cur:
            cur.execute("SELECT 1")
    session.close()
    lab.master.cli("salt", "-I", "pgha:roles:postgresql", "pgha_patroni.wait_healthy",
                   "role=member", "timeout=120", capture_output=True, timeout=180)


def test_vip_moves_when_haproxy_dies(lab, deployed):
    seconds = kill_haproxy_on_vip_holder(lab, ["lb1", "lb2"], VIP)
    print(f"\nFIGURE vip_failover_to_other_balancer_seconds={seconds:.1f}")


# -- careless and hostile input (issue 17) ------------------------------------------------------

def _logs_in(lab, host, port, user, password, dbname="postgres",
             sql="SELECT current_user, current_database()"):
    """The first row of `sql` in a session as `user` (default: who and where), or None when
    the login is refused."""
    try:
        conn = connect(lab, host, dbname=dbname, port=port, login=(user, password))
    except psycopg2.OperationalError as exc:
        assert "authentication failed" in str(exc) or "password" in str(exc), exc
        return None
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()
    finally:
        conn.close()


def _http_status(url, user, password, method="GET"):
    """The HTTP status of `url` with basic authentication (the password's UTF-8 bytes)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None,
                                 headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_nasty_passwords_log_in_exactly_and_prefixes_do_not(lab, deployed):
    """Each password of the pillar (pghalab.nasty) logs in where it is used, and what a writer
    that does not quote would have kept of it (up to a `#`, a space, a quote) is refused."""
    pillar = lab.pillar()["pgha"]
    leader = lab.node(next(n for n, r in patroni_roles(lab).items() if r == "leader")).address
    su_name, su_password = superuser(lab)
    app_name, app_password = app_user(lab)
    replicator = pillar["postgresql"]["replication_user"]
    pgb = pillar["pgbouncer"]["auth_user"]
    logins = [
        # (where, check(password) -> logged in?)
        ("superuser on the leader", su_password,
         lambda pw: _logs_in(lab, leader, 5432, su_name, pw) is not None),
        ("replication user on the leader", replicator["password"],
         lambda pw: _logs_in(lab, leader, 5432, replicator.get("name", "replicator"), pw) is not None),
        ("app user through VIP:5000 (HAProxy, PgBouncer)", app_password,
         lambda pw: _logs_in(lab, VIP, 5000, app_name, pw, "appdb") == (app_name, "appdb")),
        ("PgBouncer's auth user on its admin console", pgb["password"],
         # the admin console knows SHOW commands only
         lambda pw: _logs_in(lab, leader, 6432, pgb.get("name", "pgbouncer"), pw, "pgbouncer",
                             sql="SHOW VERSION") is not None),
        ("HAProxy stats on VIP:7000", pillar["haproxy"]["stats_password"],
         lambda pw: _http_status(f"http://{VIP}:7000/", pillar["haproxy"].get("stats_user", "admin"), pw) == 200),
        # an unsafe endpoint asks for the REST API's password; a reload changes nothing
        ("Patroni REST API (POST /reload)", pillar["patroni"]["restapi"]["password"],
         lambda pw: _http_status(f"http://{leader}:8008/reload", pillar["patroni"]["restapi"].get("username", "patroni"),
                                 pw, method="POST") != 401),
    ]
    wrong = []
    for where, password, logs_in in logins:
        if not logs_in(password):
            wrong.append(f"{where}: the exact password is refused")
        wrong += [f"{where}: the prefix {prefix!r} logs in" for prefix in nasty.prefixes(password) if logs_in(prefix)]
    assert not wrong, wrong


def test_names_that_need_quoting_are_created_and_log_in(lab, deployed):
    """The user and the database of pghalab.nasty (mixed case, a space, both quotes, `$`) exist
    under their exact names and the user logs in to the database, directly (port 6000) and
    through PgBouncer (port 5000). test_second_deploy_changes_nothing then finds nothing to do
    for them."""
    user = next(u for u in lab.pillar()["pgha"]["postgresql"]["users"] if u["name"] == nasty.USER)
    for port in (6000, 5000):
        assert _logs_in(lab, VIP, port, nasty.USER, user["password"], nasty.DATABASE) == (
            nasty.USER, nasty.DATABASE), port
    assert _logs_in(lab, VIP, 6000, nasty.USER, nasty.prefixes(user["password"])[0], nasty.DATABASE) is None
    # nothing truncated or lower-cased beside them
    conn = connect(lab, VIP, port=6000)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT rolname FROM pg_roles WHERE lower(rolname) LIKE 'mixed%'")
            assert [r for (r,) in cur.fetchall()] == [nasty.USER]
            cur.execute("SELECT datname FROM pg_database WHERE lower(datname) LIKE 'db of%'")
            assert [d for (d,) in cur.fetchall()] == [nasty.DATABASE]
    finally:
        conn.close()


def _hba_names(text):
    """A pg_hba database or user field of pillar as PostgreSQL lists it: the names without
    pg_hba's quotes, a +role's mark kept."""
    names = []
    for item in text.split(","):
        mark = "+" if item.startswith("+") else ""
        name = item[len(mark):]
        names.append(mark + (name[1:-1] if name.startswith('"') and name.endswith('"') else name))
    return names


def _hba_address(text):
    """(address, netmask) of a pg_hba address of pillar as pg_hba_file_rules shows them."""
    parts = text.split()
    if len(parts) == 2:
        return parts[0], parts[1]
    try:
        netmask = ipaddress.ip_network(text, strict=False).netmask
    except ValueError:
        return text, None       # all, samehost, samenet or a host name
    return text.split("/")[0], str(netmask)


def test_pg_hba_lines_read_back_by_postgresql(lab, deployed):
    """PostgreSQL reads pg_hba.conf (pg_hba_file_rules) without an error, and finds each line of
    pillar (names in quotes, lists, a +role, a netmask, LDAP options with quotes, spaces and
    commas) with exactly its database, user, address, method and options."""
    leader = next(n for n, r in patroni_roles(lab).items() if r == "leader")
    rows = query(lab, lab.node(leader).address,
                 "SELECT line_number, type, database, user_name, address, netmask, auth_method, options, error "
                 "FROM pg_hba_file_rules ORDER BY line_number")
    assert rows and not [r for r in rows if r[8]], rows
    # PostgreSQL lists the options it filled in too (ldap: ldapscope=2): each of pillar's is there
    found = [((r[1], tuple(r[2]), tuple(r[3]), r[4], r[5], r[6]), set(r[7] or ())) for r in rows]
    entries = lab.pillar()["pgha"]["postgresql"]["pg_hba"]
    assert any(e.get("options") for e in entries) and any('"' in e["user"] for e in entries), entries
    for entry in entries:
        expected = (entry["type"], tuple(_hba_names(entry["database"])), tuple(_hba_names(entry["user"])),
                    *_hba_address(entry["address"]), entry["method"])
        options = set(shlex.split(entry.get("options") or ""))
        assert any(fields == expected and options <= read for fields, read in found), (expected, options, rows)


def _assert_refused_unchanged(result, *words):
    """The orchestration failed before any minion state ran, and says `words`."""
    assert result["rc"] != 0, result["stdout"][-4000:]
    text = result["stdout"] + result["stderr"]
    for word in words:
        assert word in text, (word, text[-4000:])
    changed = {}
    for step in steps(result).values():
        changed.update(minion_changes(step))
    assert not changed, changed


def _leader_and_members(roles):
    # Patroni may hand the synchronous standby role from one replica to the other at any time
    # (synchronous_mode), so only the leader and the member set tell whether something changed.
    return {name: role == "leader" for name, role in roles.items()}


def _cluster_untouched(lab, before):
    """The same members under the same leader, each PostgreSQL answering."""
    assert _leader_and_members(patroni_roles(lab)) == _leader_and_members(before)
    for name in before:
        assert identity(lab, lab.node(name).address)[0] == name


def test_clusters_whose_names_differ_only_in_case_are_refused(lab, deployed):
    """pg3's pillar names cluster `Lab` for a moment: `lab` and `Lab` are refused with both
    names (Salt's pillar targeting would mix their nodes), and nothing changes."""
    before = patroni_roles(lab)
    path = lab.master.pillar_dir / "roles_pg3.sls"
    original = path.read_text()

    def refresh():
        lab.master.cli("salt", "pg3", "saltutil.refresh_pillar", "wait=True", capture_output=True, check=True)

    try:
        path.write_text(original.rstrip("\n") + "\n  cluster_name: Lab\n")
        refresh()
        assert salt_json(lab, "pg3", "pillar.get", "pgha:cluster_name", "unmask=True")["pg3"] == "Lab"
        for name in ("lab", "Lab"):
            _assert_refused_unchanged(run_orch(lab, "pgha.deploy", {"cluster": name}, timeout=300),
                                      "differ only in case", "lab", "Lab")
    finally:
        path.write_text(original)
        refresh()
    assert salt_json(lab, "pg3", "pillar.get", "pgha:cluster_name", "unmask=True")["pg3"] == "lab"
    _cluster_untouched(lab, before)


@pytest.mark.parametrize("pattern,words", [
    ("*", "no glob"), ("la*", "no glob"), ("l?b", "no glob"), ("[l]ab", "no glob"),
    # pillar targeting would match it; the planner compares exactly
    ("LAB", "no minion has pgha:cluster_name LAB")])
def test_remove_with_a_glob_or_another_case_is_refused(lab, deployed, pattern, words):
    """pgha.remove with a pattern (and a pin that matches it) is refused before any change."""
    before = patroni_roles(lab)
    result = run_orch(lab, "pgha.remove", {"cluster": pattern, "confirm_remove": pattern, "remove_postgres": True,
                                           "remove_etcd": True, "remove_data": True}, timeout=300)
    _assert_refused_unchanged(result, "pgha.remove", words)
    _cluster_untouched(lab, before)


def _active(node, unit):
    res = node.exec(["systemctl", "is-active", unit], check=False, capture=True)
    return res.stdout.strip() == "active"


@pytest.mark.parametrize("ops", [
    {"stage": "postgres", "remove_data": True},
    {"stage": "postgres", "remove_data": True, "confirm_remove": "Lab"},
    {"stage": "postgres", "remove_data": True, "confirm_remove": "*"},
    {"stage": "forget", "confirm_remove": "la*"},
    # the right pin, but Patroni runs here: etcd stays
    {"stage": "etcd", "confirm_remove": "lab"},
], ids=["no-pin", "other-case", "glob", "forget-glob", "etcd-under-patroni"])
def test_ops_remove_applied_directly_is_refused(lab, deployed, ops):
    """`salt NODE state.sls pgha.ops.remove` without the orchestration's pin (or with etcd under
    a running Patroni) fails with one refusing state: PostgreSQL keeps running with its data."""
    before = patroni_roles(lab)
    name = next(n for n, r in before.items() if r == "replica")   # the async replica, to be safe
    node = lab.node(name)
    try:
        ret = salt_json(lab, name, "state.sls", "pgha.ops.remove", "pillar=" + json.dumps({"pgha_ops": ops}))[name]
        assert isinstance(ret, dict), ret
        assert [s["__id__"] for s in ret.values()] == ["pgha-ops-remove-refused"], ret
        state = next(iter(ret.values()))
        assert state["result"] is False and state["changes"] == {}, state
        assert ("etcd stays" if ops["stage"] == "etcd" else "does not name it") in state["comment"], state
        for unit in ("patroni", "etcd", "pgbouncer"):
            assert _active(node, unit), unit
        data_dir = query(lab, node.address, "SHOW data_directory")[0][0]
        assert node.exec(["test", "-f", f"{data_dir}/PG_VERSION"], check=False).returncode == 0
    finally:
        # a guard that failed must not leave the rest of the module on a broken node
        for unit in ("etcd", "patroni", "pgbouncer"):
            node.exec(["systemctl", "start", unit], check=False)
    _cluster_untouched(lab, before)


@pytest.mark.extended     # make test's time budget: test_typeb.py's second deploy checks the same for Type B
def test_second_deploy_changes_nothing(lab, deployed):
    assert_orch_changed_nothing(run_orch(lab, "pgha.deploy"))


def test_haproxy_open_files_checked_before_it_changes(lab, deployed):
    """The balancers' open files against pgha:haproxy:maxconn (pgha.haproxy.limits): the deploy's
    4000 fits this machine's limit; a maxconn beyond it stops a (dry) highstate of pgha.haproxy
    before HAProxy's configuration, naming the key and a maxconn that fits, where HAProxy >= 3.0
    would refuse to start (Debian 13), and only warns with 2.6 (Debian 12)."""
    comments = state_comments(deployed["result"], "pgha-haproxy-fd-limits-checked")
    assert set(comments) >= {"lb1", "lb2"}, comments
    for minion in ("lb1", "lb2"):
        assert all(c.startswith("pgha:haproxy:maxconn: 4000 connections need about")
                   for c in comments[minion]), comments
    hard = salt_json(lab, "lb1", "pgha_limits.nofile")["lb1"]["pid1_hard"]
    if hard is None or hard > 400000:
        pytest.skip(f"lb1's PID 1 allows {hard} open files: no maxconn up to 200000 is short")
    too_many = hard // 2      # needs 2 per connection and then some: more than PID 1 allows
    version = salt_json(lab, "lb1", "pgha_limits.haproxy_version")["lb1"]
    strict = tuple(int(x) for x in version.split("-")[0].split(".")[:2]) >= (3, 0)
    verdict = salt_json(lab, "lb1", "pgha_limits.haproxy_check", str(too_many))["lb1"]
    assert verdict["level"] == ("error" if strict else "warn"), verdict
    assert verdict["available"] == hard, verdict
    assert verdict["message"].startswith(
        f"pgha:haproxy:maxconn: {too_many} connections need about {verdict['needed']} open "
        f"files, but this host allows at most {hard} (the hard RLIMIT_NOFILE of PID 1"), verdict
    assert "lower pgha:haproxy:maxconn to" in verdict["message"], verdict
    pillar = json.dumps({"pgha": {"haproxy": {"maxconn": too_many}}})
    ret = salt_json(lab, "lb1", "state.sls", "pgha.haproxy", "test=True", f"pillar={pillar}")
    check = state_comments(ret, "pgha-haproxy-fd-limits-checked")["lb1"]
    assert check[0].startswith(("" if strict else "Warning: ") + verdict["message"][:60]), check
    if strict:      # failhard: nothing of HAProxy's after the check ran, not even in a dry run.
        # Salt leaves such a state out of its return or reports it not run, depending on the
        # order it reached the two in (Debian 13's lab run sees the latter).
        later = state_comments(ret, "pgha-haproxy-config-file-managed").get("lb1", [])
        assert all(c.startswith("One or more requisite failed") for c in later), ret


# -- faults (pghalab.faults.run_fault; see test_resilience.py) -------------------------------
# Last in the module: each ends with the cluster healthy again, but on another leader. With a
# synchronous standby at the time of the fault Patroni promotes only it: nothing acknowledged
# may be lost. Debian 12 only (make test-debian13 skips them): the faults' outcome depends on
# Patroni and keepalived, not on the packaging.

def _fault(lab, fault):
    if lab.info["suite"] != "bookworm":
        pytest.skip("faults run on Debian 12 only")
    run = run_fault(lab, fault)
    print("\n" + run.figure(prefix="typea "))
    assert run.topo.port == 5000 and run.topo.balancers
    assert run.dcs.get("synchronous_mode") is True and run.allowed_lost() == 0
    assert_fault_handled(run)
    return run


@pytest.mark.extended     # make test's time budget: test_vip_moves_when_haproxy_dies keeps keepalived's move
def test_crash_of_the_balancer_holding_the_vip(lab, deployed):
    """A power cut of the balancer that holds the VIP: keepalived on the other takes it, port
    5000 answers there; the crashed balancer boots again, and after it one balancer holds the
    VIP. The database is untouched: same leader, nothing lost."""
    run = _fault(lab, "balancer-crash")
    assert run.leader_after == run.leader_before
    assert not run.check["lost"]


def test_crash_of_the_primary_through_port_5000(lab, deployed):
    """A power cut of the leader's node: HAProxy marks it down, Patroni promotes the synchronous
    standby, port 5000 follows; the old primary boots again and rejoins as a replica."""
    run = _fault(lab, "crash")
    assert run.leader_after != run.targets[0]
