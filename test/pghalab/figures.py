"""How the benchmarks print their figures: one line per run, then a table of medians
(print_run, print_table); the resilience benchmark's Markdown table per preset and fault
(summary_rows, format_table; the README publishes it as printed); the resumable benchmark's
cells, summaries and tables from its JSON lines (count_runs, summarise, load_rows,
format_summary)."""
import statistics


def print_run(run, samples, digits=1):
    print(f"run {run}: " + ", ".join(
        f"{k}={' '.join(f'{x:.{digits}f}' for x in v)}" for k, v in samples.items()), flush=True)


def print_table(samples, baseline="baseline", digits=1):
    """Median, min, max of each figure, and each median as a multiple of the baseline's."""
    base = statistics.median(samples[baseline])
    width = max(len(k) for k in samples) + 2
    print(f"\n{'figure':{width}} {'median':>8} {'min':>8} {'max':>8}  x baseline  samples")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:{width}} {med:7.{digits}f}s {min(values):7.{digits}f}s "
              f"{max(values):7.{digits}f}s  {med / base:10.1f}  {len(values)}")


def summary_rows(samples):
    """Benchmark table rows from run summaries ({preset, fault, rto, first_ack, lost,
    split_brain, error}): one per (preset, fault) in first-seen order."""
    grouped = {}
    for s in samples:
        grouped.setdefault((s["preset"], s["fault"]), []).append(s)
    rows = []
    for (preset, fault), runs in grouped.items():
        ok = [r for r in runs if not r.get("error") and r.get("rto") is not None]
        rtos = [r["rto"] for r in ok]
        firsts = [r["first_ack"] for r in ok if r.get("first_ack") is not None]
        rows.append({
            "preset": preset, "fault": fault, "runs": len(runs), "failed": len(runs) - len(ok),
            "rto_median": statistics.median(rtos) if rtos else None,
            "rto_max": max(rtos) if rtos else None,
            "first_ack_median": statistics.median(firsts) if firsts else None,
            "lost": sum(r.get("lost") or 0 for r in ok),
            "split_brain": sum(1 for r in ok if r.get("split_brain")),
        })
    return rows


BASELINE_PRESET = "norm"  # Patroni's own timings, which autobase deploys


