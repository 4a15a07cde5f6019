"""pgha lab command line: `test/lab up`, `test/lab salt '*' test.ping`, `test/lab crash pg1`..."""
import argparse
import sys

from .lab import Lab
from .image import SUITES
from .scenarios import SCENARIOS

FAULTS = {
    "crash": lambda lab, n: lab.node(n).crash(),
    "stop": lambda lab, n: lab.node(n).stop(),
    "start": lambda lab, n: _start(lab, n),
    "partition": lambda lab, n: lab.net.link(n, up=False),
    "heal": lambda lab, n: lab.net.link(n, up=True),
    "freeze": lambda lab, n: lab.node(n).freeze(True),
    "thaw": lambda lab, n: lab.node(n).freeze(False),
}


def _start(lab, name):
    node = lab.node(name)
    if node.init_pid():
        return
    node.boot(binds=lab.binds())
    node.wait_booted()
    lab.net.flush_arp()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # salt/salt-run/exec pass everything after them through untouched.
    if argv and argv[0] in ("salt", "salt-run", "salt-key", "salt-call"):
        lab = Lab()
        return lab.master.cli_quiet(argv[0], *argv[1:])
    parser = argparse.ArgumentParser(prog="test/lab", description=__doc__)
    parser.add_argument("--lab", default="pgha", help="lab name (default: pgha)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="build images if needed, boot the nodes, start the master")
    up.add_argument("--scenario", default="typeb", choices=sorted(SCENARIOS))
    sub.add_parser("down", help="stop everything and remove all traces")
    sub.add_parser("status")
    img = sub.add_parser("image", help="build (or find cached) node image and package repository")
    for p in (up, img):
        p.add_argument("--suite", default=None, choices=sorted(SUITES),
                       help="Debian release of the nodes (default: $PGHA_LAB_SUITE or bookworm)")
    ex = sub.add_parser("exec", help="run a command in a node: exec NODE -- CMD...")
    ex.add_argument("node")
    ex.add_argument("command", nargs=argparse.REMAINDER)
    for fault in FAULTS:
        p = sub.add_parser(fault)
        p.add_argument("node")
    args = parser.parse_args(argv)
    lab = Lab(args.lab)
    if args.cmd == "up":
        lab.up(args.scenario, args.suite)
    elif args.cmd == "down":
        lab.down()
    elif args.cmd == "status":
        print(lab.status())
    elif args.cmd == "image":
        from . import image
        print(*image.ensure_image(args.suite))
    elif args.cmd == "exec":
        cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
        return lab.node(args.node).exec(cmd, check=False).returncode
    else:
        FAULTS[args.cmd](lab, args.node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
