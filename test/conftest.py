"""Options and reports for the whole suite: `--lab-scenario` (make test-lab) and each test
file's wall time at the end of the run (setup and teardown included, so a lab module's time
holds its lab coming up and its deploy)."""
import os
from collections import defaultdict

# Before anything imports protobuf: etcd3 (pghalab.health) needs its pure-Python backend.
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

_WALL = defaultdict(float)


def pytest_addoption(parser):
    parser.addoption("--lab-scenario", action="append", default=[],
                     help="run only the lab test modules of this scenario (repeatable)")


def pytest_runtest_logreport(report):
    _WALL[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _WALL:
        return
    terminalreporter.section("wall time per test file")
    for path, seconds in sorted(_WALL.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds / 60:7.1f} min  {path}")
    terminalreporter.write_line(f"{sum(_WALL.values()) / 60:7.1f} min  total")
