"""
Standby clusters (issue 20), pure Python (no ``__salt__``): a whole Patroni cluster whose
leader replicates from another pgha cluster (its "main" cluster) and may be promoted when the
main site is lost.

Two sides, each declared in its own cluster's pillar:

- the standby's ``pgha:standby_cluster`` (autobase's ``patroni_standby_cluster``): where the
  standby leader replicates from; rendered into Patroni's ``bootstrap.dcs.standby_cluster``
  and kept in the DCS by ``pgha_patroni.dynamic_config``;
- the main's ``pgha:standby_clusters``: for each standby cluster its addresses and its
  permanent slot; rendered into the main cluster's Patroni ``slots``, pg_hba lines and
  firewall rules, applied with ``pgha.config`` on the main cluster.

The validator (``rules``), the derived settings (``derive``), the highstate's refusal after a
promotion (``dcs_conflict``), the promotion's guard (``promote_problems``) and the summary
line (``summary``) live here so that the states and the planner decide alike.
"""
import ipaddress
import re

# A replication slot's name: PostgreSQL takes lower case letters, digits and '_' (63 bytes).
SLOT_NAME = r"[a-z0-9_]{1,63}"
# Patroni's standby_cluster keys that pgha sets (Patroni's documentation, "Standby cluster").
PATRONI_KEYS = ("host", "port", "primary_slot_name", "create_replica_methods", "restore_command",
                "recovery_min_apply_delay")
PGBOUNCER_REPLICATION = ("PgBouncer carries replication connections only from version 1.23 (Debian 12 "
                         "ships 1.18), and a Type A cluster's HAProxy port 5000 leads to PgBouncer")
# A receiver that heard from its sender this recently counts as connected to the main cluster.
RECENT_SECONDS = 30


def _ipv4(value):
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except ValueError:
        return None


def _section(cfg, key):
    value = cfg.get(key)
    return value if isinstance(value, dict) else {}


def is_standby(cfg):
    """Whether these settings describe a standby cluster (``standby_cluster:host`` set)."""
    return bool(_section(cfg, "standby_cluster").get("host"))


def rules(cfg):
    """Problems as (key, message) with ``standby_cluster`` and ``standby_clusters``."""
    return _standby_rules(cfg) + _main_rules(cfg)


def _standby_rules(cfg):
    standby = _section(cfg, "standby_cluster")
    # port and create_replica_methods have defaults: any other field makes a standby cluster
    repo = standby.get("pgbackrest") if isinstance(standby.get("pgbackrest"), dict) else {}
    if not any(standby.get(k) not in (None, "", []) for k in ("host", "cluster") + PATRONI_KEYS[2:]
               if k != "create_replica_methods") and repo.get("enabled") is not True:
        return []
    found = []
    host = standby.get("host")
    if not host:
        found.append(("standby_cluster:host", "a standby cluster needs the main cluster's address "
                      "(its VIP, or a member's address) to replicate from"))
    own = {str(a) for a in (cfg.get("cluster_vip"), cfg.get("address")) if a}
    if host and (str(host) in own or standby.get("cluster") == cfg.get("cluster_name")):
        found.append(("standby_cluster:host", f"{host} is this cluster's own address (or "
                      "standby_cluster:cluster names this cluster): a cluster cannot be a standby of itself"))
    slot = standby.get("primary_slot_name")
    if slot and not re.fullmatch(SLOT_NAME, str(slot)):
        found.append(("standby_cluster:primary_slot_name", "must be a replication slot name: lower case "
                      f"letters, digits and '_', at most 63 (got {slot!r})"))
    methods = standby.get("create_replica_methods") or []
    for i, method in enumerate(methods if isinstance(methods, list) else []):
        tool = {"pgbackrest": "pgbackrest", "wal_g": "wal_g"}.get(method)
        if tool and _section(cfg, tool).get("enabled") is not True:
            found.append((f"standby_cluster:create_replica_methods:{i}", f"{method} restores the standby "
                          f"leader from a repository: it needs {tool}:enabled (configured for the main "
                          "cluster's repository), or use basebackup"))
    found += _repository_rules(cfg, standby)
    if cfg.get("with_haproxy_load_balancing") is True and host:
        found.append(("standby_cluster", "a Type A standby cluster is not supported yet: deploy the "
                      "standby cluster as Type B (vip-manager); its main cluster may be either"))
    if cfg.get("standby_clusters"):
        found.append(("standby_clusters", "a standby cluster cannot have standby clusters of its own "
                      "yet (cascading between clusters): declare them on the main cluster"))
    return found


