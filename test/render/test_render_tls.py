"""
TLS (pgha:tls), rendered (test_tls_apply.py applies pgha.tls for real).
"""
import json

import pytest
import salt.utils.templates

from .render_helpers import (FORMATS, REPO, NODE_ADDRESS, VIP, LB_ADDRESS, GRAINS, TLS_CA, TLS_PILLARS, TYPE_A_PG,
                             _states, _state, _patroni_config, _render_file, _haproxy_listeners)


TLS_DIR = "/etc/pgha/tls"
TLS_CA_FILE = f"{TLS_DIR}/ca.crt"
PG_PAIR = {"cert": f"{TLS_DIR}/postgres.crt", "key": f"{TLS_DIR}/postgres.key"}
ETCD_PAIR = {"cert": f"{TLS_DIR}/etcd.crt", "key": f"{TLS_DIR}/etcd.key"}


@pytest.mark.parametrize("grains_id", ["debian12", "rhel9"])
def test_tls_key_pairs(rendered, grains_id):
    """The CA's certificate from pillar (by reference), and a key pair per service: the key
    made on the node, owned by the service's user, 0600; the certificate signed there by the
    CA for the node's names."""
    states = _states(rendered, "show_sls", grains_id, "tls")
    assert _state(states, "pgha-tls-dir-managed") == ("file", "directory", {
        "name": TLS_DIR, "user": "root", "group": "root", "mode": "0755", "makedirs": True})
    assert _state(states, "pgha-tls-ca-cert-managed") == ("file", "managed", {
        "name": TLS_CA_FILE, "contents_pillar": "pgha:tls:ca_cert", "user": "root", "group": "root",
        "mode": "0644", "require": [{"file": "pgha-tls-dir-managed"}]})
    for service, user, install, names in (
            ("postgres", "postgres", "pgha.postgresql.install",
             ["DNS:pg1", f"IP:{NODE_ADDRESS}", f"IP:{VIP}", "DNS:localhost", "IP:127.0.0.1",
              "DNS:db.example.com"]),
            ("etcd", "etcd", "pgha.etcd.install",
             ["DNS:pg1", f"IP:{NODE_ADDRESS}", "DNS:localhost", "IP:127.0.0.1"])):
        pair = {"postgres": PG_PAIR, "etcd": ETCD_PAIR}[service]
        assert _state(states, f"pgha-tls-{service}-key-managed") == ("x509", "private_key_managed", {
            "name": pair["key"], "algo": "rsa", "keysize": 2048, "user": user, "group": user,
            "mode": "0600", "require": [{"sls": install}, {"sls": "pgha.tls.ca"}]})
        module, function, args = _state(states, f"pgha-tls-{service}-cert-managed")
        assert (module, function) == ("pgha_tls", "certificate_managed")
        assert args == {
            "name": pair["cert"], "private_key": pair["key"], "CN": "pg1", "subjectAltName": names,
            "basicConstraints": "critical, CA:false",
            "keyUsage": "critical, digitalSignature, keyEncipherment",
            "extendedKeyUsage": "serverAuth, clientAuth", "subjectKeyIdentifier": "hash",
            "authorityKeyIdentifier": "keyid:always", "days_valid": 365, "days_remaining": 30,
            "user": "root", "group": "root", "mode": "0644",
            "require": [{"x509": f"pgha-tls-{service}-key-managed"}, {"sls": "pgha.tls.ca"}]}


@pytest.mark.parametrize("kind,pillar_id", [(k, p) for k in ("show_sls", "highstate") for p in TLS_PILLARS])
def test_tls_ca_key_in_no_state(rendered, kind, pillar_id):
    """The CA's key (and certificate) reach the node through pillar only: no state argument,
    name or context holds them, and no state holds a private key's content."""
    text = json.dumps(_states(rendered, kind, "debian12", pillar_id))
    key_body = [line for line in TLS_CA[1].splitlines() if "-----" not in line]
    cert_body = [line for line in TLS_CA[0].splitlines() if "-----" not in line]
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text
    assert not [line for line in key_body + cert_body if line in text]


