"""The KPI "contact within cadence" on the hand-made store: the kind of contact, the window's
boundary (the first of the every_days days counts, the day before does not), activities after
the period, and the rep cut; blank without a cadence."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.kpi import compute_kpis, kpi_backend, parse_period
from tillage.kpi.cadence import account_cadence
from tillage.kpi.compute import REGISTRY, blank_reasons
from tillage.strategy.config import loads_strategy


def _value(frame: pd.DataFrame, cut: str, value: str) -> float:
    row = frame[(frame.cut == cut) & (frame.cut_value == value)]
    return float(row["value"].iloc[0])


def _cadence(rows: list[tuple[int, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "activity", "every_days"])


@pytest.mark.parametrize(
    ("rows", "company", "ito", "sato"),
    [
        # 1: meeting 09-15 keeps a 30-day meeting cadence; 2: a call on 08-01 is the first of
        # 61 days up to 09-30; 3: a meeting is not a visit; 4: a QBR on 07-01 is one day before
        # the 91 days; 6: its e-mail of 10-01 is after the period
        (
            [(1, "meeting", 30), (2, "any", 61), (3, "visit", 91), (4, "qbr", 91), (6, "any", 30)],
            40.0,
            100.0,
            0.0,
        ),
        # one day shorter for 2 and one longer for 4 flip both
        ([(2, "any", 60), (4, "qbr", 92)], 50.0, 0.0, 100.0),
    ],
)
def test_contact_within_cadence(
    handmade_store: tuple[str, str],
    rows: list[tuple[int, str, int]],
    company: float,
    ito: float,
    sato: float,
) -> None:
    url, engine = handmade_store
    with kpi_backend(url, engine) as con:
        frame = compute_kpis(
            con,
            parse_period("2026-Q3"),
            by=("all", "rep"),
            keys=["contact_within_cadence"],
            cadence=_cadence(rows),
        )
    assert _value(frame, "all", "all") == pytest.approx(company)
    assert _value(frame, "rep", "Ito") == pytest.approx(ito)
    assert _value(frame, "rep", "Sato") == pytest.approx(sato)


def test_blank_without_a_cadence(handmade_store: tuple[str, str]) -> None:
    url, engine = handmade_store
    with kpi_backend(url, engine) as con:
        reasons = blank_reasons(con, [REGISTRY["contact_within_cadence"]])
        frame = compute_kpis(con, parse_period("2026-Q3"), keys=["contact_within_cadence"])
    assert "run scoring" in reasons["contact_within_cadence"]
    assert frame["value"].isna().all()


def test_account_cadence_follows_the_strategy_cells() -> None:
    strategy = loads_strategy('[cadence.deepen]\nactivity = "call"\nevery_days = 14\n')
    cells = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "segment": ["deepen", "nurture", "deepen"],
            "ltv": [5.0, 9.0, 0.0],
        }
    )
    got = account_cadence(cells, strategy)
    # nurture has no cadence in this file; account 3 has no value
    assert got.to_dict("records") == [{"account_id": 1, "activity": "call", "every_days": 14}]


def test_no_account_with_a_cadence_computes_an_empty_kpi(handmade_store: tuple[str, str]) -> None:
    """No account sits in a cell with a cadence (or none has a value): the KPI is computed over
    no accounts — not a failed comparison of an empty, untyped column with a kind of contact."""
    strategy = loads_strategy('[cadence.deepen]\nactivity = "call"\nevery_days = 14\n')
    cells = pd.DataFrame({"account_id": [1], "segment": ["nurture"], "ltv": [5.0]})
    none = account_cadence(cells, strategy)
    assert none.empty and str(none["activity"].dtype) == "string"
    url, engine = handmade_store
    with kpi_backend(url, engine) as con:
        frame = compute_kpis(
            con, parse_period("2026-Q3"), keys=["contact_within_cadence"], cadence=none
        )
    assert frame["value"].isna().all()