def _repository_rules(cfg, standby):
    """standby_cluster:pgbackrest: the nodes read the main cluster's repository host, which
    only the main's mine entries name (standby_cluster:cluster), with this cluster's pgBackRest."""
    repo = standby.get("pgbackrest") if isinstance(standby.get("pgbackrest"), dict) else {}
    if repo.get("enabled") is not True:
        return []
    found = []
    if not standby.get("cluster"):
        found.append(("standby_cluster:cluster", "standby_cluster:pgbackrest restores from the main "
                      "cluster's repository host: name the main cluster (its pgha:cluster_name), whose "
                      "minion with role pgbackrest that host is"))
    if _section(cfg, "pgbackrest").get("enabled") is not True:
        found.append(("standby_cluster:pgbackrest:enabled", "the nodes run pgBackRest to read the main "
                      "cluster's repository: set pgbackrest:enabled too"))
    return found


def _main_rules(cfg):
    entries = cfg.get("standby_clusters")
    if not isinstance(entries, list):
        return []
    found, names, slots = [], set(), set()
    declared = _section(cfg, "patroni").get("slots")
    own_slots = {s.get("slot") for s in (declared if isinstance(declared, list) else []) if isinstance(s, dict)}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        key = f"standby_clusters:{i}"
        name, slot = entry.get("name"), entry.get("slot")
        if not name:
            found.append((f"{key}:name", "every standby cluster needs its name (its pgha:cluster_name)"))
        elif name == cfg.get("cluster_name"):
            found.append((f"{key}:name", f"{name} is this cluster: a cluster cannot be a standby of itself"))
        elif name in names:
            found.append((f"{key}:name", f"the standby cluster {name!r} is listed twice"))
        names.add(name)
        if not entry.get("addresses"):
            found.append((f"{key}:addresses", "give the standby cluster's node addresses (pg_hba and "
                          "firewall admit them)"))
        if slot and slot in slots | own_slots:
            found.append((f"{key}:slot", f"the slot {slot!r} is used twice (here or in patroni:slots)"))
        if slot:
            slots.add(slot)
        if entry.get("pgbackrest") is True and _section(cfg, "pgbackrest").get("enabled") is not True:
            found.append((f"{key}:pgbackrest", f"the standby cluster {name} would restore from this "
                          "cluster's pgBackRest repository host, but pgbackrest:enabled is off here"))
    pgbouncer = _section(cfg, "pgbouncer").get("enabled")
    behind_pgbouncer = cfg.get("with_haproxy_load_balancing") is True and pgbouncer in ("auto", True)
    if entries and behind_pgbouncer and not _section(cfg, "haproxy").get("direct_ports", {}).get("master"):
        found.append(("standby_clusters", f"{PGBOUNCER_REPLICATION}: set haproxy:direct_ports:master "
                      "(e.g. 6000, straight to the primary's PostgreSQL) and point the standby's "
                      "standby_cluster:port at it"))
    return found


def patroni_section(cfg):
    """Patroni's ``standby_cluster`` (dynamic configuration) from ``pgha:standby_cluster``, or
    None when this cluster is not a standby cluster. Empty optional values are left out, so
    Patroni's own defaults apply."""
    if not is_standby(cfg):
        return None
    standby = _section(cfg, "standby_cluster")
    section = {"host": str(standby["host"]), "port": _port(standby.get("port"))}
    for key in PATRONI_KEYS[2:]:
        value = standby.get(key)
        if value not in (None, "", []):
            section[key] = list(value) if isinstance(value, list) else value
    repo = repository(cfg)
    if repo and not section.get("restore_command"):
        # WAL the main cluster no longer keeps, from its archive (the standby leader's only source
        # once the main's wal_keep_size or slot no longer covers it)
        bin_ = _section(cfg, "paths").get("pgbackrest_bin") or "pgbackrest"
        section["restore_command"] = f'{bin_} --stanza={repo["stanza"]} archive-get %f "%p"'
    return section


