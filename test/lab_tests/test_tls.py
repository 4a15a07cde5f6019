"""TLS (scenario `tls`: Type B, pgha:tls on with a cluster CA made when the lab came up, etcd
asking its clients for certificates of it). Clients verify PostgreSQL through the VIP with
sslmode=verify-full and the CA's certificate; a connection without TLS is refused; replicas
stream over TLS; Patroni's REST API and etcd answer https only; pgha's modules (pgha_patroni,
pgha_etcd) and a switchover work over https; the CA's key is on no node; a second deploy
changes nothing (no certificate reissued).

Tests share one cluster, in file order.
"""
import json
import ssl
import urllib.error
import urllib.request
import uuid

import psycopg2
import pytest

from pghalab.ca import make_ca
from pghalab.cluster import leader_name, query, run_orch, salt_json, serves_writes_as, superuser, wait_for

from .helpers import assert_orch_changed_nothing, assert_orch_ok

SCENARIO = "tls"
VIP = "10.213.0.100"
MEMBERS = ("pg1", "pg2", "pg3")
TLS_DIR = "/etc/pgha/tls"


@pytest.fixture(scope="module")
def ca_file(lab, tmp_path_factory):
    """The cluster CA's certificate on the host, as a client of the cluster has it."""
    path = tmp_path_factory.mktemp("tls") / "ca.crt"
    path.write_text(lab.pillar()["pgha"]["tls"]["ca_cert"])
    return str(path)


def _connect(lab, host, sslmode, sslrootcert=None, dbname="postgres"):
    user, password = superuser(lab)
    extra = {"sslrootcert": sslrootcert} if sslrootcert else {}
    conn = psycopg2.connect(host=host, port=5432, dbname=dbname, user=user, password=password,
                            connect_timeout=3, sslmode=sslmode, **extra)
    conn.autocommit = True
    return conn


def _ssl_of_session(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT ssl, version, pg_read_file('/etc/hostname') FROM pg_stat_ssl "
                    "WHERE pid = pg_backend_pid()")
        ssl_on, version, hostname = cur.fetchone()
    return ssl_on, version, hostname.strip()


def _stat(node, path):
    return node.exec(["stat", "-c", "%a %U", path], capture=True).stdout.strip()


def test_deploy_with_tls(lab, deployed):
    assert_orch_ok(deployed["result"])
    for name in MEMBERS:
        node = lab.node(name)
        # each service's key its user's alone; certificates and the CA's readable by all
        assert _stat(node, f"{TLS_DIR}/postgres.key") == "600 postgres", name
        assert _stat(node, f"{TLS_DIR}/etcd.key") == "600 etcd", name
        for path in ("ca.crt", "postgres.crt", "etcd.crt"):
            assert _stat(node, f"{TLS_DIR}/{path}") == "644 root", (name, path)
        assert node.exec(["ls", TLS_DIR], capture=True).stdout.split() == [
            "ca.crt", "etcd.crt", "etcd.key", "postgres.crt", "postgres.key"]
        # signed by the cluster CA, for the node's address and the VIP
        verify = node.exec(["openssl", "verify", "-CAfile", f"{TLS_DIR}/ca.crt", f"{TLS_DIR}/postgres.crt",
                            f"{TLS_DIR}/etcd.crt"], capture=True, check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        names = node.exec(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                           f"{TLS_DIR}/postgres.crt"], capture=True).stdout
        assert f"IP Address:{node.address}" in names and f"IP Address:{VIP}" in names, names


def test_the_ca_key_is_on_no_node(lab, deployed):
    """Each node signed its certificates with the CA's key of pillar, and kept it nowhere: not
    in a file, not in the journal, not in pgha.deploy's output."""
    key = lab.pillar()["pgha"]["tls"]["ca_key"]
    body = [line for line in key.splitlines() if "-----" not in line]
    output = deployed["result"]["stdout"] + deployed["result"]["stderr"]
    assert not [line for line in body if line in output]
    for node in lab.nodes():
        found = node.exec(["grep", "-rlsF", body[1], "/etc", "/var", "/run", "/root", "/tmp", "/opt"],
                          capture=True, check=False).stdout.split()
        assert not found, (node.name, found)
        journal = node.exec(["journalctl", "-b", "--no-pager", "-o", "cat"], capture=True).stdout
        assert body[1] not in journal, node.name


