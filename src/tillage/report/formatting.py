"""Formatting of KPI values and review figures for people, in the user's language."""

from __future__ import annotations

import math

from tillage.i18n import format_money, format_number
from tillage.kpi.units import change_digits


def format_value(
    value: float | None,
    unit: str,
    currency: str,
    lang: str,
    *,
    against: float | None = None,
) -> str:
    """A KPI value in its unit (``percent``, ``currency``, ``count`` …), for display; ``—``
    when there is none. ``against``: the figure it is read next to (a target): when the two
    differ but would print alike (3.54% against 3.5%, shown 3.5% and 3.5% and called off
    target), up to two more decimals tell them apart."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "currency":
        return format_money(value, currency, lang)
    if unit == "count":
        return format_number(value, lang)
    digits = 1 if unit in {"percent", "months", "score"} else 2
    suffix = "%" if unit == "percent" else ""
    apart = against is not None and not math.isnan(against) and against != value
    for extra in (0, 1, 2):
        text = format_number(value, lang, digits=digits + extra)
        if not apart or text != format_number(against, lang, digits=digits + extra):  # type: ignore[arg-type]
            break
    return text + suffix


def format_fraction(value: float | None, lang: str, digits: int = 1) -> str:
    """A fraction (0.253) as a percentage (25.3%); ``—`` when there is none."""
    if value is None or math.isnan(value):
        return "—"
    return format_number(100.0 * value, lang, digits=digits) + "%"


def format_change(
    value: float | None, unit: str, currency: str, lang: str, *, apart: bool = False
) -> str:
    """A signed difference of a KPI in its unit (``+2.5`` points for a percentage, ``-¥8,480``
    for an amount, ``±0.0`` for none at the digits shown); ``—`` when there is none.
    ``apart``: the difference decides something (a gap to a target called off target), so a
    small one that would print ±0.0 gets up to two more decimals (+0.04)."""
    if value is None or math.isnan(value):
        return "—"
    digits = change_digits(unit)
    if apart and unit != "currency" and value != 0:
        while round(abs(value), digits) == 0 and digits < change_digits(unit) + 2:
            digits += 1
    shown = round(abs(value), digits)
    sign = "±" if shown == 0 else ("+" if value > 0 else "-")
    if unit == "currency":
        return sign + format_money(shown, currency, lang)
    return sign + format_number(shown, lang, digits=digits)