def repository(cfg):
    """The main cluster's pgBackRest repository this standby cluster reads
    (``standby_cluster:pgbackrest``), or None: ``stanza`` (the main's; '' = its cluster name),
    ``user`` (the main repository host's OS user), ``cluster`` (the main's name), and ``host``
    and ``minion``, which only the mine knows (:py:func:`with_repository_hosts`; '' until then)."""
    if not is_standby(cfg):
        return None
    standby = _section(cfg, "standby_cluster")
    repo = standby.get("pgbackrest") if isinstance(standby.get("pgbackrest"), dict) else {}
    if repo.get("enabled") is not True:
        return None
    return {"stanza": str(repo.get("stanza") or standby.get("cluster") or ""),
            "user": str(repo.get("repo_host_user") or "pgbackrest"),
            "cluster": str(standby.get("cluster") or ""), "host": "", "minion": ""}


def repository_clients(cfg):
    """The standby clusters (names, sorted) of this main cluster whose nodes restore from its
    repository host (``standby_clusters:N:pgbackrest``)."""
    entries = cfg.get("standby_clusters")
    return sorted(str(e["name"]) for e in (entries if isinstance(entries, list) else [])
                  if isinstance(e, dict) and e.get("name") and e.get("pgbackrest") is True)


def with_repository_hosts(cfg, members_of):
    """Fill in, from the mine (``members_of(cluster)``: ``{role: {minion: address}}``), what
    only the other cluster's minions publish: on a standby cluster the main's repository host
    (``standby_repo``: ``host``, ``minion``; a cluster has one repository host, the planner
    refuses more, and the first by address is taken), on a main cluster the database nodes
    its repository host trusts (``standby_main:repo_clients``, ``{minion: address}``). In
    place."""
    repo = cfg.get("standby_repo")
    if repo and repo.get("cluster"):
        hosts = sorted((members_of(repo["cluster"]).get("pgbackrest") or {}).items(),
                       key=lambda item: str(item[1]).lower())
        if hosts:
            repo["minion"], repo["host"] = str(hosts[0][0]), str(hosts[0][1])
    clients = {}
    for name in repository_clients(cfg):
        clients.update(members_of(name).get("postgresql") or {})
    cfg.setdefault("standby_main", {})["repo_clients"] = clients
    return cfg


def _port(value):
    # the validator refuses a port that is not one; the templates still render meanwhile
    try:
        return int(value or 5432)
    except (TypeError, ValueError):
        return 5432


def main_side(cfg):
    """What this (main) cluster keeps for its standby clusters: ``slots`` (Patroni's permanent
    physical slots, ``{name: {type: physical}}``), ``addresses`` (sorted), ``networks`` (the
    same as pg_hba and nftables take them: an address as /32) and ``names``."""
    slots, addresses, names = {}, set(), []
    entries = cfg.get("standby_clusters")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        names.append(str(entry["name"]))
        if entry.get("slot"):
            slots[str(entry["slot"])] = {"type": "physical"}
        listed = entry.get("addresses")
        for address in listed if isinstance(listed, list) else []:
            addresses.add(str(address))
    addresses = sorted(addresses, key=_sort_key)
    return {"slots": slots, "addresses": addresses, "networks": [hba_network(a) for a in addresses],
            "names": sorted(names)}


def _sort_key(address):
    try:
        return (0, ipaddress.ip_network(address, strict=False))
    except ValueError:
        return (1, address)


def hba_network(address):
    """An address as pg_hba and nftables take it: a bare IPv4 address as /32."""
    return f"{address}/32" if _ipv4(address) else str(address)


def derive(cfg):
    """The standby settings the templates read (in place): ``standby_dcs`` (Patroni's
    standby_cluster or None), ``standby_main`` (:py:func:`main_side`), and the main side's
    slots merged into ``patroni:dcs_slots``."""
    cfg["standby_dcs"] = patroni_section(cfg)
    cfg["standby_main"] = main_side(cfg)
    cfg["standby_main"]["repo_clients"] = {}
    cfg["standby_repo"] = repository(cfg)
    patroni = cfg.setdefault("patroni", {})
    slots = dict(cfg["standby_main"]["slots"])
    slots.update(patroni.get("dcs_slots") or {})
    patroni["dcs_slots"] = slots
    return cfg


