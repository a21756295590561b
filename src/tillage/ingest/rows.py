"""Row-level steps of a table mapping, before columns are parsed: fill-down, filters, countries.

* :func:`fill_down` gives detail rows their header row's fields: accounting exports such as
  freee's 取引 CSV or 弥生's 仕訳 write the header fields (date, partner, number) on the 本文
  row only and leave them empty on the 明細 rows below it.
* :func:`filter_mask` tells which rows a :class:`~tillage.ingest.mapping.RowFilter` holds for
  (``skip_if`` / ``only_if`` / ``only_where``), comparing folded text so that ``TRUE``, ``true``
  and ``ｔｒｕｅ`` are one value.
* :func:`country_code` turns country names into ISO 3166-1 alpha-2 codes with pycountry (names,
  official names, common names, alpha-3 codes, historic names such as 'Czech Republic'), CLDR's
  English and Japanese territory names, and the mapping's own local names.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import pandas as pd
import pycountry
from babel import Locale

from tillage.ingest.mapping import RowFilter
from tillage.ingest.values import as_text, fold, fold_series


def fill_down(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with the empty cells of ``columns`` taking the value above (absent ones kept)."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    frame = frame.copy()
    for column in present:
        frame[column] = frame[column].astype(object).where(as_text(frame[column]).notna()).ffill()
    return frame


def filter_mask(frame: pd.DataFrame, condition: RowFilter) -> pd.Series | None:
    """Rows of ``frame`` the filter holds for; ``None`` when the file lacks its column."""
    if condition.column not in frame.columns:
        return None
    folded = fold_series(frame[condition.column])
    mask = pd.Series(False, index=frame.index)
    if condition.equals is not None:
        mask |= folded.isin([fold(v) for v in condition.equals]).fillna(False).astype(bool)
    if condition.startswith is not None:
        starts = folded.str.startswith(fold(condition.startswith))
        mask |= starts.fillna(False).astype(bool)
    if condition.empty is not None:
        mask |= folded.isna() if condition.empty else folded.notna()
    return mask.astype(bool)


@lru_cache(maxsize=1)
def _known_countries() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name", "alpha_3", "alpha_2"):
            value = getattr(country, attribute, None)
            if value:
                names[fold(value)] = country.alpha_2
    for country in pycountry.historic_countries:  # 'Czech Republic' before Czechia, 'Zaire' …
        code = getattr(country, "alpha_2", None)
        if code and pycountry.countries.get(alpha_2=code) is not None:
            names.setdefault(fold(country.name), code)
    for lang in ("en", "ja"):
        for code, name in Locale.parse(lang).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(fold(name), code)
    names.update(
        {
            fold(alias): code
            for alias, code in {
                "Czech Republic": "CZ",
                "USA": "US",
                "UK": "GB",
                "Great Britain": "GB",
                "England": "GB",
                "Eire": "IE",
                "RSA": "ZA",
                "Korea": "KR",
                "South Korea": "KR",
                "Russia": "RU",
                "日本国": "JP",
                "米国": "US",
                "韓国": "KR",
                "中国": "CN",
                "台湾": "TW",
                "英国": "GB",
            }.items()
        }
    )
    return names


def country_code(series: pd.Series, local: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """ISO codes for country names; returns (codes, mask of names not recognised).

    ``local`` (the mapping's ``countries``) comes first, so a data set can say what its own
    names mean ('European Community' is no country: map it to a code or leave it unknown).
    """
    names = {**_known_countries(), **{fold(k): v.upper() for k, v in local.items()}}
    folded = fold_series(series)
    codes = folded.map(names, na_action="ignore").astype("string")
    unknown = (folded.notna() & codes.isna()).astype(bool)
    return codes, unknown
