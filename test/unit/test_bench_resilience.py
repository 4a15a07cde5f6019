"""The resumable resilience benchmark without a lab: its cells, what a resumed run skips, the
results file, and the summary tables (pghalab.bench.resilience, pghalab.figures)."""
import json

import pytest

from pghalab.bench import resilience
from pghalab.figures import count_runs, format_summary, load_rows, summarise


def _own(preset):
    """The preset's own timings, as cells name them."""
    return resilience.timings_label(resilience.effective_timings(preset, {}))


def _sample(preset="norm", fault="crash", rto=20.0, etcd_leader=False, error=None, **extra):
    sample = {"kind": "fault", "type": "b", "preset": preset, "fault": fault, "replication": "async",
              "dcs_api": "etcd", "timings": _own(preset), "phase": "random", "rto": rto, "first_ack": rto - 0.5 if rto else None, "lost": 0,
              "split_brain": False, "split_brain_overlap": None, "target_was_etcd_leader": etcd_leader,
              "timeline": {"at": {}, "steps": {"key_expiry": 18.0, "promotion": 1.0, "vip_move": 0.5,
                                               "client": 0.5}},
              "apps": {"default": {"rto": None, "stuck": True, "lost": 0},
                       "documented": {"rto": rto + 3 if rto else None, "stuck": False, "lost": 0}}}
    if error:
        sample["error"] = error
    sample.update(extra)
    return sample


def test_parse_defaults_and_refusals():
    args = resilience.parse([])
    assert args.runs == 5 and args.presets == ["fast", "norm", "safe"] and args.dcs_api == "auto"
    assert args.results.name == "resilience.jsonl"
    assert resilience.parse(["--repeat", "3"]).runs == 3        # the old option still works
    assert resilience.parse(["--faults", ""]).faults == []
    with pytest.raises(SystemExit):
        resilience.parse(["--dcs-api", "etcd3"])                 # Type B: vip-manager 1.x reads v2 only
    assert resilience.parse(["--dcs-api", "etcd3", "--type", "a"]).dcs_api == "etcd3"
    with pytest.raises(SystemExit):
        resilience.parse(["--presets", "quick"])


def test_cells_and_missing_runs():
    args = resilience.parse(["--runs", "3", "--faults", "crash,freeze"])
    assert resilience.cell(args, "norm", "crash") == {"type": "b", "preset": "norm", "fault": "crash",
                                                      "replication": "async", "dcs_api": "etcd",
                                                      "timings": _own("norm"), "phase": "random"}
    # runs injected right after the warm-up (before 2026-12-07) are cells of their own
    assert "phase" not in resilience.cell(resilience.parse(["--phase", "fixed"]), "norm", "crash")
    fixed = {k: v for k, v in _sample().items() if k != "phase"}
    assert f"| b | norm ({_own('norm')}), fixed phase | crash |" in format_summary(summarise([fixed]))
    assert resilience.cell(resilience.parse(["--type", "a"]), "norm", "crash")["dcs_api"] == "etcd3"
    assert resilience.cell(resilience.parse(["--sync"]), "norm", "crash")["replication"] == "sync-strict"
    # the preset's own synchronous_mode (safe's) labels its cells
    assert resilience.cell(resilience.parse([]), "safe", "crash")["replication"] == "sync"
    assert resilience.cell(resilience.parse(["--type", "a"]), "fast", "crash")["replication"] == "sync"
    done = count_runs([_sample(), _sample(), _sample(error="boom"), _sample(fault="freeze"),
                       {**_sample(), "preset": "fast"}, {"kind": "load", "type": "b", "preset": "norm"}])
    # failed runs do not count; another preset's do not either
    assert resilience.missing_runs(args, "norm", done) == {"crash": 1, "freeze": 2}
    assert resilience.missing_runs(args, "safe", done) == {"crash": 3, "freeze": 3}


def test_timings_make_cells_of_their_own():
    args = resilience.parse(["--timings", "loop_wait=10, ttl=20,retry_timeout=5"])
    assert args.timings == {"loop_wait": 10, "ttl": 20, "retry_timeout": 5}
    assert resilience.cell(args, "fast", "crash")["timings"] == "ttl=20,loop_wait=10,retry_timeout=5"
    # without --timings a cell names the preset's own, so a retuned preset starts new cells
    norm = resilience.preset_patroni("norm")
    assert _own("norm") == f"ttl={norm['ttl']},loop_wait={norm['loop_wait']},retry_timeout={norm['retry_timeout']}"
    assert resilience.cell(resilience.parse(["--timings", "ttl=40"]), "norm", "crash")["timings"] == (
        f"ttl=40,loop_wait={norm['loop_wait']},retry_timeout={norm['retry_timeout']}")
    for bad in ("ttl=fast", "wait=3", "ttl=2.5"):
        with pytest.raises(SystemExit):
            resilience.parse(["--timings", bad])
    candidate = {**_sample(preset="fast"), "timings": "ttl=20,loop_wait=10,retry_timeout=5"}
    done = count_runs([_sample(preset="fast"), candidate, candidate])
    assert resilience.missing_runs(resilience.parse(["--runs", "2", "--faults", "crash"]), "fast", done) == {"crash": 1}
    assert resilience.missing_runs(args, "fast", done)["crash"] == 3     # 5 runs, 2 done
    table = format_summary(summarise([_sample(preset="fast"), candidate]))
    assert "| b | fast (ttl=20,loop_wait=10,retry_timeout=5) | crash |" in table
    load = {"kind": "load", "type": "b", "preset": "fast", "replication": "async", "dcs_api": "etcd",
            "timings": "ttl=20,loop_wait=10,retry_timeout=5", "minutes": 10, "leader_changes": 0}
    assert resilience.load_done(args, "fast", [load])
    assert not resilience.load_done(resilience.parse(["--timings", "ttl=21"]), "fast", [load])