def format_table(rows):
    """summary_rows as a Markdown table (the README publishes it as printed). `x norm`: the
    RTO median over the `norm` preset's for the same fault in the same run."""
    def sec(v):
        return "-" if v is None else f"{v:.1f} s"
    baseline = {r["fault"]: r["rto_median"] for r in rows if r["preset"] == BASELINE_PRESET}
    lines = ["| preset | fault | runs | RTO median | RTO max | x norm | first ack (median) | "
             "acknowledged commits lost (total) | split brain (runs) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        runs = f"{r['runs']}" + (f" ({r['failed']} failed)" if r["failed"] else "")
        base = baseline.get(r["fault"])
        ratio = f"{r['rto_median'] / base:.2f}" if base and r["rto_median"] is not None else "-"
        lines.append(f"| {r['preset']} | {r['fault']} | {runs} | {sec(r['rto_median'])} | "
                     f"{sec(r['rto_max'])} | {ratio} | {sec(r['first_ack_median'])} | {r['lost']} | "
                     f"{r['split_brain']} |")
    return "\n".join(lines)


# -- the resumable resilience benchmark (bench-resilience): JSON lines, one per run ----------------

# timings: the Patroni timings deployed (the preset's, or a candidate's from --timings);
# etcd_placement: where the benchmark put etcd's leadership before the fault (--etcd-leader
# with | apart; pgha's own schedule, etcd:leader_apart, is off in those runs), absent when left
# to the formula (with Patroni's etcd3 API pgha keeps it off Patroni's leader)
CELL_KEYS = ("type", "preset", "fault", "replication", "dcs_api", "timings", "etcd_placement", "phase")
LOAD_KEYS = ("type", "preset", "replication", "dcs_api", "timings")
APPS = ("default", "documented")


def cell_of(sample):
    """The cell a sample belongs to: its values of CELL_KEYS."""
    return tuple(sample.get(k) for k in CELL_KEYS)


def count_runs(samples):
    """{cell: runs that did not fail} of fault samples: what a resumed benchmark skips."""
    done = {}
    for s in samples:
        if s.get("kind", "fault") == "fault" and not s.get("error"):
            done[cell_of(s)] = done.get(cell_of(s), 0) + 1
    return done


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _max(values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _stage(runs, stage):
    return _median([((r.get("timeline") or {}).get("steps") or {}).get(stage) for r in runs])


def summarise(samples):
    """One row per cell of fault samples (first-seen order): runs, failed, RTO median and max,
    first ack median, the failover's stages (median seconds of each step), acknowledged
    commits lost by the suite's writer and by each application writer (totals; an
    application writer's outage median and max, and the runs where it stayed blocked until
    cut), split brain runs and the longest window, and the etcd-leader comparison: RTO median
    (and runs) when the faulted node led etcd, and when it did not."""
    grouped = {}
    for s in samples:
        if s.get("kind", "fault") == "fault":
            grouped.setdefault(cell_of(s), []).append(s)
    rows = []
    for cell, runs in grouped.items():
        ok = [r for r in runs if not r.get("error") and r.get("rto") is not None]
        row = dict(zip(CELL_KEYS, cell))
        row.update({
            "runs": len(runs), "failed": len(runs) - len(ok),
            "rto_median": _median([r["rto"] for r in ok]), "rto_max": _max([r["rto"] for r in ok]),
            "first_ack_median": _median([r.get("first_ack") for r in ok]),
            "stages": {stage: _stage(ok, stage) for stage in ("key_expiry", "promotion", "vip_move", "client")},
            "lost": sum(r.get("lost") or 0 for r in ok),
            "split_brain": sum(1 for r in ok if r.get("split_brain")),
            "split_brain_measured": sum(1 for r in ok if r.get("split_brain_overlap")),
            "split_brain_proven_max": _max([(r.get("split_brain_overlap") or {}).get("proven") for r in ok]),
            "split_brain_at_most_max": _max([(r.get("split_brain_overlap") or {}).get("at_most") for r in ok]),
        })
        for app in APPS:
            found = [(r.get("apps") or {}).get(app) for r in ok]
            found = [a for a in found if a]
            row[f"app_{app}"] = {"runs": len(found), "lost": sum(a.get("lost") or 0 for a in found),
                                 "rto_median": _median([a.get("rto") for a in found if not a.get("stuck")]),
                                 "rto_max": _max([a.get("rto") for a in found if not a.get("stuck")]),
                                 "stuck": sum(1 for a in found if a.get("stuck"))}
        for flag, name in ((True, "etcd_leader"), (False, "not_etcd_leader")):
            group = [r for r in ok if r.get("target_was_etcd_leader") is flag]
            row[name] = {"runs": len(group), "rto_median": _median([r["rto"] for r in group])}
        rows.append(row)
    return rows


def load_rows(samples):
    """One row per (type, preset, replication, dcs_api) of load samples: runs, minutes,
    leader changes (total and most in one run), the writer's longest gap (max)."""
    grouped = {}
    for s in samples:
        if s.get("kind") == "load":
            grouped.setdefault(tuple(s.get(k) for k in LOAD_KEYS), []).append(s)
    return [{**dict(zip(LOAD_KEYS, k)), "runs": len(runs),
             "minutes": sum(r.get("minutes") or 0 for r in runs),
             "leader_changes": sum(r.get("leader_changes") or 0 for r in runs if not r.get("error")),
             "leader_changes_max": _max([r.get("leader_changes") for r in runs if not r.get("error")]),
             "failed": sum(1 for r in runs if r.get("error")),
             "longest_gap_max": _max([r.get("longest_gap") for r in runs])} for k, runs in grouped.items()]


def _sec(v):
    return "-" if v is None else f"{v:.1f} s"


def _preset(row):
    return (row["preset"] + (f" ({row['timings']})" if row.get("timings") else "")
            + (f", etcd leader {row['etcd_placement']}" if row.get("etcd_placement") else "")
            # fault rows before 2026-12-07 (pghalab.bench.resilience --phase)
            + (", fixed phase" if "phase" in row and row["phase"] != "random" else ""))


def _window(row):
    """' (longest: proven P, at most M)', the overlap of the two primaries' write spans
    (pghalab.faults.split_brain_window), over the runs that recorded it: runs before
    2026-12-07 recorded a wrong window, which is not shown."""
    if not row["split_brain_measured"]:
        return " (window not recorded)"
    found = f"longest: proven {_sec(row['split_brain_proven_max'])}, at most {_sec(row['split_brain_at_most_max'])}"
    if row["split_brain_measured"] < row["split_brain"]:
        found += f"; {row['split_brain_measured']} runs recorded it"
    return f" ({found})"


def format_summary(rows, loads=()):
    """summarise() and load_rows() as Markdown tables (docs/measurements.md publishes them)."""
    lines = ["| type | preset | fault | replication | DCS | runs | RTO median | RTO max | first ack | "
             "key expiry / promotion / VIP / client (median steps) | lost: writer / no timeout / documented | "
             "no-timeout client: outage median, max, stuck runs | split brain runs (longest overlap) | "
             "RTO median: etcd leader (runs) / not (runs) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        runs = f"{r['runs']}" + (f" ({r['failed']} failed)" if r["failed"] else "")
        stages = " / ".join(_sec(r["stages"][s]) for s in ("key_expiry", "promotion", "vip_move", "client"))
        d, doc = r["app_default"], r["app_documented"]
        window = _window(r) if r["split_brain"] else ""
        lines.append(
            f"| {r['type']} | {_preset(r)} | {r['fault']} | {r['replication']} | {r['dcs_api']} | {runs} | "
            f"{_sec(r['rto_median'])} | {_sec(r['rto_max'])} | {_sec(r['first_ack_median'])} | {stages} | "
            f"{r['lost']} / {d['lost']} / {doc['lost']} | {_sec(d['rto_median'])}, {_sec(d['rto_max'])}, "
            f"{d['stuck']} | {r['split_brain']}{window} | "
            f"{_sec(r['etcd_leader']['rto_median'])} ({r['etcd_leader']['runs']}) / "
            f"{_sec(r['not_etcd_leader']['rto_median'])} ({r['not_etcd_leader']['runs']}) |")
    if loads:
        lines += ["", "| type | preset | replication | DCS | runs | minutes under load | leader changes "
                  "(most in one run) | writer's longest gap |", "|---|---|---|---|---|---|---|---|"]
        for r in loads:
            lines.append(f"| {r['type']} | {_preset(r)} | {r['replication']} | {r['dcs_api']} | {r['runs']}"
                         + (f" ({r['failed']} failed)" if r["failed"] else "")
                         + f" | {r['minutes']} | {r['leader_changes']} ({r['leader_changes_max']}) | "
                         f"{_sec(r['longest_gap_max'])} |")
    return "\n".join(lines)



def step_returns(result):
    """{step id: step return} of an orchestration, the steps of nested orchestrations included
    (salt.runner state.orchestrate steps carry theirs under changes.return.data)."""
    found = {}

    def walk(data):
        ret = data.get("data", data) if isinstance(data, dict) else {}
        for steps in (ret.values() if isinstance(ret, dict) else ()):
            for key, step in (steps.items() if isinstance(steps, dict) else ()):
                if isinstance(step, dict):
                    found[step.get("__id__", key)] = step
                    nested = (step.get("changes") or {}).get("return")
                    if isinstance(nested, dict) and isinstance(nested.get("data"), dict):
                        walk(nested)
    walk(result.get("data") or {})
    return found


def step_seconds(result):
    """{step id: seconds} of an orchestration's steps, nested ones included: where the time of
    a workflow goes."""
    return {sid: round(float(step["duration"]) / 1000, 1) for sid, step in step_returns(result).items()
            if "duration" in step}
