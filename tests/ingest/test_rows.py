"""Row steps of a mapping: fill-down, filters, country names."""

from __future__ import annotations

import pandas as pd

from tillage.ingest.mapping import RowFilter
from tillage.ingest.rows import country_code, fill_down, filter_mask


def test_fill_down_gives_detail_rows_their_header_fields() -> None:
    frame = pd.DataFrame(
        {"番号": ["A-1", None, " ", "A-2"], "金額": ["100", "50", "25", "70"]}, dtype=object
    )
    filled = fill_down(frame, ["番号", "not in the file"])
    assert filled["番号"].tolist() == ["A-1", "A-1", "A-1", "A-2"]
    assert filled["金額"].tolist() == frame["金額"].tolist()


def test_filters_fold_case_and_width() -> None:
    frame = pd.DataFrame({"IsDeleted": ["true", "TRUE", "ｔｒｕｅ", "false", None]})
    deleted = filter_mask(frame, RowFilter(column="IsDeleted", equals=["true"]))
    assert deleted is not None and deleted.tolist() == [True, True, True, False, False]
    empty = filter_mask(frame, RowFilter(column="IsDeleted", empty=True))
    assert empty is not None and empty.tolist() == [False, False, False, False, True]
    assert filter_mask(frame, RowFilter(column="Missing", equals=["x"])) is None


def test_country_names_through_pycountry_and_the_mapping() -> None:
    names = pd.Series(
        ["Czech Republic", "Czechia", "日本", "JPN", "united states", "European Community", None]
    )
    codes, unknown = country_code(names, {"European Community": "eu"})
    assert codes.tolist()[:6] == ["CZ", "CZ", "JP", "JP", "US", "EU"]
    assert pd.isna(codes.iloc[6]) and not unknown.any()
    codes, unknown = country_code(pd.Series(["Atlantis", "Deutschland"]), {})
    assert unknown.tolist() == [True, True] and codes.isna().all()