def test_verify_full_through_the_vip(lab, deployed, ca_file):
    """A client that knows only the CA's certificate reaches the primary through the VIP and
    verifies it (the VIP is in every database node's certificate); each node's own address
    verifies too."""
    conn = _connect(lab, VIP, "verify-full", ca_file)
    try:
        ssl_on, version, hostname = _ssl_of_session(conn)
        assert ssl_on and version.startswith("TLSv1."), version
        assert serves_writes_as(lab, VIP, hostname)
        token = str(uuid.uuid4())
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS tls_check (token text PRIMARY KEY)")
            cur.execute("INSERT INTO tls_check VALUES (%s)", (token,))
    finally:
        conn.close()
    for name in MEMBERS:
        address = lab.node(name).address
        wait_for(lambda a=address: query(lab, a, "SELECT 1 FROM tls_check WHERE token = %s", (token,)),
                 timeout=15, what=f"the row on {name}")
        conn = _connect(lab, address, "verify-full", ca_file)
        try:
            assert _ssl_of_session(conn)[0] is True
        finally:
            conn.close()


def test_another_ca_does_not_verify(lab, deployed, tmp_path):
    other = tmp_path / "other-ca.crt"
    other.write_text(make_ca("not the cluster's CA")[0])
    with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
        _connect(lab, VIP, "verify-full", str(other))


def test_a_connection_without_tls_is_refused(lab, deployed):
    """require_ssl (the default): every TCP line of pg_hba is hostssl, the lab's own too."""
    with pytest.raises(psycopg2.OperationalError, match="no pg_hba.conf entry .*no encryption"):
        _connect(lab, VIP, "disable")
    for name in MEMBERS:
        with pytest.raises(psycopg2.OperationalError, match="no encryption"):
            _connect(lab, lab.node(name).address, "disable")


def test_replicas_stream_over_tls(lab, deployed):
    leader = lab.node(leader_name(lab)).address
    rows = query(lab, leader, "SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)")
    assert rows == [(True,), (True,)], rows
    conninfo = query(lab, lab.node([n for n in MEMBERS if lab.node(n).address != leader][0]).address,
                     "SELECT conninfo FROM pg_stat_wal_receiver")[0][0]
    assert "sslmode=verify-full" in conninfo and f"sslrootcert={TLS_DIR}/ca.crt" in conninfo, conninfo


def test_patroni_rest_api_on_https_only(lab, deployed, ca_file):
    context = ssl.create_default_context(cafile=ca_file)
    for name in MEMBERS:
        address = lab.node(name).address
        with urllib.request.urlopen(f"https://{address}:8008/patroni", context=context, timeout=5) as resp:
            assert json.loads(resp.read())["state"] == "running"
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://{address}:8008/patroni", timeout=5).read()  # nosec: lab node
    # pgha's module asks every member over https, verified with the CA file of Patroni's config
    listing = salt_json(lab, "pg1", "pgha_patroni.list")["pg1"]
    assert sorted(listing["members"]) == list(MEMBERS) and listing["leader"] in MEMBERS, listing


def test_etcd_on_https_only_with_client_certificates(lab, deployed):
    node = lab.node("pg1")
    endpoints = ",".join(f"https://{lab.node(n).address}:2379" for n in MEMBERS)
    tls = ["--cacert", f"{TLS_DIR}/ca.crt"]
    cert = ["--cert", f"{TLS_DIR}/etcd.crt", "--key", f"{TLS_DIR}/etcd.key"]
    health = node.exec(["etcdctl", "--endpoints", endpoints, *tls, *cert, "endpoint", "health"],
                       capture=True, check=False)
    said = health.stdout + health.stderr
    assert health.returncode == 0 and said.count("is healthy") == 3, said
    # without a client certificate, and without TLS: refused (the node image has no curl)
    address = node.address
    for url, flags in ((f"https://{address}:2379", tls), (f"http://{address}:2379", [])):
        refused = node.exec(["etcdctl", "--endpoints", url, *flags, "--dial-timeout", "3s",
                             "--command-timeout", "5s", "endpoint", "health"], capture=True, check=False)
        assert refused.returncode != 0, (url, refused.stdout + refused.stderr)
    # pgha's module: the CA and this node's client certificate (pgha.tls_files)
    urls = [f"https://{lab.node(n).address}:2379" for n in MEMBERS]
    assert salt_json(lab, "pg2", "pgha_etcd.health", json.dumps(urls))["pg2"] == {u: True for u in urls}


def test_switchover_over_https(lab, deployed, ca_file):
    before = leader_name(lab)
    assert_orch_ok(run_orch(lab, "pgha.switchover"))

    def new_leader():
        name = leader_name(lab)
        return name if name and name != before else None
    after = wait_for(new_leader, timeout=60, what="a new leader")
    wait_for(lambda: serves_writes_as(lab, VIP, after), timeout=30, what=f"the VIP on {after}")
    conn = _connect(lab, VIP, "verify-full", ca_file)
    try:
        assert _ssl_of_session(conn)[2] == after
    finally:
        conn.close()


def test_second_deploy_changes_nothing(lab, deployed):
    """No certificate reissued, no key made again: nothing changes."""
    assert_orch_changed_nothing(run_orch(lab, "pgha.deploy"))
