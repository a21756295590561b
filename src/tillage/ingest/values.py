"""Vectorised parsing of the values people type into spreadsheets.

Each parser takes a column as read (strings, or native types from Parquet/Excel) and returns the
parsed column and a boolean mask of the cells that are present but could not be parsed, so the
caller can report them. Handled:

* numbers and amounts: full-width digits (``１２，０００円``), thousands separators (``12,000``),
  currency signs and words (``¥12,000``, ``12,000円``, ``JPY``), negatives written ``△500``,
  ``▲500`` or ``(500)`` as accountants do;
* dates: ISO (``2024-04-01``, ``2024-04-01T08:00:00Z``), slashes (``2024/4/1``), Japanese
  (``2024年4月1日``) and Japanese era dates (``令和6年4月1日``, ``R6.4.1``, ``平成31年4月30日``);
  values with a UTC offset are converted to naive business-local time;
* booleans: true/false, 1/0, yes/no, はい/いいえ, ○/×.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from tillage.store.timezone import to_business_local

# First year of each era minus one: 令和1 = 2019, 平成1 = 1989, 昭和1 = 1926, 大正1 = 1912.
_ERAS = {
    "令和": 2018,
    "R": 2018,
    "平成": 1988,
    "H": 1988,
    "昭和": 1925,
    "S": 1925,
    "大正": 1911,
    "T": 1911,
}
_ERA_RE = re.compile(r"^(令和|平成|昭和|大正|[RHST])\s*(元|\d{1,2})\s*[年./-]\s*")
_OFFSET_RE = r"(?:[+-]\d{2}:?\d{2}|Z)$"
_NEGATIVE_RE = r"^(?:[△▲]|\(.*\)$|-)|-$"
_NUMBER_NOISE_RE = r"[,\s¥$€£円()△▲+]|JPY|USD|EUR|GBP|-$"
_TRUE = {"true", "t", "1", "yes", "y", "はい", "○", "〇", "済", "x", "on"}
_FALSE = {"false", "f", "0", "no", "n", "いいえ", "×", "未", "off"}


def _blank(series: pd.Series) -> pd.Series:
    if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        text = series.astype("string")
        return (text.isna() | (text.str.strip() == "")).astype(bool)
    return series.isna().astype(bool)


def fold(text: str) -> str:
    """``text`` for loose matching: NFKC (full width → half width), case folded, without
    spaces, ``_`` and ``-``: 'Closed won', 'closedwon' and 'ＣＬＯＳＥＤ　ＷＯＮ' all give
    'closedwon'."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text)).casefold()


def fold_series(series: pd.Series) -> pd.Series:
    """:func:`fold` over the cells of a text column (``<NA>`` stays)."""
    text = as_text(series)
    return text.str.normalize("NFKC").str.replace(r"[\s_\-]+", "", regex=True).str.casefold()


def as_text(series: pd.Series) -> pd.Series:
    """Cells as stripped strings (``<NA>`` for blanks); whole floats lose their ``.0``.

    Parquet and Excel give numeric ids (``Customer ID`` 13085.0) as floats; a natural key must
    read ``13085`` whatever the file type.
    """
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float)
        finite = np.isfinite(values)
        if finite.any() and np.all(values[finite] == np.round(values[finite])):
            series = series.astype("Int64")
    text = series.astype("string").str.strip()
    return text.mask(text == "")