def dcs_conflict(desired, current, cluster=""):
    """Why the DCS's configuration (``current``, Patroni's GET /config) and pillar's
    (``desired``) disagree about being a standby cluster, or None. pgha never adds or removes
    ``standby_cluster`` in a running cluster: adding it would demote a primary, removing it is
    ``pgha.promote``'s."""
    want = (desired or {}).get("standby_cluster")
    have = (current or {}).get("standby_cluster") if isinstance(current, dict) else None
    name = f"cluster {cluster}" if cluster else "this cluster"
    if want and not have:
        return (f"pgha:standby_cluster is set, but {name} is no longer a standby cluster (it was promoted, "
                "pgha.promote): remove pgha:standby_cluster from its pillar. Nothing was changed: pgha "
                "never turns a running primary back into a standby (to follow another cluster again, "
                "re-deploy it as a standby cluster, see docs/standby-clusters.md)")
    if have and not want:
        return (f"{name} is a standby cluster in the DCS (of {have.get('host')}:{have.get('port')}), but "
                "pgha:standby_cluster is not set: promote it with salt-run state.orch pgha.promote "
                f"pillar='{{\"cluster\": \"{cluster or 'NAME'}\"}}', or restore pgha:standby_cluster. "
                "Nothing was changed")
    return None


def receiver_connected(receiver):
    """Whether a standby leader's WAL receiver (``pgha_patroni.standby_status``) is connected to
    its main cluster now: streaming, and heard from it within RECENT_SECONDS."""
    if not isinstance(receiver, dict) or receiver.get("status") != "streaming":
        return False
    age = receiver.get("last_msg_age_seconds")
    return age is None or age <= RECENT_SECONDS


def promote_problems(cluster, is_standby_cluster, main, main_leader, receiver, force=False):
    """
    Why ``pgha.promote`` must not promote ``cluster`` now (a list, empty when it may):

    - ``is_standby_cluster``: whether the cluster's pillar says it is one (None: unknown);
    - ``main``: the main cluster's name as pillar gives it (standby_cluster:cluster), or '';
    - ``main_leader``: the main cluster's leader as its minions answered (None: none answered
      or none leads);
    - ``receiver``: the standby leader's WAL receiver (``pgha_patroni.standby_status``), with
      ``main_reachable``: whether the standby leader can open a TCP connection to the main
      cluster's host and port now (a WAL receiver notices a lost sender only after
      wal_receiver_timeout, so its status alone would refuse for a minute after the loss);
    - ``force``: promote even though the main cluster still answers (split brain is then the
      operator's to prevent: two clusters accept writes).
    """
    if is_standby_cluster is False:
        return [f"pgha.promote: cluster {cluster} is not a standby cluster (pgha:standby_cluster:host is "
                "not set in its pillar); nothing was changed"]
    if force is not True and force is not False:
        return [f"pgha.promote: pillar force must be true or false (got {force!r}); nothing was changed"]
    if force:
        return []
    found = []
    what = f"main cluster {main}" if main else "the main cluster"
    if main_leader:
        found.append(f"pgha.promote refused: {what} still has a running leader ({main_leader}): promoting "
                     f"{cluster} now makes two clusters accept writes. Stop the main cluster first, or "
                     "force it with pillar='{\"cluster\": \"" + cluster + "\", \"force\": true}'; "
                     "nothing was changed")
    reachable = receiver.get("main_reachable") if isinstance(receiver, dict) else None
    if reachable is True:
        found.append(f"pgha.promote refused: {what} still accepts connections at {receiver.get('host')}:"
                     f"{receiver.get('port')} (from the standby leader of {cluster}): stop the main cluster "
                     "first, or force it with pillar force: true; nothing was changed")
    elif reachable is None and receiver_connected(receiver):
        # no connection test (an older module): the WAL receiver says it
        found.append(f"pgha.promote refused: the standby leader of {cluster} still streams from "
                     f"{receiver.get('sender_host')}:{receiver.get('sender_port')} ({what} is reachable): "
                     "stop the main cluster first, or force it with pillar force: true; nothing was changed")
    return found


def summary(cluster, receiver, main=""):
    """One line for the cluster summary: which cluster this one is a standby of, and its lag
    (``receiver``: ``pgha_patroni.standby_status``)."""
    if not isinstance(receiver, dict):
        return ""
    source = f"{receiver.get('sender_host') or receiver.get('host')}:{receiver.get('sender_port') or receiver.get('port')}"
    of = f"{main} ({source})" if main else source
    lag = receiver.get("lag_bytes")
    delay = receiver.get("replay_delay_seconds")
    lag_text = "unknown" if lag is None else f"{lag} bytes"
    if delay is not None:
        lag_text += f", replay {delay:.1f} s behind"
    return (f"Standby cluster {cluster} of {of}: WAL receiver {receiver.get('status') or 'not running'}, "
            f"lag {lag_text}")


