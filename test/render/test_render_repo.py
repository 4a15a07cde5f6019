"""
Package sources: pgha:pkg_repo, PGDG, EPEL, pgha:pkg_repos, pgha:proxy_env.
"""
import pytest

from .render_helpers import (GRAINS, ALL_GRAINS, PROXY, KEY_TEXT, EL_SOURCE_GRAINS, ONLY_ON, RENDERED_FILES,
                             _states, _state, _render_file)


@pytest.mark.parametrize("grains_id", GRAINS)
def test_package_repository(rendered, grains_id):
    module, function, args = _state(_states(rendered, "show_sls", grains_id, "typeb_vip"),
                                    "pgha-repo-pkgrepo-managed")
    assert (module, function) == ("pkgrepo", "managed")
    if ALL_GRAINS[grains_id]["os_family"] == "Debian":
        assert args["name"] == "deb [trusted=yes] http://mirror.example/pgha ./"
        assert args["file"] == "/etc/apt/sources.list.d/pgha.list"
    else:
        assert (args["name"], args["baseurl"], args["gpgcheck"]) == (
            "pgha", "http://mirror.example/pgha", 0)
    assert _state(_states(rendered, "show_sls", grains_id, "typeb_vip"), "pgha-repo-sources-ready")[2] == {
        "name": "package sources: pkgrepo",
        "require": [{"file": "pgha-repo-proxy-managed"}, {"pkgrepo": "pgha-repo-pkgrepo-managed"}]}


@pytest.mark.parametrize("grains_id", GRAINS)
def test_no_package_sources_by_default(rendered, grains_id):
    """Without pillar: the node's own sources, no proxy (a proxy set before is taken away)."""
    states = _states(rendered, "show_sls", grains_id, "pip")
    assert not [state_id for state_id in states if state_id.endswith("-pkgrepo-managed")]
    assert "pgha-repo-dnf-module-disabled" not in states
    assert _state(states, "pgha-repo-sources-ready")[2]["name"] == "package sources: the node's own"
    module, function, args = _state(states, "pgha-repo-proxy-managed")
    if ALL_GRAINS[grains_id]["os_family"] == "Debian":
        assert (module, function, args) == ("file", "absent", {"name": "/etc/apt/apt.conf.d/90pgha-proxy"})
    else:
        assert (module, function) == ("file", "blockreplace")
        assert (args["source"], args["context"], args["append_if_not_found"]) == (
            "salt://pgha/repo/files/dnf_proxy.jinja", {"tplroot": "pgha"}, False)
        if grains_id == "rhel9":    # the template's block: empty, which removes one set before
            assert RENDERED_FILES[("file", "pgha-repo-dnf-proxy", "rhel9", "pip")]["data"] == ""
        assert args["onlyif"] == "grep -qF 'pgha:proxy_env START' /etc/dnf/dnf.conf"


@pytest.mark.parametrize("grains_id", ONLY_ON["sources_deb"])
def test_package_sources_debian(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "sources_deb")
    codename = ALL_GRAINS[grains_id]["oscodename"]
    # apt's proxy: its own file, owner-only with the password, never diffed
    module, function, args = _state(states, "pgha-repo-proxy-managed")
    assert (module, function, args["name"], args["mode"], args["show_changes"]) == (
        "file", "managed", "/etc/apt/apt.conf.d/90pgha-proxy", "0640", False)
    # the proxy's password: read by the template, no state argument
    assert "contents" not in args and args["context"] == {"tplroot": "pgha"}
    if grains_id == "debian12":
        assert _render_file(states, "pgha-repo-proxy-managed", grains_id, "sources_deb").splitlines()[1:] == [
            f'Acquire::http::Proxy "{PROXY}";', f'Acquire::https::Proxy "{PROXY}";',
            'Acquire::http::Proxy::localhost "DIRECT";', 'Acquire::https::Proxy::localhost "DIRECT";',
            'Acquire::http::Proxy::mirror.example "DIRECT";', 'Acquire::https::Proxy::mirror.example "DIRECT";']
    # apt.postgresql.org, with the key Debian's postgresql-common ships
    assert _state(states, "pgha-repo-pgdg-keyring-installed") == (
        "pkg", "installed", {"pkgs": ["postgresql-common"], "require": [{"file": "pgha-repo-proxy-managed"}]})
    assert _state(states, "pgha-repo-pgdg-pkgrepo-managed") == ("pkgrepo", "managed", {
        "name": "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] "
                f"https://apt.postgresql.org/pub/repos/apt {codename}-pgdg main",
        "file": "/etc/apt/sources.list.d/pgha-pgdg.list",
        "require": [{"file": "pgha-repo-proxy-managed"}, {"pkg": "pgha-repo-pgdg-keyring-installed"}]})
    # the site's own: a key from pillar, a trusted local directory
    assert _state(states, "pgha-repo-extra-tools-key-managed") == ("file", "managed", {
        "name": "/etc/apt/keyrings/pgha-tools.asc", "makedirs": True, "mode": "0644", "contents": KEY_TEXT})
    assert _state(states, "pgha-repo-extra-tools-pkgrepo-managed")[2] == {
        "name": "deb [signed-by=/etc/apt/keyrings/pgha-tools.asc] https://mirror.example/tools bookworm main",
        "file": "/etc/apt/sources.list.d/pgha-tools.list",
        "require": [{"file": "pgha-repo-proxy-managed"}, {"file": "pgha-repo-extra-tools-key-managed"}]}
    assert _state(states, "pgha-repo-extra-local-pkgrepo-managed")[2]["name"] == "deb [trusted=yes] file:/srv/local ./"
    assert _state(states, "pgha-repo-sources-ready")[2]["require"] == [
        {"file": "pgha-repo-proxy-managed"}, {"pkgrepo": "pgha-repo-pgdg-pkgrepo-managed"},
        {"pkgrepo": "pgha-repo-extra-tools-pkgrepo-managed"}, {"pkgrepo": "pgha-repo-extra-local-pkgrepo-managed"}]
    # pip: the index and the proxy in the venv's pip.conf, not in its argv or environment
    assert _state(states, "pgha-patroni-pip-conf-managed")[2]["context"] == {"tplroot": "pgha"}
    if grains_id == "debian12":
        assert _render_file(states, "pgha-patroni-pip-conf-managed", grains_id, "sources_deb").splitlines()[1:] == [
            "[global]", "index-url = https://pypi.internal.example/simple", f"proxy = {PROXY}"]
    assert not {"index_url", "env_vars", "proxy"} & set(_state(states, "pgha-patroni-pip-installed")[2])
    # every download of the packages waits for the sources
    assert _state(states, "pgha-postgresql-pkgs-installed")[2]["require"] == [{"sls": "pgha.repo"}]


