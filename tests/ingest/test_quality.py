"""The data-quality note: what the stored data cannot support, said after every import."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tillage.i18n import gettext_for
from tillage.ingest import import_path
from tillage.ingest.quality import data_quality, quality_notes

FIXTURES = Path(__file__).parent / "fixtures" / "generic"
EVERYTHING = {
    "accounts": 10,
    "owned": 10,
    "costed": 10,
    "contracts": 5,
    "orders": 40,
    "margins": 40,
    "opportunities": 8,
    "activities": 30,
    "tickets": 3,
    "nps": 4,
    "usage": 100,
}


def _codes(counts: dict[str, int]) -> list[str]:
    return [n.code for n in quality_notes(counts, gettext_for("en"))]


def test_complete_data_has_no_note() -> None:
    assert _codes(EVERYTHING) == []


def test_an_empty_store_says_nothing_can_be_scored() -> None:
    assert _codes(dict.fromkeys(EVERYTHING, 0)) == ["no_accounts"]


@pytest.mark.parametrize(
    ("changes", "code", "effect", "missing", "total"),
    [
        ({"contracts": 0}, "no_contracts", "blank", 10, 10),
        ({"orders": 0, "margins": 0}, "no_orders", "blank", 10, 10),
        ({"margins": 0}, "no_margins", "assumed", 40, 40),
        ({"margins": 30}, "some_margins", "assumed", 10, 40),
        ({"owned": 0}, "no_owners", "blank", 10, 10),
        ({"owned": 7}, "some_owners", "blank", 3, 10),
        ({"activities": 0}, "no_activities", "blank", 10, 10),
        ({"opportunities": 0}, "no_opportunities", "blank", 10, 10),
        ({"costed": 0}, "no_acquisition_costs", "blank", 10, 10),
        ({"nps": 0}, "no_nps", "blank", 10, 10),
    ],
)
def test_each_gap_gives_its_note(
    changes: dict[str, int], code: str, effect: str, missing: int, total: int
) -> None:
    (note,) = quality_notes({**EVERYTHING, **changes}, gettext_for("en"))
    assert (note.code, note.effect, note.missing, note.total) == (code, effect, missing, total)


def test_partial_owners_are_counted_in_the_message() -> None:
    (note,) = quality_notes({**EVERYTHING, "accounts": 2500, "owned": 1300}, gettext_for("en"))
    assert note.message == "1,200 of 2,500 accounts have no owner: they get no account plan."


def test_notes_are_in_japanese() -> None:
    notes = quality_notes({**EVERYTHING, "contracts": 0, "margins": 0}, gettext_for("ja"))
    assert [n.code for n in notes] == ["no_contracts", "no_margins"]
    assert all("No " not in n.message for n in notes)
    assert "契約" in notes[0].message


def test_every_import_carries_the_note_of_the_store(engine: Engine, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(FIXTURES, tmp_path / "export"))
    result = import_path(
        engine,
        folder,
        mapping=folder / "mapping.toml",
        as_of=dt.date(2024, 12, 31),
        imported_at=dt.datetime(2025, 1, 6),
    )
    expected = [
        "no_contracts",
        "no_margins",
        "no_activities",
        "no_opportunities",
        "no_acquisition_costs",
        "no_tickets",
        "no_nps",
        "no_usage",
    ]
    assert [n.code for n in result.quality] == expected
    with engine.connect() as connection:
        assert data_quality(connection, gettext_for("en")) == result.quality
