"""Package sources on real nodes: a site repository reached only through pgha:proxy_env.

The host runs a small HTTP proxy that serves the lab's package repository under a name that
does not resolve anywhere (pgha-mirror.invalid): apt on a node can only reach it through the
proxy that pgha configured for apt, and only apt gets the proxy.
"""
import http.server
import threading
from pathlib import Path

import pytest

from pghalab.cluster import pillar_changed, salt_json

SCENARIO = "typeb"
MIRROR = "http://pgha-mirror.invalid/"
PROXY_PORT = 3128


class _MirrorProxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy for one made-up host: serves the lab's flat repository, logs requests."""
    root = None
    seen = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.seen.append((self.client_address[0], self.path))
        if not self.path.startswith(MIRROR):
            self.send_error(502, "only the pgha mirror")
            return
        path = (self.root / self.path[len(MIRROR):]).resolve()
        if self.root not in path.parents or not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(lab):
    _MirrorProxy.root = Path(lab.info["repo"]).resolve()
    _MirrorProxy.seen = []
    server = http.server.ThreadingHTTPServer((lab.net.host_ip, PROXY_PORT), _MirrorProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield _MirrorProxy.seen
    server.shutdown()
    server.server_close()


def _states_ok(ret, minion):
    states = ret.get(minion)
    assert isinstance(states, dict), ret
    bad = {k: v["comment"] for k, v in states.items() if v["result"] is not True}
    assert not bad, bad
    return states


def test_site_repository_through_the_proxy_for_apt_only(lab, proxy):
    url = f"http://{lab.net.host_ip}:{PROXY_PORT}"

    def add_sources(pillar):
        pillar["pgha"]["proxy_env"] = {"http_proxy": url, "no_proxy": "localhost"}
        pillar["pgha"]["pkg_repos"] = [{"name": "mirror", "url": MIRROR, "dist": "./", "trusted": True}]

    with pillar_changed(lab, add_sources):
        _states_ok(salt_json(lab, "pg1", "state.sls", "pgha.repo"), "pg1")
        node = lab.node("pg1")
        conf = node.exec(["cat", "/etc/apt/apt.conf.d/90pgha-proxy"], capture=True).stdout
        assert f'Acquire::http::Proxy "{url}";' in conf
        # apt fetched the mirror's index through the proxy, from the node
        assert any(client == node.address and path.startswith(MIRROR) for client, path in proxy), proxy
        policy = node.exec(["apt-cache", "policy", "postgresql-common"], capture=True).stdout
        assert "pgha-mirror.invalid" in policy, policy
        # nothing else on the node gets the proxy
        env = node.exec(["sh", "-c", "cat /etc/environment /proc/1/environ 2>/dev/null | tr '\\0' '\\n'"],
                        capture=True).stdout
        assert "3128" not in env, env
        again = _states_ok(salt_json(lab, "pg1", "state.sls", "pgha.repo"), "pg1")
        assert not {k: v["changes"] for k, v in again.items() if v["changes"]}

    # pillar without the proxy: its apt configuration goes; the mirror's list file is the
    # user's to remove with the entry (pgha does not delete sources it no longer knows)
    _states_ok(salt_json(lab, "pg1", "state.sls", "pgha.repo"), "pg1")
    node = lab.node("pg1")
    assert node.exec(["test", "-e", "/etc/apt/apt.conf.d/90pgha-proxy"], check=False).returncode == 1
    node.exec(["rm", "-f", "/etc/apt/sources.list.d/pgha-mirror.list"])
