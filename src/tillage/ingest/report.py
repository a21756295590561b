"""The validation report: problems as a table, printed, or saved as CSV or XLSX."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tillage.errors import ConfigurationError, Problem
from tillage.i18n import gettext_for


def report_frame(problems: Sequence[Problem], lang: str = "en") -> pd.DataFrame:
    """One row per problem: severity, file, row, column, value, reason (headers in ``lang``)."""
    _ = gettext_for(lang)
    severity = {"error": _("error"), "warning": _("warning")}
    return pd.DataFrame(
        {
            _("severity"): [severity.get(p.severity, p.severity) for p in problems],
            _("file"): [p.file for p in problems],
            _("row"): pd.array([p.row for p in problems], dtype="Int64"),
            _("column"): [p.column for p in problems],
            _("value"): [None if p.value is None else str(p.value) for p in problems],
            _("reason"): [p.reason for p in problems],
        }
    )


def save_report(problems: Sequence[Problem], path: Path, lang: str = "en") -> Path:
    """Write the report as ``.csv`` (UTF-8 with BOM, so Excel opens it) or ``.xlsx``."""
    frame = report_frame(problems, lang)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False, sheet_name="report")
    else:
        raise ConfigurationError(f"report file {path.name}: use a .csv or .xlsx name")
    return path
