"""
Certificates of pgha's cluster CA (``pgha:tls``), signed on the node that uses them.

The CA's certificate and private key come from pillar (``pgha:tls:ca_cert``,
``pgha:tls:ca_key``) and are read here, never passed as state arguments: ``state.show_sls``
and state returns print arguments, and the CA key must show up in neither, nor reach the
node's disk. The rest is Salt's ``x509.certificate_managed`` (Salt >= 3006, ``x509_v2``).
"""
import salt.utils.data

__virtualname__ = "pgha_tls"

CA_CERT = "pgha:tls:ca_cert"
CA_KEY = "pgha:tls:ca_key"
# Arguments that would name another CA than the cluster's: the CA comes from pillar only.
NOT_ARGUMENTS = ("signing_private_key", "signing_private_key_passphrase", "signing_cert",
                 "ca_server", "signing_policy")
HIDDEN = "<pgha:tls:ca_key>"


def __virtual__():
    return __virtualname__


def _pillar(key):
    # Read __pillar__ directly: pillar.get masks values outside templates (Salt >= 3008).
    return str(salt.utils.data.traverse_dict_and_list(__pillar__, key, "", delimiter=":") or "").strip()


def _hide(data, secret):
    """``data`` with every occurrence of ``secret`` replaced (a state return that quotes it)."""
    if isinstance(data, str):
        return data.replace(secret, HIDDEN)
    if isinstance(data, dict):
        return {k: _hide(v, secret) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(_hide(v, secret) for v in data)
    return data


def certificate_managed(name, private_key, **kwargs):
    """
    Ensure the certificate ``name`` for the private key at path ``private_key``, signed by
    the cluster CA of pillar ``pgha:tls``; renewed when it expires within ``days_remaining``
    days, reissued when its subject, names or CA change. Takes the other arguments of
    ``x509.certificate_managed``: the subject (``CN``), extensions (``subjectAltName``, ...),
    ``days_valid``, ``days_remaining`` and the file's ``user``, ``group`` and ``mode``.

    .. code-block:: yaml

        pgha-tls-postgres-cert-managed:
          pgha_tls.certificate_managed:
            - name: /etc/pgha/tls/postgres.crt
            - private_key: /etc/pgha/tls/postgres.key
            - CN: pg1
            - subjectAltName: ['DNS:pg1', 'IP:10.0.0.11']
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    given = sorted(set(kwargs) & set(NOT_ARGUMENTS))
    if given:
        ret["comment"] = (f"{', '.join(given)}: not arguments of pgha_tls.certificate_managed, "
                          "which signs with the cluster CA of pillar pgha:tls")
        return ret
    ca_cert, ca_key = _pillar(CA_CERT), _pillar(CA_KEY)
    missing = [key for key, value in ((CA_CERT, ca_cert), (CA_KEY, ca_key)) if not value]
    if missing:
        ret["comment"] = (f"{' and '.join(missing)} empty in pillar: the cluster CA signs this "
                          "node's certificates (docs/security.md, section TLS, shows how to make one)")
        return ret
    if "x509.certificate_managed" not in __states__:
        ret["comment"] = ("Salt's x509 state module is not available on this minion: it needs the "
                          "Python package cryptography (and Salt >= 3006)")
        return ret
    result = __states__["x509.certificate_managed"](
        name, signing_private_key=ca_key, signing_cert=ca_cert, private_key=private_key, **kwargs)
    return _hide(result, ca_key)