def test_etcd_placement_makes_cells_of_its_own():
    assert "etcd_placement" not in resilience.cell(resilience.parse([]), "norm", "crash")
    args = resilience.parse(["--etcd-leader", "with", "--faults", "crash"])
    assert resilience.cell(args, "norm", "crash")["etcd_placement"] == "with"
    with pytest.raises(SystemExit):
        resilience.parse(["--etcd-leader", "elsewhere"])
    done = count_runs([_sample(), _sample(), {**_sample(), "etcd_placement": "with"}])
    assert resilience.missing_runs(args, "norm", done) == {"crash": 4}
    (row,) = summarise([{**_sample(), "etcd_placement": "apart"}])
    assert f"| b | norm ({_own('norm')}), etcd leader apart | crash |" in format_summary([row])


def test_results_file_appends_and_survives_a_torn_line(tmp_path):
    path = tmp_path / "r" / "resilience.jsonl"
    assert resilience.read_results(path) == []
    resilience.append(path, _sample())
    resilience.append(path, _sample(fault="freeze"))
    with path.open("a") as fh:
        fh.write('{"kind": "fault", "pres')                      # killed while writing
    found = resilience.read_results(path)
    assert [s["fault"] for s in found] == ["crash", "freeze"]


def test_load_done(tmp_path):
    args = resilience.parse(["--load", "10"])
    samples = [{"kind": "load", "type": "b", "preset": "norm", "replication": "async", "dcs_api": "etcd",
                "timings": _own("norm")}]
    assert resilience.load_done(args, "norm", samples)
    assert not resilience.load_done(args, "safe", samples)


def test_summarise_medians_maxima_apps_and_etcd_groups():
    samples = [_sample(rto=20.0, etcd_leader=True), _sample(rto=30.0, etcd_leader=False),
               _sample(rto=24.0, etcd_leader=False), _sample(error="boom", rto=None),
               _sample(rto=25.0, split_brain=True, split_brain_overlap={"proven": 0.4, "at_most": 1.5},
                       apps={"default": {"rto": 70.0, "stuck": False, "lost": 1},
                             "documented": {"rto": 28.0, "stuck": False, "lost": 0}})]
    (row,) = summarise(samples)
    assert (row["runs"], row["failed"]) == (5, 1)
    assert row["rto_median"] == 24.5 and row["rto_max"] == 30.0
    assert row["stages"] == {"key_expiry": 18.0, "promotion": 1.0, "vip_move": 0.5, "client": 0.5}
    assert row["split_brain"] == 1 and row["split_brain_at_most_max"] == 1.5
    assert row["split_brain_proven_max"] == 0.4
    old = summarise([_sample(split_brain=True, split_brain_window=52.4)])   # before 2026-12-07: not shown
    assert "| 1 (window not recorded) |" in format_summary(old)
    assert row["app_default"] == {"runs": 4, "lost": 1, "rto_median": 70.0, "rto_max": 70.0, "stuck": 3}
    assert row["app_documented"]["lost"] == 0 and row["app_documented"]["rto_max"] == 33.0
    assert row["etcd_leader"] == {"runs": 1, "rto_median": 20.0}
    assert row["not_etcd_leader"] == {"runs": 3, "rto_median": 25.0}
    table = format_summary([row])
    assert f"| b | norm ({_own('norm')}) | crash | async | etcd | 5 (1 failed) | 24.5 s | 30.0 s |" in table
    assert "| 0 / 1 / 0 |" in table and "| 1 (longest: proven 0.4 s, at most 1.5 s) |" in table and "20.0 s (1) / 25.0 s (3)" in table


def test_load_rows():
    samples = [{"kind": "load", "type": "b", "preset": "norm", "replication": "async", "dcs_api": "etcd",
                "minutes": 10, "leader_changes": 0, "longest_gap": 0.4},
               {"kind": "load", "type": "b", "preset": "fast", "replication": "async", "dcs_api": "etcd",
                "minutes": 10, "leader_changes": 2, "longest_gap": 21.0}]
    rows = load_rows(samples)
    assert [(r["preset"], r["leader_changes"], r["minutes"]) for r in rows] == [("norm", 0, 10), ("fast", 2, 10)]
    assert "| b | fast | async | etcd | 1 | 10 | 2 (2) | 21.0 s |" in format_summary([], rows)


def test_summarise_mode_prints_tables(tmp_path, capsys):
    path = tmp_path / "resilience.jsonl"
    path.write_text(json.dumps(_sample()) + "\n")
    resilience.main(["--summarise", "--results", str(path)])
    out = capsys.readouterr().out
    assert "1 samples" in out and f"| b | norm ({_own('norm')}) | crash |" in out