def test_tls_patroni_config_file(rendered):
    """The REST API on https with the postgres user's pair, etcd over https verified by the
    CA, PostgreSQL's ssl parameters, replicas that verify their primary, and every TCP line of
    pg_hba for TLS connections (require_ssl), but a hostnossl line as written."""
    config = _patroni_config(rendered, "debian12", "tls")
    assert config["restapi"] == {
        "listen": "0.0.0.0:8008", "connect_address": f"{NODE_ADDRESS}:8008",
        "authentication": {"username": "patroni", "password": "rest-secret"},
        "certfile": PG_PAIR["cert"], "keyfile": PG_PAIR["key"], "cafile": TLS_CA_FILE}
    assert config["etcd"] == {"hosts": [f"{a}:2379" for a in (NODE_ADDRESS, "10.0.0.12", "10.0.0.13")],
                              "protocol": "https", "cacert": TLS_CA_FILE}
    pg = config["postgresql"]
    assert {k: pg["parameters"][k] for k in ("ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file")} == {
        "ssl": "on", "ssl_cert_file": PG_PAIR["cert"], "ssl_key_file": PG_PAIR["key"],
        "ssl_ca_file": TLS_CA_FILE}
    auth = pg["authentication"]
    for purpose in ("replication", "rewind"):
        assert (auth[purpose]["sslmode"], auth[purpose]["sslrootcert"]) == ("verify-full", TLS_CA_FILE)
    assert "sslmode" not in auth["superuser"]          # Patroni's own local connections: libpq's default
    assert pg["pg_hba"] == [
        "local all postgres peer",
        # the pillar's lines before pgha's general ones (the first match wins: issue 22)
        "hostssl appdb app 10.0.0.0/24 scram-sha-256",
        "hostnossl appdb monitor 10.0.5.0/24 scram-sha-256",
        "local all all scram-sha-256",
        "hostssl all all 127.0.0.1/32 scram-sha-256",
        "hostssl replication replicator 127.0.0.1/32 scram-sha-256",
        *[line for address in (NODE_ADDRESS, "10.0.0.12", "10.0.0.13")
          for line in (f"hostssl replication replicator {address}/32 scram-sha-256",
                       f"hostssl all all {address}/32 scram-sha-256")],
    ]
    # the DCS half is untouched: TLS is each node's own
    assert "ssl" not in config["bootstrap"]["dcs"]["postgresql"]["parameters"]


def test_tls_patroni_config_with_etcd_client_certificates(rendered):
    """etcd asks for client certificates: Patroni shows the postgres user's. TLS not required
    of PostgreSQL's clients: pg_hba keeps its host lines."""
    config = _patroni_config(rendered, "debian12", "tls_typea")
    assert config["etcd3"] == {"hosts": [f"{a}:2379" for _, a in sorted(TYPE_A_PG.items())],
                               "protocol": "https", "cacert": TLS_CA_FILE, **PG_PAIR}
    pg = config["postgresql"]
    assert pg["parameters"]["ssl"] == "on"
    assert not [line for line in pg["pg_hba"] if line.startswith("hostssl")]
    assert f"host all all {LB_ADDRESS}/32 scram-sha-256" in pg["pg_hba"]


