"""A screenshot of a Prometheus graph with headless Chromium, for docs/monitoring.md (issue 24).

    python -m pghalab.screenshot URL OUT.png [--wait-ms 8000] [--size 1400,800]

Prometheus' graph page draws with JavaScript after it loads: Chromium's virtual time budget
lets the page run that long before the picture is taken. Needs the `chromium` Debian package
on the host (it is not in make host's list: the picture is taken by hand, not by CI).
The monitor lab's test (test_monitor.py) calls it when chromium is installed.
"""
import argparse
import shutil
import subprocess
import sys
import tempfile

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser():
    """The headless-capable browser on PATH, or None."""
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def take(url, out, wait_ms=8000, size=(1400, 800)):
    """Write a PNG of `url` to `out`; returns the browser's exit code (127 without a browser)."""
    binary = browser()
    if binary is None:
        print("screenshot: no chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 127
    with tempfile.TemporaryDirectory(prefix="pgha-chromium-") as profile:
        argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
                f"--virtual-time-budget={wait_ms}", f"--screenshot={out}", url]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False).returncode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--wait-ms", type=int, default=8000)
    parser.add_argument("--size", default="1400,800")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split(","))
    return take(args.url, args.out, args.wait_ms, (width, height))


if __name__ == "__main__":
    sys.exit(main())
