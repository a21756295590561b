"""Settings: defaults, environment overrides, and refusals that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tillage.config import Settings, get_settings


def test_defaults_are_the_embedded_store_in_jst_yen_japanese(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'tillage.db').resolve()}"
    assert (settings.timezone, settings.currency, settings.language) == ("Asia/Tokyo", "JPY", "ja")
    assert settings.zone.key == "Asia/Tokyo"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILLAGE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("TILLAGE_LANGUAGE", "en")
    monkeypatch.setenv("TILLAGE_CURRENCY", "usd")
    settings = Settings(_env_file=None)
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert settings.language == "en"
    assert settings.currency == "USD"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "IANA"),
        ("currency", "yen", "ISO 4217"),
        ("language", "fr", "'ja' or 'en'"),
    ],
)
def test_invalid_values_are_refused_with_a_hint(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{field: value}, _env_file=None)


def test_get_settings_is_cached() -> None:
    assert get_settings() is get_settings()


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_the_demo_store_recorded_as_the_default_is_found(tmp_path: Path) -> None:
    """After `tillage demo` records its store, commands without a setting read it."""
    settings = Settings(data_dir=tmp_path, _env_file=None)
    own = f"sqlite:///{(tmp_path / 'tillage.db').resolve()}"
    assert settings.resolved_database_url == own and settings.records_default_store()
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "secret_key").write_text("k" * 43 + "\n")
    (tmp_path / "default_store").write_text("sqlite:////somewhere/demo.db\n")
    assert settings.resolved_database_url == "sqlite:////somewhere/demo.db"
    assert settings.require_secret_key() == "k" * 43
    configured = Settings(data_dir=tmp_path, database_url="sqlite:////x.db", _env_file=None)
    assert configured.resolved_database_url == "sqlite:////x.db"
    assert not configured.records_default_store()
    (tmp_path / "tillage.db").write_bytes(b"")  # a store of one's own wins over the record
    assert settings.resolved_database_url == own and not settings.records_default_store()
