"""What the Salesforce and HubSpot export writers share: the result record, CSV writing and the
formatting of ids, numbers, text, names and countries as CRM exports write them."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from babel import Locale

_CJK = r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"


@dataclass
class Export:
    """Files written and the record id each canonical key got (``keys[table][key] -> id``)."""

    directory: Path
    files: list[Path] = field(default_factory=list)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)


def referenced_ids(ids: dict[int, str], column: pd.Series) -> pd.Series:
    """Surrogate ids of a referenced table as the export's record ids ('' when empty)."""
    return column.map(lambda v: "" if pd.isna(v) else ids[int(v)]).astype(object)


def export_numbers(values: pd.Series) -> pd.Series:
    """Numbers as an export writes them: whole numbers without '.0', blanks empty."""

    def fmt(v: object) -> str:
        if v is None or pd.isna(v):  # type: ignore[call-overload]
            return ""
        f = float(v)  # type: ignore[arg-type]
        return str(int(f)) if f == int(f) else repr(f)

    return values.map(fmt).astype(object)


def export_text(values: pd.Series) -> pd.Series:
    """Text as an export writes it: blanks empty."""
    return values.astype(object).where(values.notna(), "")


def split_name(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(first names, last names) of 'Family Given' (Japanese) or 'Given Family' names."""
    text = names.astype("string").fillna("")
    head = text.str.split(" ", n=1).str[0]
    rest = text.str.split(" ", n=1).str[1].fillna("")
    japanese = text.str.contains(_CJK, regex=True).fillna(False).astype(bool)
    first = rest.where(japanese, head)
    last = head.where(japanese, rest)
    return first.astype(object), last.astype(object)


def country_names() -> dict[str, str]:
    """English country names by ISO 3166 code, as the CRMs write them (``JP`` -> ``Japan``)."""
    return dict(Locale.parse("en").territories)


def write_csv(
    frame: pd.DataFrame, path: Path, *, quote_all: bool, encoding: str, out: Export
) -> None:
    """Write ``frame`` as CSV, every value quoted with CRLF line ends (Salesforce) or quoted
    only where needed with LF (HubSpot), and record the file in ``out``."""
    frame.to_csv(
        path,
        index=False,
        encoding=encoding,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator="\r\n" if quote_all else "\n",
    )
    out.files.append(path)