@pytest.mark.parametrize("grains_id", ["debian12", "rhel9"])
def test_tls_etcd(rendered, grains_id):
    """etcd on https for clients and peers, with its own key pair; peers must show a
    certificate of the CA, clients need not."""
    states = _states(rendered, "show_sls", grains_id, "tls")
    module, _, args = _state(states, "pgha-etcd-config-file-managed")
    members = (NODE_ADDRESS, "10.0.0.12", "10.0.0.13")
    assert args["context"]["initial_cluster"] == ",".join(
        f"pg{i}=https://{a}:2380" for i, a in enumerate(members, 1))
    assert args["context"]["tls"] == {"ca": TLS_CA_FILE, **ETCD_PAIR, "client_cert_auth": False}
    assert args["require"] == [{"sls": "pgha.etcd.install"}, {"sls": "pgha.etcd.tls"}]
    text = _render_file(states, "pgha-etcd-config-file-managed", grains_id, "tls")
    env = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert env["ETCD_LISTEN_PEER_URLS"] == f'"https://{NODE_ADDRESS}:2380"'
    assert env["ETCD_LISTEN_CLIENT_URLS"] == f'"https://{NODE_ADDRESS}:2379,https://127.0.0.1:2379"'
    assert env["ETCD_ADVERTISE_CLIENT_URLS"] == f'"https://{NODE_ADDRESS}:2379"'
    assert env["ETCD_INITIAL_ADVERTISE_PEER_URLS"] == f'"https://{NODE_ADDRESS}:2380"'
    assert {k: env[k] for k in env if "CERT" in k or "KEY" in k or "CA_FILE" in k} == {
        "ETCD_CERT_FILE": f'"{ETCD_PAIR["cert"]}"', "ETCD_KEY_FILE": f'"{ETCD_PAIR["key"]}"',
        "ETCD_TRUSTED_CA_FILE": f'"{TLS_CA_FILE}"', "ETCD_CLIENT_CERT_AUTH": '"false"',
        "ETCD_PEER_CERT_FILE": f'"{ETCD_PAIR["cert"]}"', "ETCD_PEER_KEY_FILE": f'"{ETCD_PAIR["key"]}"',
        "ETCD_PEER_TRUSTED_CA_FILE": f'"{TLS_CA_FILE}"', "ETCD_PEER_CLIENT_CERT_AUTH": '"true"'}
    # etcd reads a renewed certificate at the next connection (etcd >= 3.2): no restart of
    # every member at once when all renew in the same run
    assert _state(states, "pgha-etcd-service-running")[2]["watch"] == [{"sls": "pgha.etcd.config"}]
    assert _state(states, "pgha-gate-etcd-healthy")[2]["endpoints"] == [f"https://{a}:2379" for a in members]


def test_tls_etcd_asks_for_client_certificates(rendered):
    states = _states(rendered, "show_sls", "debian12", "tls_typea")
    text = _render_file(states, "pgha-etcd-config-file-managed", "debian12", "tls_typea")
    assert 'ETCD_CLIENT_CERT_AUTH="true"' in text.splitlines()


def test_tls_patroni_and_vip_manager_states(rendered):
    """Patroni's configuration waits for the postgres user's pair and Patroni reloads when it
    is renewed; vip-manager reads etcd over https with the CA (no client certificate asked)."""
    states = _states(rendered, "show_sls", "debian12", "tls")
    args = _state(states, "pgha-patroni-config-file-managed")[2]
    assert args["require"] == [{"file": "pgha-patroni-config-dir-managed"}, {"sls": "pgha.patroni.watchdog"},
                               {"sls": "pgha.patroni.callbacks"},
                               {"sls": "pgha.postgresql.tls"}]
    assert args["show_changes"] is False
    assert _state(states, "pgha-patroni-service-running")[2]["watch"] == [
        {"sls": "pgha.patroni.config"}, {"sls": "pgha.postgresql.tls"}]
    args = _state(states, "pgha-vip-manager-unit-dropin-managed")[2]
    assert args["context"]["tls"] == {"ca": TLS_CA_FILE, "cert": "", "key": ""}
    text = _render_file(states, "pgha-vip-manager-unit-dropin-managed", "debian12", "tls")
    (start,) = [line for line in text.splitlines() if line.startswith("ExecStart=/")]
    members = ",".join(f"https://{a}:2379" for a in (NODE_ADDRESS, "10.0.0.12", "10.0.0.13"))
    assert f"--dcs-endpoints={members} " in start
    assert start.endswith(f" --interval=1000 --etcd-ca-file={TLS_CA_FILE}")
    assert _state(states, "pgha-vip-manager-service-running")[2]["watch"] == [
        {"sls": "pgha.vip_manager.config"}]


def test_tls_vip_manager_with_a_client_certificate(rendered):
    """With etcd_client_cert_auth, vip-manager (root) shows the postgres user's certificate."""
    states = _states(rendered, "show_sls", "debian12", "tls")
    context = {"opts": {}, "saltenv": None, "grains": {**GRAINS["debian12"], "id": "pg1"}, "salt": FORMATS,
               **_state(states, "pgha-vip-manager-unit-dropin-managed")[2]["context"]}
    context["tls"] = {"ca": TLS_CA_FILE, **PG_PAIR}
    path = REPO / "pgha/vip_manager/files/pgha.conf.jinja"
    text = salt.utils.templates.render_jinja_tmpl(path.read_text(), context, tmplpath=str(path))
    (start,) = [line for line in text.splitlines() if line.startswith("ExecStart=/")]
    assert start.endswith(f" --etcd-ca-file={TLS_CA_FILE} --etcd-cert-file={PG_PAIR['cert']} "
                          f"--etcd-key-file={PG_PAIR['key']}")
    states = _states(rendered, "show_sls", "debian12", "tls_typea")    # no vip-manager there
    assert "pgha-vip-manager-not-used" in states


