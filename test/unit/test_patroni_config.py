"""The one reader of this node's Patroni configuration (_utils/pgha_patroni_config.py) that
pgha_patroni, pgha_upgrade and pgha_etcd share: the path (the minion option, pgha's
paths:patroni_config, the default), the file's contents, the errors; and the one guard of the
functions that remove or promote a cluster (its name, to confirm)."""
from unittest.mock import MagicMock

import pgha_patroni_config
import pytest
from salt.exceptions import CommandExecutionError


def _salt(option="", settings=None):
    """__salt__ with the minion option and pgha_settings.render (a dict, an exception, or
    None: not loaded)."""
    funcs = {"config.option": MagicMock(return_value=option)}
    if isinstance(settings, Exception):
        funcs["pgha_settings.render"] = MagicMock(side_effect=settings)
    elif settings is not None:
        funcs["pgha_settings.render"] = MagicMock(return_value={"pgha": {"paths": {"patroni_config": settings}}})
    return funcs


def test_path_is_the_minion_option_first():
    salt = _salt("/srv/patroni.yml", "/etc/patroni/patroni.yml")
    assert pgha_patroni_config.path(salt, {}) == "/srv/patroni.yml"
    salt["config.option"].assert_called_once_with("pgha_patroni.config")
    salt["pgha_settings.render"].assert_not_called()


def test_path_is_then_pgha_settings_once_a_run():
    salt, context = _salt(settings="/etc/patroni/patroni.yml"), {}     # RHEL's
    assert pgha_patroni_config.path(salt, context) == "/etc/patroni/patroni.yml"
    assert pgha_patroni_config.path(salt, context) == "/etc/patroni/patroni.yml"
    salt["pgha_settings.render"].assert_called_once_with("pgha")


@pytest.mark.parametrize("settings", [None, CommandExecutionError("pgha:roles: must be a list"), ""],
                         ids=["not-loaded", "refused-pillar", "empty"])
def test_path_is_else_the_default(settings):
    assert pgha_patroni_config.path(_salt(settings=settings), {}) == "/etc/patroni/config.yml"


def test_read_parses_the_file(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("scope: main\nname: pg1\n")
    assert pgha_patroni_config.read(str(config)) == {"scope": "main", "name": "pg1"}
    config.write_text("")
    assert pgha_patroni_config.read(str(config)) == {}


def test_a_missing_file_raises_naming_it_unless_it_may_be_missing(tmp_path):
    missing = str(tmp_path / "missing.yml")
    with pytest.raises(CommandExecutionError, match=f"cannot read Patroni config {missing}: .*No such file"):
        pgha_patroni_config.read(missing)
    assert pgha_patroni_config.read(missing, required=False) == {}


def test_require_confirm_gives_the_cluster_name_when_it_was_named():
    assert pgha_patroni_config.require_confirm({"scope": "main"}, "main", "promote") == "main"


@pytest.mark.parametrize("config, confirm, given", [
    ({"scope": "main"}, "other", "'other'"),
    ({"scope": "main"}, None, "None"),
    ({"scope": "main"}, "Main", "'Main'"),             # exactly the name: etcd's keys are case-sensitive
], ids=["other", "none", "case"])
def test_require_confirm_names_the_action_the_cluster_and_what_was_given(config, confirm, given):
    with pytest.raises(CommandExecutionError) as exc:
        pgha_patroni_config.require_confirm(config, confirm, "dcs_reset")
    assert str(exc.value) == ("dcs_reset refused: it must be confirmed with this node's cluster name 'main', "
                              f"got {given}")


def test_require_confirm_without_a_cluster_here_confirms_nothing():
    with pytest.raises(CommandExecutionError, match="remove_cluster refused: .* cluster name None, got None"):
        pgha_patroni_config.require_confirm({}, None, "remove_cluster")


def test_remove_from_dcs_answers_patronictl_on_stdin():
    run_all = MagicMock(return_value={"retcode": 0, "stdout": "", "stderr": ""})
    pgha_patroni_config.remove_from_dcs(run_all, "patronictl", "/etc/patroni/config.yml", "main", leader="pg1")
    run_all.assert_called_once_with(["patronictl", "-c", "/etc/patroni/config.yml", "remove", "main"],
                                    stdin="main\nYes I am aware\npg1\n", python_shell=False, ignore_retcode=True)
    pgha_patroni_config.remove_from_dcs(run_all, "patronictl", "/etc/patroni/config.yml", "main")
    assert run_all.call_args[1]["stdin"] == "main\nYes I am aware\n"      # no leader key left: no third answer


def test_remove_from_dcs_failure_quotes_patronictl():
    run_all = MagicMock(return_value={"retcode": 1, "stdout": "", "stderr": "Cluster names specified do not match"})
    with pytest.raises(CommandExecutionError, match="patronictl remove main failed: Cluster names specified do not"):
        pgha_patroni_config.remove_from_dcs(run_all, "patronictl", "/etc/patroni/config.yml", "main")
