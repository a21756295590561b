"""Validation of the summary frames the models read: messages name the column and the fix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tillage.errors import DataValidationError, Problem

__all__ = ["check_frame", "first_bad"]


def _problem(column: str | None, reason: str, value: object = None) -> Problem:
    return Problem(file="input frame", row=None, column=column, value=value, reason=reason)


def first_bad(frame: pd.DataFrame, col: str, bad: NDArray[np.bool_], reason: str) -> Problem:
    """A problem describing the rows flagged in ``bad``, located at the first one."""
    first = int(np.flatnonzero(bad)[0])
    label = frame.index[first]
    n = int(bad.sum())
    return _problem(
        col,
        f"{n} row(s) where {col} {reason}; first at index {label!r}",
        frame[col].iloc[first],
    )


def check_frame(
    frame: object,
    *,
    owner: str,
    columns: Sequence[str],
    count_columns: Sequence[str] = (),
    nonnegative_columns: Sequence[str] = (),
    positive_columns: Sequence[str] = (),
    arrays: dict[str, NDArray[np.float64]] | None = None,
) -> pd.DataFrame:
    """Check a summary frame and return it; raise DataValidationError listing every problem.

    Columns must exist, be numeric and finite; counts whole and >= 0; ``weight`` (if present)
    >= 0; and ``recency <= T`` when both are read. With ``arrays``, the columns checked
    (``weight`` too, if present) are put there as float arrays, read once.
    """
    name = owner
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(
            f"{name}: expected a pandas DataFrame, got {type(frame).__name__}"
        )
    columns = list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{name}: the input frame lacks column(s) {', '.join(map(repr, missing))}; "
            f"it needs {', '.join(map(repr, columns))}",
            [_problem(c, "column is missing") for c in missing],
        )
    problems: list[Problem] = []
    check = [*columns, *(["weight"] if "weight" in frame.columns else [])]
    numeric: dict[str, NDArray[np.float64]] = {}
    for col in check:
        try:
            values = np.asarray(frame[col], dtype=float)
        except (TypeError, ValueError):
            problems.append(_problem(col, "column is not numeric"))
            continue
        numeric[col] = values
        bad = ~np.isfinite(values)
        if bad.any():
            problems.append(first_bad(frame, col, bad, "is missing or not finite"))
            continue
        if col in count_columns and (values != np.floor(values)).any():
            bad = values != np.floor(values)
            problems.append(first_bad(frame, col, bad, "must be a whole number"))
        if col in (*count_columns, *nonnegative_columns, "weight"):
            bad = values < 0
            if bad.any():
                problems.append(first_bad(frame, col, bad, "must not be negative"))
        if col in positive_columns:
            bad = values <= 0
            if bad.any():
                problems.append(first_bad(frame, col, bad, "must be positive"))
    if "recency" in numeric and "T" in numeric:
        bad = numeric["recency"] > numeric["T"]
        if bad.any():
            problems.append(first_bad(frame, "recency", bad, "is greater than T (recency <= T)"))
    if problems:
        cols = sorted({p.column for p in problems if p.column})
        raise DataValidationError(
            f"{name}: the input frame has invalid values in column(s) {', '.join(map(repr, cols))}",
            problems,
        )
    if arrays is not None:
        arrays.update(numeric)
    return frame
