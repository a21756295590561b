"""`tillage override`: the list names a pinned cell in the chosen language, never by its code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import get_settings
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

from ..kpi import handmade


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, handmade.tables())
    engine.dispose()
    monkeypatch.setenv("TILLAGE_DATABASE_URL", url)
    get_settings.cache_clear()  # the settings are read once per process
    yield url
    get_settings.cache_clear()


@pytest.mark.parametrize(("lang", "word"), [("ja", "育成"), ("en", "nurture")])
def test_the_override_list_names_the_cell(store: str, lang: str, word: str) -> None:
    account = str(handmade.tables()["accounts"]["key"].iloc[0])
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    args = ["--lang", lang, "override", "set", account, "--cell", "nurture"]
    made = CliRunner().invoke(app, [*args, "--reason", "trial", "--until", until])
    assert made.exit_code == 0, made.output
    listed = CliRunner().invoke(app, ["--lang", lang, "override", "list"])
    assert listed.exit_code == 0, listed.output
    assert word in listed.output
    if lang == "ja":
        assert "nurture" not in listed.output