def test_tls_pgbouncer(rendered):
    """PgBouncer shows clients the postgres user's certificate (the VIP is in it; TLS not
    required here: require_ssl false) and reaches PostgreSQL over TLS verified by the CA."""
    states = _states(rendered, "show_sls", "debian12", "tls_typea")
    args = _state(states, "pgha-pgbouncer-config-file-managed")[2]
    assert args["require"] == [{"sls": "pgha.pgbouncer.install"}, {"sls": "pgha.postgresql.tls"}]
    text = _render_file(states, "pgha-pgbouncer-config-file-managed", "debian12", "tls_typea")
    settings = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
    assert {k: v for k, v in settings.items() if "_tls_" in k} == {
        "client_tls_sslmode": "prefer", "client_tls_key_file": PG_PAIR["key"],
        "client_tls_cert_file": PG_PAIR["cert"], "client_tls_ca_file": TLS_CA_FILE,
        "server_tls_sslmode": "verify-ca", "server_tls_ca_file": TLS_CA_FILE}
    assert _state(states, "pgha-pgbouncer-service-running")[2]["watch"] == [
        {"sls": "pgha.pgbouncer.config"}, {"sls": "pgha.postgresql.tls"}]
    # Type A: the VIP is on the balancers, PgBouncer behind it: in the database node's names
    names = _state(states, "pgha-tls-postgres-cert-managed")[2]["subjectAltName"]
    assert f"IP:{VIP}" in names


def test_tls_balancer(rendered):
    """HAProxy checks Patroni's REST API over https, verified by the CA (a balancer has the
    CA's certificate only: no key); confd reads etcd over https."""
    states = _states(rendered, "show_sls", "debian12", "tls_lb")
    args = _state(states, "pgha-haproxy-config-file-managed")[2]
    assert args["context"] == {"tplroot": "pgha", "confd": False}
    assert args["require"] == [{"sls": "pgha.haproxy.install"}, {"sls": "pgha.haproxy.limits"},
                               {"sls": "pgha.tls.ca"}]
    listeners = _haproxy_listeners(_render_file(states, "pgha-haproxy-config-file-managed", "debian12", "tls_lb"))
    for name, lines in listeners.items():
        if name != "stats":
            (default,) = [line for line in lines if line.startswith("default-server ")]
            assert default.endswith(f"on-marked-down shutdown-sessions check-ssl verify required "
                                    f"ca-file {TLS_CA_FILE}"), name
    confd = _state(states, "pgha-confd-config-file-managed")[2]["contents"]
    assert f'client_cakeys = "{TLS_CA_FILE}"' in confd.splitlines()
    assert "https://10.0.0.11:2379" in confd
    template = _render_file(states, "pgha-confd-template-file-managed", "debian12", "tls_lb")
    assert f"check-ssl verify required ca-file {TLS_CA_FILE}" in template
    highstate = _states(rendered, "highstate", "debian12", "tls_lb")
    assert {b["__sls__"] for b in highstate.values() if b["__sls__"].startswith("pgha.tls")} == {"pgha.tls.ca"}


def test_tls_highstate_makes_certificates_before_the_services(rendered):
    states = _states(rendered, "highstate", "debian12", "tls")
    sls = {body["__sls__"] for body in states.values()}
    assert {"pgha.tls.ca", "pgha.postgresql.tls", "pgha.etcd.tls"} <= sls

    def order(state_id):
        (items,) = [v for k, v in states[state_id].items() if not k.startswith("__")]
        return next(i["order"] for i in items if isinstance(i, dict) and "order" in i)
    assert order("pgha-tls-etcd-cert-managed") < order("pgha-etcd-service-running")
    assert order("pgha-tls-postgres-cert-managed") < order("pgha-patroni-service-running")


@pytest.mark.parametrize("pillar_id", ["typeb_vip", "typea", "typea_lb"])
def test_no_tls_by_default(rendered, pillar_id):
    states = _states(rendered, "highstate", "debian12", pillar_id)
    assert not [s for s in states if s.startswith("pgha-tls-")]
    assert "https://" not in json.dumps(states)
