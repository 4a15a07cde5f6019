"""The lab cluster as a client sees it: Salt on the lab master (orchestrations, module calls,
pillar changes) and SQL on a node or through the VIP. The lab tests, the fault library and the
benchmarks share these."""
import contextlib
import json
import time

import psycopg2


def run_orch(lab, mods, pillar=None, timeout=900):
    """`salt-run state.orch mods`: {rc, data (parsed JSON or None), stdout, stderr}."""
    args = ["state.orch", mods, "--out=json"]
    if pillar:
        args.append("pillar=" + json.dumps(pillar))
    res = lab.master.cli("salt-run", *args, capture_output=True, timeout=timeout)
    try:
        data = json.loads(res.stdout)
    except json.JSONDecodeError:
        data = None
    return {"rc": res.returncode, "data": data, "stdout": res.stdout, "stderr": res.stderr}


def salt_json(lab, target, *args, tgt_type="glob", timeout=300):
    """`salt <target> <args>` on the lab master; {minion: return}."""
    flag = {"glob": [], "compound": ["-C"], "list": ["-L"]}[tgt_type]
    res = lab.master.cli("salt", *flag, target, *args, "--out=json", "--static", "-t", str(timeout),
                         capture_output=True, timeout=timeout + 30)
    try:
        return json.loads(res.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise AssertionError(f"salt {target} {args}: {res.stdout[-2000:]} {res.stderr[-2000:]}") from exc


def refresh_pillar(lab):
    lab.master.cli("salt", "-C", "I@pgha:cluster_name:*", "saltutil.refresh_pillar", "wait=True",
                   capture_output=True, check=True)


@contextlib.contextmanager
def pillar_changed(lab, change):
    """Apply `change(pillar)` to the lab's cluster pillar for the duration of the block."""
    import yaml  # pylint: disable=import-outside-toplevel
    path = lab.master.pillar_dir / "cluster.sls"
    original = path.read_text()
    pillar = yaml.safe_load(original)
    change(pillar)
    path.write_text(yaml.safe_dump(pillar, sort_keys=False))
    refresh_pillar(lab)
    try:
        yield pillar
    finally:
        path.write_text(original)
        refresh_pillar(lab)


def superuser(lab):
    """(name, password) of the PostgreSQL superuser in the lab pillar."""
    su = lab.pillar()["pgha"]["postgresql"]["superuser"]
    return su.get("name", "postgres"), su["password"]


def app_user(lab):
    """(name, password) of the first user in the lab pillar."""
    app = lab.pillar()["pgha"]["postgresql"]["users"][0]
    return app["name"], app["password"]


def connect(lab, host, dbname="postgres", timeout=3, port=5432, login=None):
    """A session as `login` ((user, password); default: the superuser)."""
    user, password = login or superuser(lab)
    conn = psycopg2.connect(host=host, port=port, dbname=dbname, user=user, password=password,
                            connect_timeout=timeout)
    conn.autocommit = True
    return conn


def query(lab, host, sql, params=None, dbname="postgres"):
    conn = connect(lab, host, dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def wait_for(predicate, timeout=30, interval=0.2, what="condition"):
    """The first true value of `predicate()` (exceptions retried) before `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # pylint: disable=broad-except ; retried until the deadline
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def identity(lab, host, port=5432):
    """(node name, in recovery?) of the PostgreSQL that `host`:`port` reaches (VIP, HAProxy)."""
    conn = connect(lab, host, port=port, timeout=2)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_read_file('/etc/hostname'), pg_is_in_recovery()")
            hostname, recovery = cur.fetchone()
    finally:
        conn.close()
    return hostname.strip(), recovery


def serves_writes_as(lab, host, node_name):
    """True when `host` (e.g. the VIP) reaches `node_name`'s PostgreSQL and it is the primary."""
    return identity(lab, host) == (node_name, False)


def leader_name(lab):
    """The lab node whose PostgreSQL is not in recovery (None if none)."""
    for node in lab.nodes():
        if query(lab, node.address, "SELECT NOT pg_is_in_recovery()")[0][0]:
            return node.name
    return None


def vip_holders(lab, names, vip):
    """Those of the nodes `names` that hold the address `vip`."""
    return [n for n in names if vip in lab.node(n).exec(["ip", "-4", "-o", "addr"], capture=True).stdout]


def patroni_roles(lab, via="pg1"):
    """{member: role} from Patroni's listing (pgha_patroni.cluster on `via`)."""
    res = lab.master.cli("salt", via, "pgha_patroni.cluster", "--out=json", "--static",
                         capture_output=True, timeout=60)
    members = json.loads(res.stdout)[via]["members"]
    return {m["name"]: m["role"] for m in members}
