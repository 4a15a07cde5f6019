"""Where a failover's time goes: a sampler that watches, from the fault on, the DCS leader key,
the database nodes' recovery state and the entry point, and the pure function that splits a
run's write outage into its parts (split_times, unit-tested in
test/unit/test_failover_timeline.py).

The parts, each in seconds from the fault's injection:
- key_expiry: the leader key no longer names the old leader (it expired, or was taken over);
- promotion: a node other than the old leader answers pg_is_in_recovery() = false;
- vip_move: Type B: another node holds the VIP (vip-manager moved it); Type A: port 5000 on
  the VIP reaches a node other than the old leader (HAProxy's checks marked it up);
- client: the writer's first acknowledged commit after the fault.
Each stage's own length is the difference to the stage before (steps). Sampled every
`interval` s (0.2 s), so each time is late by up to that.
"""
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request

import psycopg2

from .cluster import identity, query, vip_holders

STAGES = ("key_expiry", "promotion", "vip_move", "client")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def split_times(t_fault, events, first_ack=None):
    """{stage: seconds from the fault} and {stage: seconds since the previous stage} from
    `events` ({stage: time.monotonic() when first seen}, a stage missing when never seen);
    `first_ack` (seconds from the fault) is the client stage when given. Returns
    ``{"at": {...}, "steps": {...}}``; a stage never seen is None in both, and the step after
    it counts from the last stage seen."""
    at = {stage: (round(events[stage] - t_fault, 3) if events.get(stage) is not None else None)
          for stage in STAGES}
    if first_ack is not None:
        at["client"] = round(first_ack, 3)
    steps, last = {}, 0.0
    for stage in STAGES:
        if at[stage] is None:
            steps[stage] = None
            continue
        steps[stage] = round(max(at[stage] - last, 0.0), 3)
        last = max(last, at[stage])
    return {"at": at, "steps": steps}


def leader_key(addresses, scope, api, port=2379):
    """The name in the leader key /service/<scope>/leader (None when the key is absent),
    read from the first etcd member among `addresses` that answers, through etcd's v2 API
    (Patroni's `etcd` DCS) or v3 (`etcd3`). Raises OSError when none answers."""
    key = f"/service/{scope}/leader"
    for address in addresses:
        if api == "etcd3":
            import etcd3  # pylint: disable=import-outside-toplevel  (only etcd3 clusters need it)
            client = etcd3.client(host=address, port=port, timeout=1)
            try:
                value, _ = client.get(key)
                return value.decode() if value is not None else None
            except etcd3.exceptions.Etcd3Exception:
                continue
            finally:
                client.close()
        try:
            with _DIRECT.open(f"http://{address}:{port}/v2/keys{key}?quorum=false", timeout=1) as resp:
                return json.loads(resp.read().decode()).get("node", {}).get("value")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
        except (OSError, ValueError):
            continue
    raise OSError(f"no etcd member of {', '.join(addresses)} answered")


def dcs_api_of(pillar_pgha):
    """The DCS API Patroni uses in the lab's cluster (as pgha_derive resolves 'auto': v2 with
    vip-manager 1.x, which Type B uses, else v3)."""
    api = (pillar_pgha.get("patroni") or {}).get("dcs_api", "auto")
    if api != "auto":
        return api
    return "etcd3" if pillar_pgha.get("with_haproxy_load_balancing") else "etcd"


class Sampler:
    """Watches a failover from `t_fault` on, in a thread: the first time each stage of STAGES
    (but client, the writer's) was seen, in `events`."""

    def __init__(self, lab, topo, old_leader, scope, api, interval=0.2):
        self.lab, self.topo, self.old = lab, topo, old_leader
        self.scope, self.api, self.interval = scope, api, interval
        self.others = {n: a for n, a in topo.db.items() if n != old_leader}
        self.events = {}
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="failover-sampler")

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)
        return self

    def _seen(self, stage):
        self.events.setdefault(stage, time.monotonic())

    def _sample(self):
        if "key_expiry" not in self.events:
            try:
                if leader_key(list(self.others.values()), self.scope, self.api) != self.old:
                    self._seen("key_expiry")
            except (OSError, ImportError):
                self.errors += 1
        if "promotion" not in self.events:
            for address in self.others.values():
                try:
                    if not query(self.lab, address, "SELECT pg_is_in_recovery()")[0][0]:
                        self._seen("promotion")
                        break
                except psycopg2.Error:
                    pass
        if "vip_move" not in self.events:
            try:
                if self.topo.balancers:     # Type A: HAProxy sends port 5000 to the new leader
                    moved = identity(self.lab, self.topo.vip, self.topo.port)[0] != self.old
                else:                       # Type B: vip-manager put the VIP on another node
                    moved = bool(vip_holders(self.lab, list(self.others), self.topo.vip))
                if moved:
                    self._seen("vip_move")
            except (psycopg2.Error, OSError, subprocess.CalledProcessError):
                pass

    def _run(self):
        while not self._stop.is_set() and len(self.events) < len(STAGES) - 1:
            self._sample()
            self._stop.wait(self.interval)
