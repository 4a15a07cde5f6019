"""Unit tests of host preparation's pillar validation (pgha:system) in _modules/pgha.py."""
import copy
from pathlib import Path

import pgha
import pgha_rules_host
from pgha_unit_helpers import MINIMAL_VALID, pgha_loader
import pytest
import salt.utils.dictupdate
import yaml

PARAMETERS = Path(__file__).resolve().parents[2] / "pgha" / "parameters"
VALID = MINIMAL_VALID


@pytest.fixture
def configure_loader_modules():
    return pgha_loader(pgha, VALID)


def _problems(defaults, system, context=None):
    """Host preparation's problems only: check() has others' keys to judge too."""
    return [p for p in pgha.check({**copy.deepcopy(VALID), "system": system}, defaults, context)
            if p.startswith("pgha:system")]


def _os_defaults(defaults, family):
    text = (PARAMETERS / "os_family" / f"{family}.yaml").read_text()
    return salt.utils.dictupdate.merge(copy.deepcopy(defaults), yaml.safe_load(text), merge_lists=False)


CASES = [
    # (id, pgha:system, the problems' beginnings, exactly)
    ("defaults", {}, []),
    ("everything-set", {
        "sysctl": {"enabled": True, "settings": {"vm.overcommit_memory": 2, "vm.overcommit_ratio": 90,
                                                 "net.ipv4.tcp_rmem": "4096 87380 16777216",
                                                 "net.ipv4.conf.eth0/1.rp_filter": 1, "vm.swappiness": None}},
        "huge_pages": 9510, "transparent_huge_pages": "madvise",
        "limits": {"enabled": True, "user": "pgadmin", "soft_nofile": 65536, "hard_nofile": 65536},
        "locales": ["en_US.UTF-8", "de_DE.UTF-8@euro", "C.UTF-8", "ru_RU.utf8"], "default_locale": "en_US.UTF-8",
        "etc_hosts": {"enabled": True, "extra": [{"ip": "10.0.0.50", "names": ["backup.example.com", "backup"]},
                                                 {"ip": "fd00::5", "names": ["v6host"]}]},
        "time_sync": {"enabled": True, "daemon": "ntpsec", "servers": ["ntp1.example.com", "10.0.0.5"]},
    }, []),
    ("all-off", {"sysctl": {"enabled": False}, "transparent_huge_pages": "", "locales": [],
                 "limits": {"enabled": False}, "etc_hosts": {"enabled": False},
                 "time_sync": {"enabled": False}}, []),
    ("not-a-mapping", True, ["pgha:system: must be a mapping"]),
    ("sysctl-enabled-string", {"sysctl": {"enabled": "yes"}},
     ["pgha:system:sysctl:enabled: must be true or false (got 'yes')"]),
    ("sysctl-a-list", {"sysctl": ["vm.swappiness=1"]},
     ["pgha:system:sysctl: must be a mapping of enabled, settings, not a list"]),
    ("settings-a-list", {"sysctl": {"settings": [{"name": "vm.swappiness", "value": 1}]}},
     ["pgha:system:sysctl:settings: must be a mapping such as {vm.swappiness: 1}"]),
    ("settings-bad-name", {"sysctl": {"settings": {"swappiness": 1, "/proc/sys/vm/swappiness": 1}}},
     ["pgha:system:sysctl:settings:swappiness: is not a sysctl name such as vm.swappiness",
      "pgha:system:sysctl:settings:/proc/sys/vm/swappiness: is not a sysctl name"]),
    ("settings-bad-values", {"sysctl": {"settings": {"vm.swappiness": True, "vm.dirty_bytes": [1],
                                                     "net.core.somaxconn": "", "vm.x": "1\n2"}}},
     ["pgha:system:sysctl:settings:vm.swappiness: must be a number or a one-line string",
      "pgha:system:sysctl:settings:vm.dirty_bytes: must be a number or a one-line string",
      "pgha:system:sysctl:settings:net.core.somaxconn: must be a number or a one-line string",
      "pgha:system:sysctl:settings:vm.x: contains the control character '\\n'"]),
    ("nr-hugepages-in-settings", {"sysctl": {"settings": {"vm.nr_hugepages": 100}}},
     ["pgha:system:sysctl:settings:vm.nr_hugepages: set system:huge_pages instead"]),
    ("huge-pages-negative", {"huge_pages": -1},
     ["pgha:system:huge_pages: must be a number of 2 MiB huge pages >= 0: 0 for none (got -1)"]),
    ("huge-pages-size", {"huge_pages": "18GB"}, ["pgha:system:huge_pages: must be a number"]),
    ("huge-pages-boolean", {"huge_pages": True}, ["pgha:system:huge_pages: must be a number"]),
    ("thp-boolean", {"transparent_huge_pages": False},
     ["pgha:system:transparent_huge_pages: must be one of never, madvise, '': '' leaves it alone (got False)"]),
    ("thp-always", {"transparent_huge_pages": "always"},
     ["pgha:system:transparent_huge_pages: must be one of never, madvise, ''"]),
    ("limits-low", {"limits": {"soft_nofile": 512}},
     ["pgha:system:limits:soft_nofile: must be a number of open files >= 1024 (got 512)"]),
    ("limits-unlimited", {"limits": {"hard_nofile": "unlimited"}},
     ["pgha:system:limits:hard_nofile: must be a number of open files >= 1024 (got 'unlimited')"]),
    ("limits-soft-above-hard", {"limits": {"soft_nofile": 300000}},
     ["pgha:system:limits:soft_nofile: 300000 is above system:limits:hard_nofile (200000)"]),
    ("limits-user", {"limits": {"user": "post gres"}}, ["pgha:system:limits:user: is not a user name such as postgres (got 'post gres')"]),
    ("locales-a-string", {"locales": "en_US.UTF-8"},
     ["pgha:system:locales: must be a list such as [en_US.UTF-8], [] for none (got 'en_US.UTF-8')"]),
    ("locale-bad", {"locales": ["en_US.UTF-8", "en US"]},
     ["pgha:system:locales:1: is not a locale such as en_US.UTF-8 (got 'en US')"]),
    ("default-locale-bad", {"default_locale": "en_US.UTF-8 UTF-8"},
     ["pgha:system:default_locale: is not a locale such as en_US.UTF-8 (got 'en_US.UTF-8 UTF-8')"]),
    ("etc-hosts-extra-not-a-list", {"etc_hosts": {"extra": "10.0.0.50 backup"}},
     ["pgha:system:etc_hosts:extra: must be a list such as [{ip: 10.0.0.50, names: [backup.example.com]}]"]),
    ("etc-hosts-autobase-line", {"etc_hosts": {"extra": ["10.0.0.50 backup"]}},
     ["pgha:system:etc_hosts:extra:0: must be a mapping of ip, names (got '10.0.0.50 backup')"]),
    ("etc-hosts-bad-entries", {"etc_hosts": {"extra": [{"ip": "10.0.0.300", "names": ["x"]},
                                                       {"ip": "10.0.0.5", "names": "backup"},
                                                       {"ip": "10.0.0.5", "names": []},
                                                       {"ip": "10.0.0.5", "names": ["bad_name"]}]}},
     ["pgha:system:etc_hosts:extra:2: needs ip (an address) and names",
      "pgha:system:etc_hosts:extra:0:ip: '10.0.0.300' is not an IP address",
      "pgha:system:etc_hosts:extra:1:names: must be a list (got 'backup')",
      "pgha:system:etc_hosts:extra:3:names:0: 'bad_name' is not a host name such as backup.example.com"]),
    ("time-daemon-ntp", {"time_sync": {"daemon": "ntp"}},
     ["pgha:system:time_sync:daemon: must be one of chrony, ntpsec (got 'ntp')"]),
    ("time-servers-a-string", {"time_sync": {"servers": "ntp1.example.com"}},
     ["pgha:system:time_sync:servers: must be a list such as [ntp1.example.com, 10.0.0.5] (got "
      "'ntp1.example.com')"]),
    ("time-server-url", {"time_sync": {"servers": ["10.0.0.5", "ntp://ntp1.example.com", 5]}},
     ["pgha:system:time_sync:servers:1: 'ntp://ntp1.example.com' is not an NTP server's name or address",
      "pgha:system:time_sync:servers:2: must be a string, but YAML read it as an integer 5"]),
    ("time-enabled-string", {"time_sync": {"enabled": "no"}},
     ["pgha:system:time_sync:enabled: must be true or false (got 'no')"]),
]


