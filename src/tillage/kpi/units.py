"""How a KPI's figures are written, by unit: light enough for every table's formatting
(:mod:`tillage.report.formatting`) to import without the KPI queries."""

from __future__ import annotations

from typing import Literal

Unit = Literal["percent", "ratio", "currency", "months", "count", "score", "per_account_month"]


def change_digits(unit: str) -> int:
    """Decimals a change of a KPI in ``unit`` is shown with (currency and counts whole, ratios
    and per-account rates to 0.01, the rest — percentage points, months, scores — to 0.1): a
    change that rounds to zero there is no change."""
    return {"currency": 0, "count": 0, "ratio": 2, "per_account_month": 2}.get(unit, 1)
