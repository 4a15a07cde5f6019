"""docs/autobase-mapping.md's generated section (_utils/pgha_autobase.py): current, complete
(every variable of autobase's defaults file, mapped or with a reason) and naming only keys the
settings model has."""
from pathlib import Path

import pgha_autobase
import pgha_model

DOC = Path(__file__).resolve().parents[2] / "docs" / "autobase-mapping.md"


def test_the_generated_mapping_is_current():
    text = DOC.read_text()
    assert pgha_autobase.render(text) == text, "run: .venv/bin/python _utils/pgha_autobase.py --write"


def test_every_autobase_variable_is_mapped_or_has_a_reason():
    mapping = pgha_autobase.mapping()
    assert list(mapping) == list(pgha_autobase.VARIABLES)
    assert len(pgha_autobase.VARIABLES) == len(set(pgha_autobase.VARIABLES)) >= 300
    assert [v for v, (keys, reason) in mapping.items() if not keys and not reason] == []


def test_every_key_it_names_exists_in_the_model():
    named = {key for keys, _ in pgha_autobase.mapping().values() for key in keys}
    assert sorted(named - set(pgha_model.KEYS)) == []


def test_a_key_added_to_the_model_appears_without_editing_the_table(monkeypatch):
    monkeypatch.setitem(pgha_model.KEYS, "proxy_env", pgha_model.Map(autobase="consul_ui"))
    model = pgha_autobase._sibling("pgha_model")
    monkeypatch.setitem(model.KEYS, "proxy_env", model.Map(autobase="consul_ui"))
    assert pgha_autobase.mapping()["consul_ui"] == (["proxy_env"], "")
