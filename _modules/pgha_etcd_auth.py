"""
etcd authentication for Patroni's user (pgha:patroni:etcd:username, issue 23), over etcd's
HTTP APIs: etcd keeps two separate user stores, one per API, and pgha switches on the one the
cluster uses (``patroni:dcs_api``): v2 (``/v2/auth``, Type B with vip-manager 1.x) or v3 (the
JSON gateway's ``/v3/auth``). Passwords are read from pillar on the minion and travel only in
request bodies and headers: never in a command line, a state argument or Salt's output.
"""
import base64
import json
import ssl
import urllib.error
import urllib.request

import salt.utils.data
from salt.exceptions import CommandExecutionError

__virtualname__ = "pgha_etcd_auth"
# The role that may read and write the cluster's keys (and only those).
ROLE = "pgha-patroni"


def __virtual__():
    return __virtualname__


def _pillar(key):
    # pillar.get masks values outside templates (Salt >= 3008): read __pillar__ directly
    return salt.utils.data.traverse_dict_and_list(__pillar__, key, "", delimiter=":")


def _secrets():
    user = _pillar("pgha:patroni:etcd:username")
    password = _pillar("pgha:patroni:etcd:password")
    root = _pillar("pgha:patroni:etcd:root_password")
    if not (user and password and root):
        raise CommandExecutionError("pgha:patroni:etcd:username, pgha:patroni:etcd:password and "
                                    "pgha:patroni:etcd:root_password must all be set for etcd authentication")
    return user, password, root


def _call(endpoint, method, path, body=None, headers=None, timeout=5):
    """(status, JSON answer) of one request; HTTP errors are answers too (etcd explains them
    in the body). The body is never logged: it may hold a password."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(endpoint.rstrip("/") + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with _open(req, timeout) as resp:
            return resp.status, json.loads(resp.read().decode() or "{}")
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        try:
            return exc.code, json.loads(text or "{}")
        except ValueError:
            return exc.code, {"message": text.strip()}
    except (OSError, ValueError) as exc:
        raise CommandExecutionError(f"etcd {path} at {endpoint}: {getattr(exc, 'reason', exc)}") from exc


def _open(req, timeout):
    """urlopen; an https endpoint (pgha:tls) verified with the cluster CA and shown this
    node's client certificate (pgha.tls_files), as pgha_etcd does."""
    files = __salt__["pgha.tls_files"]() if req.full_url.startswith("https://") and "pgha.tls_files" in __salt__ else {}
    if not files:
        return urllib.request.urlopen(req, timeout=timeout)  # nosec: cluster-internal URL
    context = ssl.create_default_context(cafile=files["ca"])
    if files.get("cert"):
        context.load_cert_chain(files["cert"], files["key"])
    return urllib.request.urlopen(req, timeout=timeout, context=context)  # nosec: cluster-internal URL


def _basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _range_end(prefix):
    """etcd's range end for every key under ``prefix`` (the prefix with its last byte + 1)."""
    raw = prefix.encode()
    return (raw[:-1] + bytes([raw[-1] + 1])).decode()


def status(endpoint, api):
    """
    Whether etcd's authentication is on for ``api`` (``etcd`` = v2, ``etcd3`` = v3).

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd_auth.status http://10.0.0.11:2379 etcd3
    """
    if api == "etcd":
        code, answer = _call(endpoint, "GET", "/v2/auth/enable")
        return bool(code == 200 and answer.get("enabled"))
    # v3 (etcd 3.4 has no /v3/auth/status): with auth off, authenticate answers "not enabled"
    _, _, root = _secrets()
    code, answer = _call(endpoint, "POST", "/v3/auth/authenticate", {"name": "root", "password": root})
    if code == 200 and answer.get("token"):
        return True
    if "not enabled" in json.dumps(answer):
        return False
    raise CommandExecutionError(f"etcd v3 authentication at {endpoint}: {answer.get('message') or answer}")


def _v2_steps(endpoint, prefix, user, password, root):
    """The v2 API's users and roles, then auth on; the guest role loses its access (v2 gives
    an unauthenticated client full access through it otherwise)."""
    key = prefix.rstrip("/") + "/*"
    steps = [
        ("PUT", "/v2/auth/users/root", {"user": "root", "password": root}),
        ("PUT", f"/v2/auth/roles/{ROLE}", {"role": ROLE, "permissions": {"kv": {"read": [key], "write": [key]}}}),
        ("PUT", f"/v2/auth/users/{user}", {"user": user, "password": password, "roles": [ROLE]}),
        ("PUT", "/v2/auth/enable", None),
        ("PUT", "/v2/auth/roles/guest", {"role": "guest", "revoke": {"kv": {"read": ["/*"], "write": ["/*"]}}}),
    ]
    for method, path, body in steps:
        # as root throughout: etcd ignores the header while auth is off, needs it after
        code, answer = _call(endpoint, method, path, body, _basic("root", root))
        if code >= 400 and "already" not in json.dumps(answer):
            raise CommandExecutionError(f"etcd v2 {path}: {answer.get('message') or code}")


def _v3_steps(endpoint, prefix, user, password, root):
    """The v3 API's root user (auth enable needs it) and Patroni's user with read-write on the
    cluster's keys, then auth on."""
    base = prefix.rstrip("/") + "/"
    steps = [
        ("/v3/auth/user/add", {"name": "root", "password": root}),
        ("/v3/auth/user/grant", {"user": "root", "role": "root"}),
        ("/v3/auth/role/add", {"name": ROLE}),
        ("/v3/auth/role/grant", {"name": ROLE, "perm": {"permType": "READWRITE", "key": _b64(base),
                                                         "range_end": _b64(_range_end(base))}}),
        ("/v3/auth/user/add", {"name": user, "password": password}),
        ("/v3/auth/user/grant", {"user": user, "role": ROLE}),
        ("/v3/auth/enable", {}),
    ]
    for path, body in steps:
        code, answer = _call(endpoint, "POST", path, body)
        if code >= 400 and "already" not in json.dumps(answer):
            raise CommandExecutionError(f"etcd v3 {path}: {answer.get('message') or answer.get('error') or code}")


def enable(endpoint, api, prefix):
    """
    Create etcd's root user and Patroni's user (pillar ``pgha:patroni:etcd``) with read-write
    on ``prefix`` (the cluster's key, ``/service/main``), then switch authentication on for
    ``api``. Does nothing when it is on already. Returns ``{changed, api}``.

    CLI Example:

    .. code-block:: bash

        salt pg1 pgha_etcd_auth.enable http://10.0.0.11:2379 etcd /service/main
    """
    if status(endpoint, api):
        return {"changed": False, "api": api}
    user, password, root = _secrets()
    (_v2_steps if api == "etcd" else _v3_steps)(endpoint, prefix, user, password, root)
    return {"changed": True, "api": api}
