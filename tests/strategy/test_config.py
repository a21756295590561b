"""The strategy file: documented, round-trips, and refuses bad values naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tillage.cli import strategy as strategy_cli
from tillage.errors import ConfigurationError
from tillage.strategy.config import (
    Strategy,
    load_strategy,
    loads_strategy,
)
from tillage.strategy.config_text import default_strategy_toml, iter_fields

DOCS = Path(__file__).resolve().parents[2] / "docs" / "strategy.md"


def test_every_field_is_documented_with_default_and_unit() -> None:
    fields = iter_fields()
    undocumented = [name for name, desc in fields if not desc]
    assert undocumented == []
    # leaves (not sections) state their default
    sections = {
        "portfolio",
        "priority",
        "priority.weights",
        "capacity",
        "key_person",
        "kpi",
        "effects",
        "playbooks",
    }
    no_default = [
        name
        for name, desc in fields
        if name not in sections and "default" not in desc and "required" not in desc
    ]
    assert no_default == []
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name, _ in fields if f"`{name}`" not in text]
    assert missing == [], f"docs/strategy.md lacks {missing}"


def test_default_file_round_trips() -> None:
    text = default_strategy_toml()
    assert loads_strategy(text) == Strategy()
    assert "# Annual discount rate" in text


def test_empty_file_is_the_default_and_partial_files_override() -> None:
    assert loads_strategy("") == Strategy()
    strategy = loads_strategy("discount_rate = 0.08\n[priority.weights]\nrenewal = 5\n")
    assert strategy.discount_rate == 0.08
    assert strategy.priority.weights.renewal == 5
    assert strategy.priority.weights.value == Strategy().priority.weights.value


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("discount_rate = 1.5", "discount_rate"),
        ("currency = 'XXY'", "currency"),
        ("[priority.weights]\nvalu = 1", "priority.weights.valu"),
        ("[margin_by_family]\nsoftware = 0.8", "margin_by_family"),
        ("[[playbooks]]\naction = 'call'\nsituation = 'sometimes'\nhours = 1\neffect = 0.1",
         "playbooks.0.situation"),
        ("[[playbooks]]\naction = 'a'\nsituation = 'always'\nhours = 1\neffect = 0.1\n"
         "[[playbooks]]\naction = 'a'\nsituation = 'always'\nhours = 2\neffect = 0.1",
         "unique"),
        ("discount_rate = ", "not valid TOML"),
    ],
)  # fmt: skip
def test_bad_values_name_the_field(text: str, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        loads_strategy(text, source="s.toml")


def test_errors_list_each_field_with_its_reason() -> None:
    with pytest.raises(ConfigurationError) as caught:
        loads_strategy("discount_rate = 1.5\n[portfolio]\nvalue_quantile = 'high'\n")
    fields = dict(caught.value.fields)
    assert set(fields) == {"discount_rate", "portfolio.value_quantile"}
    assert "less than 1" in fields["discount_rate"]


def test_margin_falls_back_to_default() -> None:
    strategy = loads_strategy("[margin_by_family]\ndefault = 0.6\nhardware = 0.3\n")
    assert strategy.margin("hardware") == 0.3
    assert strategy.margin("services") == 0.6
    assert strategy.margin(None) == 0.6


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(strategy_cli.app, name="strategy")
    return app


def test_cli_init_then_validate(tmp_path: Path) -> None:
    path = tmp_path / "strategy.toml"
    runner = CliRunner()
    result = runner.invoke(_app(), ["strategy", "init", str(path)])
    assert result.exit_code == 0, result.output
    assert load_strategy(path) == Strategy()
    result = runner.invoke(_app(), ["strategy", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    again = runner.invoke(_app(), ["strategy", "init", str(path)])
    assert isinstance(again.exception, ConfigurationError)
    path.write_text("horizon_months = -1\n", encoding="utf-8")
    bad = runner.invoke(_app(), ["strategy", "validate", str(path)])
    assert isinstance(bad.exception, ConfigurationError)
    assert "horizon_months" in str(bad.exception)
