"""Amounts, dates and yes/no cells as Japanese and English spreadsheets write them."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.ingest.values import as_text, parse_bool, parse_datetime, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12000", 12000.0),
        ("12,000", 12000.0),
        ("¥12,000", 12000.0),
        ("￥12,000", 12000.0),
        ("１２，０００円", 12000.0),
        ("12,000 JPY", 12000.0),
        ("$1,234.50", 1234.5),
        ("△500", -500.0),
        ("▲1,500", -1500.0),
        ("(500)", -500.0),
        ("-3", -3.0),
        ("1.5e3", 1500.0),
    ],
)
def test_amounts(text: str, expected: float) -> None:
    values, bad = parse_number(pd.Series([text]))
    assert values.iloc[0] == expected
    assert not bad.iloc[0]


def test_blank_is_missing_and_garbage_is_flagged() -> None:
    values, bad = parse_number(pd.Series(["", None, "abc", "12"]))
    assert values.isna().tolist() == [True, True, True, False]
    assert bad.tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-04-01", "2024-04-01 00:00"),
        ("2024/4/1", "2024-04-01 00:00"),
        ("2024/04/01 08:30", "2024-04-01 08:30"),
        ("2024年4月1日", "2024-04-01 00:00"),
        ("２０２４年４月１日", "2024-04-01 00:00"),
        ("令和6年4月1日", "2024-04-01 00:00"),
        ("R6.4.1", "2024-04-01 00:00"),
        ("平成元年1月8日", "1989-01-08 00:00"),
        ("2024/4/1(月)", "2024-04-01 00:00"),
        # 23:00 UTC on 31 March is 08:00 on 1 April in Tokyo
        ("2024-03-31T23:00:00.000Z", "2024-04-01 08:00"),
        ("2024-04-01T08:00:00+09:00", "2024-04-01 08:00"),
    ],
)
def test_dates(text: str, expected: str) -> None:
    values, bad = parse_datetime(pd.Series([text]), "Asia/Tokyo")
    assert values.iloc[0] == pd.Timestamp(expected)
    assert not bad.iloc[0]


def test_explicit_date_format_and_bad_dates() -> None:
    values, bad = parse_datetime(pd.Series(["01/04/2024", "31/02/2024", ""]), "UTC", fmt="%d/%m/%Y")
    assert values.iloc[0] == pd.Timestamp("2024-04-01")
    assert bad.tolist() == [False, True, False]


def test_booleans() -> None:
    values, bad = parse_bool(pd.Series(["true", "FALSE", "1", "はい", "×", "maybe", ""]))
    assert values.tolist()[:5] == [True, False, True, True, False]
    assert bad.tolist() == [False, False, False, False, False, True, False]


def test_float_ids_lose_their_decimal_point() -> None:
    assert as_text(pd.Series([13085.0, None])).tolist() == ["13085", pd.NA]


def test_percentages_and_naive_times_in_a_source_zone() -> None:
    values, bad = parse_number(pd.Series(["20%", "0.2", "１５％"]))
    assert values.tolist() == pytest.approx([0.2, 0.2, 0.15]) and not bad.any()
    stamps = pd.Series(["2024-05-01 16:00:00", "2024-05-01T16:00:00Z", "2024-10-01T01:00:00+0000",
                        "2024-03-29"])  # fmt: skip
    parsed, bad = parse_datetime(stamps, "Asia/Tokyo", source_timezone="UTC")
    assert parsed.tolist() == [
        pd.Timestamp("2024-05-02 01:00"),
        pd.Timestamp("2024-05-02 01:00"),
        pd.Timestamp("2024-10-01 10:00"),
        pd.Timestamp("2024-03-29"),  # a date alone is never shifted
    ]