@pytest.mark.parametrize("grains_id", EL_SOURCE_GRAINS)
def test_package_sources_el(rendered, grains_id):
    states = _states(rendered, "show_sls", grains_id, "sources_el")
    el8 = ALL_GRAINS[grains_id]["osmajorrelease"] == 8
    module, function, args = _state(states, "pgha-repo-proxy-managed")
    assert (module, function, args["name"], args["source"], args["context"], args["show_changes"]) == (
        "file", "blockreplace", "/etc/dnf/dnf.conf", "salt://pgha/repo/files/dnf_proxy.jinja",
        {"tplroot": "pgha"}, False)
    if grains_id == "rhel9":      # the block, rendered by the template (the proxy's password in it)
        assert RENDERED_FILES[("file", "pgha-repo-dnf-proxy", "rhel9", "sources_el")]["data"] == f"proxy={PROXY}"
    assert args["append_if_not_found"] is True and "onlyif" not in args
    assert _state(states, "pgha-repo-proxy-mode-managed")[2] == {
        "name": "/etc/dnf/dnf.conf", "replace": False, "mode": "0640",
        "require": [{"file": "pgha-repo-proxy-managed"}]}
    # PGDG: common (Patroni, PgBouncer, pgBackRest, vip-manager), the major's, extras (etcd)
    yum = "https://download.postgresql.org/pub/repos/yum"
    for suffix, baseurl in (("common", f"{yum}/common/redhat/rhel-$releasever-$basearch"),
                            ("16", f"{yum}/16/redhat/rhel-$releasever-$basearch"),
                            ("extras", f"{yum}/common/pgdg-rhel$releasever-extras/redhat/rhel-$releasever-$basearch")):
        args = _state(states, f"pgha-repo-pgdg-{suffix}-pkgrepo-managed")[2]
        assert (args["name"], args["baseurl"], args["gpgcheck"], args["repo_gpgcheck"], args["gpgkey"]) == (
            f"pgha-pgdg-{suffix}", baseurl, 1, 1, f"{yum}/keys/PGDG-RPM-GPG-KEY-RHEL")
        assert "proxy" not in args
    args = _state(states, "pgha-repo-epel-pkgrepo-managed")[2]
    assert args["baseurl"] == "https://dl.fedoraproject.org/pub/epel/$releasever/Everything/$basearch"
    # the site's own; the one on a no_proxy host goes direct
    args = _state(states, "pgha-repo-extra-tools-pkgrepo-managed")[2]
    assert (args["name"], args["gpgcheck"], args["gpgkey"], args["proxy"]) == (
        "tools", 1, "https://mirror.example/tools/key.asc", "_none_")
    args = _state(states, "pgha-repo-extra-local-pkgrepo-managed")[2]
    assert (args["baseurl"], args["gpgcheck"]) == ("file:///srv/local", 0) and "proxy" not in args
    # EL 8 only: AppStream's postgresql module out of PGDG's way, once
    if el8:
        assert _state(states, "pgha-repo-dnf-module-disabled") == ("cmd", "run", {
            "name": "dnf -qy module disable postgresql",
            "unless": "dnf -q module list --disabled postgresql",
            "require": [{"file": "pgha-repo-proxy-managed"}]})
        assert {"cmd": "pgha-repo-dnf-module-disabled"} in _state(states, "pgha-repo-sources-ready")[2]["require"]
    else:
        assert "pgha-repo-dnf-module-disabled" not in states
    # PGDG's package names and paths; PGDG's vip-manager speaks etcd's v3 API
    assert _state(states, "pgha-patroni-pkgs-installed")[2]["pkgs"] == ["patroni", "patroni-etcd"]
    assert _state(states, "pgha-etcd-pkgs-installed")[2]["pkgs"] == ["etcd"]
    etcd = _state(states, "pgha-etcd-config-file-managed")[2]
    assert etcd["name"] == "/etc/etcd/etcd.conf"
    assert etcd["context"]["etcd"]["enable_v2"] is False
    assert _state(states, "pgha-vip-manager-unit-dropin-managed")[2]["context"]["vm"]["major_version"] == 2
    assert _state(states, "pgha-patroni-config-file-managed")[2]["name"] == "/etc/patroni/patroni.yml"
    # pgha's own nftables table, firewalld refused beside it
    assert _state(states, "pgha-firewall-pkgs-installed")[2]["pkgs"] == ["nftables"]
    assert _state(states, "pgha-firewall-rules-file-managed")[2]["name"] == "/etc/pgha/firewall.nft"
    assert _state(states, "pgha-firewall-firewalld-not-running")[2]["onlyif"] == (
        "systemctl is-active --quiet firewalld")