@pytest.mark.parametrize("system,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_system(defaults, system, expected):
    problems = _problems(defaults, system)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), problem


def test_ntpsec_refused_where_it_is_not_packaged(defaults):
    """RedHat 8/9 have neither ntp nor ntpsec: the key and the OS are named, chrony offered."""
    redhat = _os_defaults(defaults, "RedHat")
    assert _problems(redhat, {"time_sync": {"daemon": "ntpsec"}}, {"os": "Rocky Linux-9"}) == [
        "pgha:system:time_sync:daemon: ntpsec is not packaged for Rocky Linux-9 (pkgs:ntpsec is empty): "
        "use chrony"]
    # off, it does not matter; chrony is fine; Debian has ntpsec
    assert _problems(redhat, {"time_sync": {"daemon": "ntpsec", "enabled": False}}) == []
    assert _problems(redhat, {"time_sync": {"daemon": "chrony"}}) == []
    assert _problems(_os_defaults(defaults, "Debian"), {"time_sync": {"daemon": "ntpsec"}}) == []


def test_unknown_system_keys_are_named_but_sysctl_names_are_free(defaults):
    problems = pgha.check({**copy.deepcopy(VALID), "system": {
        "sysctl_set": True, "limits": {"soft_nofiles": 1}, "sysctl": {"settings": {"vm.whatever": 1}}}},
        defaults)
    # autobase's sysctl_set is system:sysctl:enabled here
    assert problems == ["pgha:system:sysctl_set: unknown key; did you mean system:sysctl?",
                        "pgha:system:limits:soft_nofiles: unknown key; did you mean system:limits:soft_nofile?"]


def test_check_system_helper_returns_key_message_pairs():
    """What check() prefixes with pgha: (one helper: easy to merge with other checks). The
    types are the model's: the rule judges only what crosses keys."""
    assert pgha_rules_host.system({"system": {"limits": {"soft_nofile": 4096, "hard_nofile": 2048}}}) == [
        ("system:limits:soft_nofile", "4096 is above system:limits:hard_nofile (2048)")]
    assert pgha_rules_host.system({"system": {"huge_pages": -2}}) == []
    assert pgha_rules_host.system({}) == []
