"""Priority of each account, with its reasons written out in Japanese and English.

The priority is a weighted mean of components scaled to 0..1, times 100::

    priority = 100 × Σ wₖ cₖ / Σ wₖ

    value          percentile rank of ltv among the accounts scored
    growth         percentile rank of expected_expansion_value
    churn_risk     churn_probability
    renewal        1 − days_to_next_renewal / renewal_window_days inside the window, else 0
    competition    1 when an open deal names a competitor (open_with_competitor > 0)
    silence        min(days_since_last_meeting / silence_days, 1)
    usage_decline  min(−usage_trend / 0.5, 1) when usage falls, else 0

The weights come from the strategy file (``[priority.weights]``). A column that is absent or
null contributes 0. The reasons are the components that contribute most, each with the value
behind it (``reasons``: a list of ``{"code", "value", "contribution"}``), rendered by
:func:`render_reasons`, e.g. ``"renewal in 38 days · usage down 31% · no meeting for 94 days ·
LTV ¥12.4M"`` / ``"更新まで38日 · 利用 31%減 · 94日間商談なし · LTV ￥1240万"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tillage.errors import DataValidationError
from tillage.i18n import check_language, format_money
from tillage.strategy.config import Strategy

#: the input columns read, by component (any may be missing)
COLUMNS = {
    "value": "ltv",
    "growth": "expected_expansion_value",
    "churn_risk": "churn_probability",
    "renewal": "days_to_next_renewal",
    "competition": "open_with_competitor",
    "silence": "days_since_last_meeting",
    "usage_decline": "usage_trend",
}
#: a usage fall this large (a fraction) gives the full usage_decline component
FULL_USAGE_DECLINE = 0.5

SEPARATOR = " · "


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index, dtype=float)


def _rank(values: pd.Series) -> pd.Series:
    """Percentile rank in 0..1 (ties averaged); NaN stays NaN."""
    n = values.notna().sum()
    if n <= 1:
        return values.where(values.isna(), 1.0)
    return (values.rank(method="average") - 1) / (n - 1)


def priority_components(frame: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Each component of the priority in 0..1 (0 where its input is missing)."""
    settings = strategy.priority
    ltv = _column(frame, "ltv")
    growth = _column(frame, "expected_expansion_value")
    days = _column(frame, "days_to_next_renewal")
    silence = _column(frame, "days_since_last_meeting")
    usage = _column(frame, "usage_trend")
    window = settings.renewal_window_days
    parts = {
        "value": _rank(ltv),
        "growth": _rank(growth),
        "churn_risk": _column(frame, "churn_probability").clip(0, 1),
        "renewal": ((window - days.clip(lower=0)) / window).clip(0, 1),
        "competition": (_column(frame, "open_with_competitor") > 0).astype(float),
        "silence": (silence / settings.silence_days).clip(0, 1),
        "usage_decline": (-usage / FULL_USAGE_DECLINE).clip(0, 1),
    }
    return pd.DataFrame(parts, index=frame.index).fillna(0.0)


def score_priority(frame: pd.DataFrame, strategy: Strategy | None = None) -> pd.DataFrame:
    """Priority (0..100), its rank (1 = first) and reasons per account.

    ``frame`` holds one row per account with ``account_id`` and any of :data:`COLUMNS`' values.
    Returns ``account_id``, ``priority``, ``priority_rank``, ``c_<component>`` (0..1 each),
    ``reasons`` (list of dicts), ``reasons_en`` and ``reasons_ja``, in the input's order.
    """
    strategy = strategy or Strategy()
    if "account_id" not in frame.columns:
        raise DataValidationError("the priority needs an account_id column, one row per account")
    weights = strategy.priority.weights.model_dump()
    total = sum(weights.values())
    if total <= 0:
        raise DataValidationError("priority.weights: at least one weight must be positive")
    parts = priority_components(frame, strategy)
    contrib = parts * pd.Series(weights) / total
    out = pd.DataFrame({"account_id": frame["account_id"].to_numpy()}, index=frame.index)
    out["priority"] = 100 * contrib.sum(axis=1)
    out["priority_rank"] = (
        out["priority"].rank(method="first", ascending=False).astype("int64").to_numpy()
    )
    for name in parts.columns:
        out[f"c_{name}"] = parts[name]
    raw = {name: _column(frame, col) for name, col in COLUMNS.items()}
    out["reasons"] = _reasons(contrib, raw, strategy.priority.max_reasons)
    currency = strategy.currency
    out["reasons_en"] = [render_reasons(r, "en", currency) for r in out["reasons"]]
    out["reasons_ja"] = [render_reasons(r, "ja", currency) for r in out["reasons"]]
    return out


def _reasons(
    contrib: pd.DataFrame, raw: dict[str, pd.Series], max_reasons: int
) -> list[list[dict[str, Any]]]:
    names = list(contrib.columns)
    values = contrib.to_numpy()
    raws = np.column_stack([raw[n].to_numpy(dtype=float) for n in names])
    order = np.argsort(-values, axis=1, kind="stable")[:, :max_reasons]
    result = []
    for i, row in enumerate(order):
        reasons = []
        for j in row:
            if values[i, j] <= 0:
                break
            reasons.append(
                {
                    "code": names[j],
                    "value": float(raws[i, j]),
                    "contribution": round(float(values[i, j]) * 100, 2),
                }
            )
        result.append(reasons)
    return result


def _reason_text(code: str, value: float, lang: str, currency: str) -> str:
    ja = lang == "ja"
    if code == "value":
        return f"LTV {format_money(value, currency, lang, compact=True)}"
    if code == "growth":
        money = format_money(value, currency, lang, compact=True)
        return f"拡大見込み {money}" if ja else f"expansion potential {money}"
    if code == "churn_risk":
        return f"解約確率 {value:.0%}" if ja else f"churn risk {value:.0%}"
    if code == "renewal":
        days = max(round(value), 0)
        return f"更新まで{days}日" if ja else f"renewal in {days} days"
    if code == "competition":
        n = round(value)
        return f"競合あり（商談{n}件）" if ja else f"competitor on {n} open deal" + "s" * (n != 1)
    if code == "silence":
        days = round(value)
        return f"{days}日間商談なし" if ja else f"no meeting for {days} days"
    if code == "usage_decline":
        return f"利用 {-value:.0%}減" if ja else f"usage down {-value:.0%}"
    raise ValueError(f"unknown reason code {code!r}")


def render_reasons(reasons: Sequence[dict[str, Any]], lang: str, currency: str = "JPY") -> str:
    """The reasons as one line in ``lang`` (ja or en), most important first."""
    check_language(lang)
    return SEPARATOR.join(_reason_text(r["code"], r["value"], lang, currency) for r in reasons)
