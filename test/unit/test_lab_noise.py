"""The lab's command line drops Salt's finalizer warnings about unclosed clients, and only those."""
import io
import subprocess
import sys

import pytest

from pghalab import noise

NOISE = [
    "[WARNING ] unclosed RunnerClient <salt.runner.RunnerClient object at 0x7f3a2c1d5e10>; "
    "call ``destroy()`` or use as a context manager",
    "[WARNING ] unclosed MasterEvent <salt.utils.event.MasterEvent object at 0x7f3a2c1d5e10>; "
    "call ``destroy()`` or use as a context manager",
    "[WARNING ] unclosed MasterMinion <salt.minion.MasterMinion object at 0x7f00aa>; "
    "call ``destroy()`` or use as a context manager",
    "[WARNING ] unclosed SyncWrapper for cls=<class 'salt.transport.tcp.TCPReqClient'>; "
    "call ``close()`` or use as a context manager",
    # at interpreter exit, through logging's last-resort handler: no level prefix
    "unclosed Runner <salt.runner.Runner object at 0x7fb7cabaa1d0>; call ``destroy()`` or use as a "
    "context manager",
    "unclosed MasterMinion <salt.minion.MasterMinion object at 0x7fb7cd14e690>; call ``destroy()`` or "
    "use as a context manager",
]
KEPT = [
    "[WARNING ] cluster main: only one balancer: the VIP has no standby",
    "[ERROR   ] unclosed RunnerClient <salt.runner.RunnerClient object at 0x7f>; call ``destroy()`` "
    "or use as a context manager",
    "[WARNING ] unclosed file /etc/patroni.yml; call ``destroy()`` or use as a context manager",
    "[WARNING ] unclosed RunnerClient <salt.runner.RunnerClient object at 0x7f>; and something else",
    "unclosed file <_io.TextIOWrapper name='x'>; call ``destroy()`` or use as a context manager",
    "ERROR: unclosed MasterMinion <salt.minion.MasterMinion object at 0x7f>; call ``destroy()`` or use "
    "as a context manager",
    "          ID: pgha-cluster-summary",
]


@pytest.mark.parametrize("line", NOISE)
def test_salt_finalizer_warnings_are_noise(line):
    assert noise.is_noise(line)
    assert noise.is_noise(line + "\n")


@pytest.mark.parametrize("line", KEPT)
def test_other_lines_pass(line):
    assert not noise.is_noise(line)


def test_copy_streams_drops_only_the_noise():
    script = ("import sys\n"
              f"lines = {NOISE + KEPT!r}\n"
              "for l in lines: print(l); print(l, file=sys.stderr)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = io.StringIO(), io.StringIO()
    assert noise.copy_streams(proc, out, err) == 2 * len(NOISE)
    assert out.getvalue().splitlines() == KEPT
    assert err.getvalue().splitlines() == KEPT
    assert proc.returncode == 0
