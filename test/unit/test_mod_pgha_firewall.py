"""Unit tests of the firewall's pillar validation (pgha:firewall) in _modules/pgha.py."""
import copy

import pgha
import pgha_rules_host
from pgha_unit_helpers import MINIMAL_VALID, pgha_loader
import pytest

VALID = MINIMAL_VALID


@pytest.fixture
def configure_loader_modules():
    return pgha_loader(pgha, VALID)


def _problems(defaults, **pillar):
    """The firewall's problems only: check() has others' keys to judge too."""
    return [p for p in pgha.check({**copy.deepcopy(VALID), **pillar}, defaults)
            if p.startswith("pgha:firewall")]


CASES = [
    # (id, pillar keys, the firewall's problems, exactly)
    ("default-off", {}, []),
    ("on", {"firewall": {"enabled": True}}, []),
    ("on-with-everything", {"firewall": {
        "enabled": True, "ssh_port": 2222, "client_sources": ["10.1.0.0/16", "192.0.2.7", "fd00:1::/64"],
        "extra_ports": [9100, 9187], "extra_rules": ["ip saddr 10.9.0.0/16 tcp dport 9187 accept"]}}, []),
    ("enabled-string", {"firewall": {"enabled": "yes"}},
     ["pgha:firewall:enabled: must be true or false (got 'yes')"]),
    ("not-a-mapping", {"firewall": True},
     ["pgha:firewall: must be a mapping of enabled, ssh_port, client_sources, extra_ports, extra_rules, "
      "not a boolean"]),
    ("ssh-port-zero", {"firewall": {"ssh_port": 0}},
     ["pgha:firewall:ssh_port: must be a port number 1-65535 (got 0)"]),
    ("ssh-port-boolean", {"firewall": {"ssh_port": True}},
     ["pgha:firewall:ssh_port: must be a port number 1-65535 (got True)"]),
    ("extra-ports-not-a-list", {"firewall": {"extra_ports": 9100}},
     ["pgha:firewall:extra_ports: must be a list such as [9100] (got 9100)"]),
    ("extra-port-too-big", {"firewall": {"extra_ports": [9100, 70000]}},
     ["pgha:firewall:extra_ports:1: must be a port number 1-65535 (got 70000)"]),
    ("extra-port-range", {"firewall": {"extra_ports": ["9100-9200"]}},
     ["pgha:firewall:extra_ports:0: must be a port number 1-65535 (got '9100-9200')"]),
    ("client-sources-a-string", {"firewall": {"client_sources": "10.1.0.0/16"}},
     ["pgha:firewall:client_sources: must be a list such as ['10.1.0.0/16'], [] for any (got '10.1.0.0/16')"]),
    ("client-source-host-bits", {"firewall": {"client_sources": ["10.1.2.3/16"]}},
     ["pgha:firewall:client_sources:0: '10.1.2.3/16' is not an address or network such as 10.1.0.0/16 "
      "(10.1.2.3/16 has host bits set)"]),
    ("client-source-a-name", {"firewall": {"client_sources": ["10.1.0.0/16", "appservers"]}},
     ["pgha:firewall:client_sources:1: 'appservers' is not an address or network"]),
    ("extra-rules-a-string", {"firewall": {"extra_rules": "tcp dport 9100 accept"}},
     ["pgha:firewall:extra_rules: must be a list such as ['ip saddr 10.9.0.0/16 tcp dport 9187 accept']"]),
    ("extra-rule-two-lines", {"firewall": {"extra_rules": ["tcp dport 9100 accept\ntcp dport 9101 accept"]}},
     ["pgha:firewall:extra_rules:0: contains the control character '\\n'"]),
    ("extra-rule-empty", {"firewall": {"extra_rules": [" "]}},
     ["pgha:firewall:extra_rules:0: is not a one-line nftables rule (got ' ')"]),
]


@pytest.mark.parametrize("pillar,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_firewall(defaults, pillar, expected):
    problems = _problems(defaults, **pillar)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), problem


def test_check_firewall_reports_each_bad_item(defaults):
    problems = _problems(defaults, firewall={"enabled": 1, "ssh_port": 99999, "extra_ports": [0, 22],
                                             "client_sources": ["10.0.0.0/8", "x", "fd00::/300"]})
    assert [p.split(":")[1] + ":" + p.split(":")[2] for p in problems] == [
        "firewall:enabled", "firewall:ssh_port", "firewall:client_sources", "firewall:client_sources",
        "firewall:extra_ports"]


def test_the_firewall_needs_no_rule_of_its_own():
    """Every firewall key is typed by the settings model; no rule crosses them."""
    import pgha_model  # pylint: disable=import-outside-toplevel
    assert not hasattr(pgha_rules_host, "firewall")
    assert sorted(k for k in pgha_model.KEYS if k.startswith("firewall:")) == [
        "firewall:client_sources", "firewall:enabled", "firewall:extra_ports", "firewall:extra_rules",
        "firewall:ssh_port"]
