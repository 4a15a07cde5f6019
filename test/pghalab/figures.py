"""How the benchmarks print their figures: one line per run, then a table of medians
(print_run, print_table); the resilience benchmark's Markdown table per preset and fault
(summary_rows, format_table; the README publishes it as printed)."""
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
