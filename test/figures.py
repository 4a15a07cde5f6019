"""How the benchmarks print their samples: one line per run, then a table of medians."""
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
