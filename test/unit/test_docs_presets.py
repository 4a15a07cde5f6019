"""docs/configuration.md's table of failover presets says what parameters/defaults.yaml's
rto_profiles hold: each value, and the figures derived from them."""
import re

import yaml

from conftest import DEFAULTS_YAML, REPO_ROOT

PRESETS = ("fast", "norm", "safe")


def _table():
    text = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = text.split("## Failover presets", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def _profiles():
    return yaml.safe_load(DEFAULTS_YAML.read_text())["rto_profiles"]


def _row(rows, start):
    found = [cells for name, cells in rows.items() if name.startswith(start)]
    assert len(found) == 1, (start, sorted(rows))
    return found[0]


def test_header_names_the_presets_in_order():
    rows = _table()
    assert [re.sub(r"`| \(default\)", "", c) for c in rows[""]] == list(PRESETS)


def test_patroni_values():
    rows, profiles = _table(), _profiles()
    for key in ("ttl", "loop_wait", "retry_timeout", "primary_start_timeout"):
        assert _row(rows, f"`patroni:{key}`") == [str(profiles[p]["patroni"][key]) for p in PRESETS], key
    assert _row(rows, "`patroni:watchdog:safety_margin`") == [
        str(profiles[p]["patroni"]["watchdog"]["safety_margin"]) for p in PRESETS]
    sync = _row(rows, "`patroni:synchronous_mode`")
    assert sync == [f"{str(profiles[p]['patroni']['synchronous_mode']).lower()} / "
                    f"{str(profiles[p]['patroni']['synchronous_mode_strict']).lower()}" for p in PRESETS]


def test_haproxy_and_vip_manager_values():
    rows, profiles = _table(), _profiles()
    times = _row(rows, "`haproxy:check` `inter`")
    counts = _row(rows, "`haproxy:check` `rise`")
    for i, p in enumerate(PRESETS):
        c = profiles[p]["haproxy"]["check"]
        assert times[i] == f"{c['inter']} / {c['fastinter']} / {c['downinter']}", p
        assert counts[i] == f"{c['rise']} / {c['fall']}", p
    assert _row(rows, "`vip_manager:interval`") == [str(profiles[p]["vip_manager"]["interval"]) for p in PRESETS]


def test_derived_figures():
    rows, profiles = _table(), _profiles()
    expiry = _row(rows, "a dead node's leader key expires")
    worst = _row(rows, "worst case after PostgreSQL crashes")
    rides = _row(rows, "the leader rides out")
    mean = _row(rows, "on average")
    for i, p in enumerate(PRESETS):
        t = profiles[p]["patroni"]
        assert expiry[i] == f"{t['ttl'] - t['loop_wait']}-{t['ttl']} s", p
        assert worst[i] == f"{t['loop_wait'] + t['primary_start_timeout'] + t['loop_wait']} s", p
        assert rides[i] == f"{t['retry_timeout']} s", p
        assert mean[i] == f"{t['ttl'] - t['loop_wait'] / 2:g} s", p