def parse_number(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse amounts and quantities; returns (float values, unparseable mask)."""
    blank = _blank(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype(float)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype(float), pd.Series(False, index=series.index)
    text = series.astype("string")
    values = pd.to_numeric(text, errors="coerce").astype(float)
    need = values.isna() & ~blank
    if need.any():
        t = text[need].str.normalize("NFKC").str.strip()
        percent = t.str.endswith("%").fillna(False).astype(bool)
        t = t.str.removesuffix("%").str.strip()
        negative = t.str.contains(_NEGATIVE_RE, regex=True).fillna(False).astype(bool)
        cleaned = t.str.replace(_NUMBER_NOISE_RE, "", regex=True).str.lstrip("-")
        parsed = pd.to_numeric(cleaned, errors="coerce").astype(float)
        parsed = parsed.where(~negative, -parsed.abs())
        values[need] = parsed.where(~percent, parsed / 100)
    bad = values.isna() & ~blank
    return values, bad


def _era_to_western(text: pd.Series) -> pd.Series:
    def convert(value: str) -> str:
        match = _ERA_RE.match(value)
        if not match:
            return value
        year = 1 if match.group(2) == "元" else int(match.group(2))
        return f"{_ERAS[match.group(1)] + year}-{value[match.end() :]}"

    return text.map(convert, na_action="ignore")


def _normalise_date_text(text: pd.Series) -> pd.Series:
    t = text.str.normalize("NFKC").str.strip()
    if (
        t.str.contains(r"^(?:令和|平成|昭和|大正|[RHST]\s*(?:元|\d))", regex=True)
        .fillna(False)
        .any()
    ):
        t = _era_to_western(t)
    t = t.str.replace(r"\s*\(.\)\s*", " ", regex=True)  # weekday in brackets: 2024/4/1(月)
    t = t.str.replace(r"(\d)\s*[年月]\s*", r"\1-", regex=True)
    t = t.str.replace(r"(\d)\s*日", r"\1", regex=True)
    t = t.str.replace(r"(\d)\s*時\s*(\d+)\s*分", r"\1:\2", regex=True)
    t = t.str.replace(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", r"\1-\2-\3", regex=True)
    return t


def parse_datetime(
    series: pd.Series,
    timezone: str,
    *,
    fmt: str | None = None,
    source_timezone: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Parse dates/times to naive business-local datetimes; returns (values, unparseable mask).

    ``fmt`` is a ``strftime`` format tried first (e.g. ``%d/%m/%Y`` for day-first exports).
    Values with an offset (``Z``, ``+09:00``, ``+0000``) are converted to ``timezone``; values
    with a time and no offset are read in ``source_timezone`` (default ``timezone``) and
    converted; dates without a time are kept as written.
    """
    blank = _blank(series)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = to_business_local(series, timezone).astype("datetime64[ns]")
        return values, pd.Series(False, index=series.index)
    text = series.astype("string").str.strip().mask(blank)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    todo = ~blank
    if fmt is not None:
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        out[todo] = parsed
        todo = todo & out.isna()
    for candidate in (text, None):
        if not todo.any():
            break
        t = text[todo] if candidate is not None else _normalise_date_text(text[todo])
        offset = t.str.contains(_OFFSET_RE, regex=True).fillna(False).astype(bool)
        if offset.any():
            aware = pd.to_datetime(t[offset], format="ISO8601", utc=True, errors="coerce")
            out[aware.index] = aware.dt.tz_convert(timezone).dt.tz_localize(None)
        naive = t[~offset]
        if len(naive):
            parsed = pd.to_datetime(naive, format="ISO8601", errors="coerce")
            retry = parsed.isna()
            if retry.any() and candidate is None:
                parsed[retry] = pd.to_datetime(naive[retry], format="mixed", errors="coerce")
            out[parsed.index] = parsed
        todo = todo & out.isna()
    if source_timezone is not None and source_timezone != timezone:
        has_time = text.str.contains(r"\d:\d\d", regex=True).fillna(False).astype(bool)
        naive = has_time & ~text.str.contains(_OFFSET_RE, regex=True).fillna(False).astype(bool)
        naive &= out.notna()
        if naive.any():
            moved = out[naive].dt.tz_localize(source_timezone).dt.tz_convert(timezone)
            out[naive] = moved.dt.tz_localize(None)
    bad = out.isna() & ~blank
    return out, bad


def parse_bool(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse yes/no cells; returns (nullable boolean values, unparseable mask)."""
    blank = _blank(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean"), pd.Series(False, index=series.index)
    text = series.astype("string").str.normalize("NFKC").str.strip().str.lower()
    text = text.str.replace(r"\.0$", "", regex=True)
    values = pd.Series(pd.NA, index=series.index, dtype="boolean")
    values[text.isin(_TRUE).fillna(False).astype(bool)] = True
    values[text.isin(_FALSE).fillna(False).astype(bool)] = False
    bad = values.isna() & ~blank
    return values, bad