def cross_cluster_problems(name, standby, own_addresses, main_pillar, main_repo_host=None):
    """What only the master sees (the planner, pgha.plan): problems as messages with a standby
    cluster ``name`` whose ``pgha:standby_cluster`` is ``standby``, given its members'
    addresses (``own_addresses``) and its main cluster's pgha pillar (``main_pillar``, {} when
    the master does not know it); ``main_repo_host``: whether a minion of the main cluster has
    role pgbackrest (None: not known)."""
    if not isinstance(standby, dict) or not standby.get("host"):
        return []
    found = []
    host, port = str(standby["host"]), _port(standby.get("port"))
    if host in {str(a) for a in own_addresses or ()}:
        found.append(f"pgha:standby_cluster:host: {host} is a node of cluster {name} itself: a cluster "
                     "cannot be a standby of itself")
    main = main_pillar if isinstance(main_pillar, dict) else {}
    if not main:
        return found
    haproxy = _section(main, "haproxy")
    direct = (haproxy.get("direct_ports") or {}).get("master") if isinstance(haproxy.get("direct_ports"), dict) else None
    pgbouncer = _section(main, "pgbouncer").get("enabled", "auto")
    if main.get("with_haproxy_load_balancing") is True and pgbouncer in ("auto", True) and port != direct:
        found.append(f"pgha:standby_cluster:port: the main cluster {standby.get('cluster')} is Type A: "
                     f"{PGBOUNCER_REPLICATION}; set its haproxy:direct_ports:master and use that port here "
                     f"(got {port})")
    listed = [e for e in main.get("standby_clusters") or [] if isinstance(e, dict) and e.get("name") == name]
    if not listed:
        found.append(f"pgha:standby_cluster:cluster: the main cluster {standby.get('cluster')} does not list "
                     f"{name} in its pgha:standby_clusters: its pg_hba and firewall will not admit this "
                     "cluster (add it there, then run pgha.config on the main cluster)")
    elif standby.get("primary_slot_name") and listed[0].get("slot") != standby.get("primary_slot_name"):
        found.append(f"pgha:standby_cluster:primary_slot_name: {standby.get('primary_slot_name')} is not the "
                     f"slot the main cluster keeps for {name} ({listed[0].get('slot') or 'none'})")
    return found + _repository_problems(name, standby, main, listed, main_repo_host)


def _repository_problems(name, standby, main, listed, main_repo_host):
    """standby_cluster:pgbackrest against the main cluster's pillar: the main opts in for this
    standby, has pgBackRest with a repository host, and the same stanza and repository user."""
    repo = standby.get("pgbackrest") if isinstance(standby.get("pgbackrest"), dict) else {}
    if repo.get("enabled") is not True:
        return []
    found, main_name = [], standby.get("cluster")
    main_pgbr = _section(main, "pgbackrest")
    if listed and listed[0].get("pgbackrest") is not True:
        found.append(f"pgha:standby_cluster:pgbackrest: the main cluster {main_name} does not let {name} "
                     f"read its repository: set pgbackrest: true in its standby_clusters entry for {name} "
                     "(its repository host then trusts this cluster's nodes), and run pgha.config there")
    if main_pgbr.get("enabled") is not True:
        found.append(f"pgha:standby_cluster:pgbackrest: the main cluster {main_name} has no pgBackRest "
                     "(its pgbackrest:enabled is off)")
    elif main_repo_host is False:
        found.append(f"pgha:standby_cluster:pgbackrest: the main cluster {main_name} has no repository host "
                     "(no minion with role pgbackrest): restore through a restore_command that reaches its "
                     "repository (shared or object storage) instead")
    main_stanza = main_pgbr.get("stanza") or main_name
    if main_pgbr.get("enabled") is True and (repo.get("stanza") or main_name) != main_stanza:
        found.append(f"pgha:standby_cluster:pgbackrest:stanza: {repo.get('stanza') or main_name} is not the "
                     f"main cluster's stanza ({main_stanza})")
    main_user = main_pgbr.get("repo_host_user") or "pgbackrest"
    if main_pgbr.get("enabled") is True and (repo.get("repo_host_user") or "pgbackrest") != main_user:
        found.append(f"pgha:standby_cluster:pgbackrest:repo_host_user: {repo.get('repo_host_user')} is not "
                     f"the main cluster's repository user ({main_user})")
    return found
