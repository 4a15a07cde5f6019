"""Where a deployed lab's secrets must never show: the master's job cache and log, the
minions' logs, and every process's command line on the nodes.

The pillar itself is not scanned (it is where secrets belong), nor the files pgha writes for
the services (owner-only; the render tests check no state argument carries a secret)."""
import subprocess

# Pillar keys whose values are secrets, wherever they appear in the pgha pillar.
SECRET_KEYS = ("password", "stats_password", "ca_key")


def secrets_of(pillar):
    """Every secret value in a pillar (nested dicts and lists), as strings."""
    found = []

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif key in SECRET_KEYS and value not in (None, ""):
            found.append(str(value))
    walk(pillar)
    return sorted(set(found))


def _master_texts(lab):
    """(where, bytes) of the master's job cache files and its log."""
    root = lab.master.root
    for path in sorted((root / "var" / "cache" / "salt" / "master" / "jobs").rglob("*")):
        if path.is_file():
            yield f"master job cache {path.relative_to(root)}", path.read_bytes()
    log = root / "master.log"
    if log.exists():
        yield "master log", log.read_bytes()


def _node_texts(node):
    """(where, bytes) of a node's Salt minion log and its processes' command lines."""
    for where, cmd in (("minion log", ["cat", "/var/log/salt/minion"]),
                       ("ps", ["ps", "-eww", "-o", "pid=,args="])):
        res = subprocess.run(node._inside(cmd), capture_output=True, check=False)  # pylint: disable=protected-access
        yield f"{node.name} {where}", res.stdout


def sightings(lab, secrets):
    """[(where, which secret's index)] for every place a secret shows (empty when none)."""
    needles = [(i, s.encode()) for i, s in enumerate(secrets)]
    texts = list(_master_texts(lab))
    for node in lab.nodes():
        texts.extend(_node_texts(node))
    return [(where, i) for where, data in texts for i, needle in needles if needle in data]
