"""
This node's Patroni configuration file as pgha's execution modules read it (pgha_patroni,
pgha_upgrade, pgha_etcd): where it is, its parsed contents, the confirmation that the
functions that remove or promote a cluster ask for (its name, Patroni's ``scope``), and
``patronictl remove`` with that file. One source of truth: the file pgha.patroni rendered.
Synced with ``saltutil.sync_utils``.
"""
import salt.utils.files
import salt.utils.yaml
from salt.exceptions import CommandExecutionError, SaltException

DEFAULT_PATH = "/etc/patroni/config.yml"      # where pgha's settings cannot be had
OPTION = "pgha_patroni.config"                # the minion option that names another file
CONTEXT_KEY = "pgha_patroni_config.settings_path"


def _settings_path(salt, context):
    """pgha's ``paths:patroni_config`` on this node (Debian's /etc/patroni/config.yml, RHEL's
    /etc/patroni/patroni.yml, or pillar's), once per run; '' when the settings cannot be had
    (not synced, or a pillar the validator refuses: the Patroni functions still work then)."""
    if CONTEXT_KEY not in context:
        found = ""
        if "pgha_settings.render" in salt:
            try:
                found = str(salt["pgha_settings.render"]("pgha")["pgha"]["paths"]["patroni_config"] or "")
            except (SaltException, KeyError, TypeError, ValueError):
                found = ""
        context[CONTEXT_KEY] = found
    return context[CONTEXT_KEY]


def path(salt, context):
    """The file: the minion option ``pgha_patroni.config``, else the path pgha's settings give
    it (the file pgha.patroni writes), else ``DEFAULT_PATH``. ``salt`` and ``context`` are the
    calling module's ``__salt__`` and ``__context__``."""
    return salt["config.option"](OPTION) or _settings_path(salt, context) or DEFAULT_PATH


def read(config_path, required=True):
    """
    The file's contents ({} for an empty one). A file that cannot be read raises
    CommandExecutionError naming it; with ``required=False`` it reads as {}: no cluster on this
    node yet (pgha_upgrade's version gate lets a first highstate through).
    """
    try:
        with salt.utils.files.fopen(config_path) as handle:
            return salt.utils.yaml.safe_load(handle) or {}
    except OSError as exc:
        if not required:
            return {}
        raise CommandExecutionError(f"cannot read Patroni config {config_path}: {exc}") from exc


def require_confirm(config, confirm, action):
    """
    This node's cluster name (``scope`` of ``config``) when ``confirm`` is that name; else
    CommandExecutionError naming the action, the cluster and what was given. An action that
    removes or promotes a cluster runs only on the cluster it was told, by name, to act on
    (a node whose configuration names no cluster confirms nothing).
    """
    scope = config.get("scope")
    if not scope or confirm != scope:
        raise CommandExecutionError(f"{action} refused: it must be confirmed with this node's cluster name "
                                    f"{scope!r}, got {confirm!r}")
    return scope


def remove_from_dcs(run_all, patronictl, config_path, scope, leader=None):
    """
    ``patronictl -c <config_path> remove <scope>``: the cluster leaves the DCS (leader,
    members, configuration, initialize key). patronictl asks on stdin for the cluster's name,
    a sentence, then the leader's name while a leader key is left (``leader``; None: no
    answer). ``run_all`` is Salt's ``cmd.run_all``; a failure raises CommandExecutionError
    with patronictl's last words.
    """
    answers = f"{scope}\nYes I am aware\n" + ("" if leader is None else f"{leader}\n")
    res = run_all([patronictl, "-c", config_path, "remove", scope], stdin=answers,
                  python_shell=False, ignore_retcode=True)
    if res["retcode"] != 0:
        raise CommandExecutionError(f"patronictl remove {scope} failed: {(res['stderr'] or res['stdout'])[-1000:]}")
