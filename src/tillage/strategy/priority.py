"""Priority of each account: the value at stake scaled by urgency, with its reasons in words.

The priority asks how much value an account puts at stake and how urgently it needs attention::

    value_at_stake  V = max(w_value × ltv + w_growth × expected_expansion_value, 0)   (currency)
    urgency         U = Σₖ wₖ uₖ                                                      (≥ 0)
    priority_value  P = V × (1 + U)                                                   (currency)
    priority        = 100 × (accounts with a lower P) / (accounts scored − 1)         (0..100)

with the urgency factors uₖ, each in 0..1:

    churn_risk     churn_probability
    renewal        1 − days_to_next_renewal / renewal_window_days inside the window, else 0
    competition    1 when an open deal names a competitor (open_with_competitor > 0)
    silence        min(days_since_last_meeting / silence_days, 1)
    usage_decline  min(−usage_trend / 0.5, 1) when usage falls, else 0

The weights come from the strategy file (``[priority.weights]``): ``value`` and ``growth`` count
currency into the value at stake (1 = the amount as it is), each urgency weight is the share of
the value at stake its factor adds when full (churn_risk = 1: a certain churn doubles P).
``priority`` is P's percentile among the accounts scored, so the account with the largest P has
100 and accounts with nothing at stake have 0. A column that is absent or null contributes 0.

An account whose LTV is negative (its discounted margin does not cover its cost to serve) puts
nothing at stake unless its expected expansion outweighs the loss: V = 0 gives P = 0 and priority
0 whatever its urgency, and its one reason is the negative LTV.

The reasons split P into its parts, each with its share of P in percent (``contribution``; they add
up to 100): the urgency factors (V × wₖ uₖ) largest first, then the value at stake (w_value × ltv,
then w_growth × expected_expansion_value), at most ``max_reasons`` in all, the LTV always among
them. :func:`render_reasons` writes them out, e.g. ``"renewal in 38 days · usage down 31% · no
meeting for 94 days · LTV ¥12.4M"`` /
``"更新まで38日 · 利用 31%減 · 94日間商談なし · LTV ￥1240万"``.
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
#: the components of the value at stake (currency) and the urgency factors (0..1)
VALUE_PARTS = ("value", "growth")
URGENCY = ("churn_risk", "renewal", "competition", "silence", "usage_decline")
#: a usage fall this large (a fraction) gives the full usage_decline factor
FULL_USAGE_DECLINE = 0.5

SEPARATOR = " · "


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index, dtype=float)


def urgency_factors(frame: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Each urgency factor of the priority in 0..1 (0 where its input is missing)."""
    settings = strategy.priority
    days = _column(frame, "days_to_next_renewal")
    silence = _column(frame, "days_since_last_meeting")
    usage = _column(frame, "usage_trend")
    window = settings.renewal_window_days
    parts = {
        "churn_risk": _column(frame, "churn_probability").clip(0, 1),
        "renewal": ((window - days.clip(lower=0)) / window).clip(0, 1),
        "competition": (_column(frame, "open_with_competitor") > 0).astype(float),
        "silence": (silence / settings.silence_days).clip(0, 1),
        "usage_decline": (-usage / FULL_USAGE_DECLINE).clip(0, 1),
    }
    return pd.DataFrame(parts, index=frame.index).fillna(0.0)


def _percentile(values: pd.Series) -> pd.Series:
    """100 × the share of the other accounts with a lower value (ties share the lower rank)."""
    n = len(values)
    if n <= 1:
        return (values > 0).astype(float) * 100.0
    return 100.0 * (values.rank(method="min") - 1) / (n - 1)


def score_priority(frame: pd.DataFrame, strategy: Strategy | None = None) -> pd.DataFrame:
    """Priority (0..100), its rank (1 = first) and reasons per account.

    ``frame`` holds one row per account with ``account_id`` and any of :data:`COLUMNS`' values.
    Returns, in the input's order: ``account_id``, ``value_at_stake`` (V, currency),
    ``urgency`` (U), ``priority_value`` (P, currency), ``priority``, ``priority_rank``,
    ``c_<factor>`` (each urgency factor, 0..1), ``reasons`` (list of ``{"code", "value",
    "contribution"}``) and the reasons in words, ``reasons_en`` and ``reasons_ja``.
    """
    strategy = strategy or Strategy()
    if "account_id" not in frame.columns:
        raise DataValidationError("the priority needs an account_id column, one row per account")
    weights = strategy.priority.weights
    if weights.value <= 0 and weights.growth <= 0:
        raise DataValidationError(
            "priority.weights: value or growth must be positive, or no account has value at stake"
        )
    ltv = _column(frame, "ltv").fillna(0.0)
    growth = _column(frame, "expected_expansion_value").fillna(0.0).clip(lower=0)
    value_parts = pd.DataFrame(
        {"value": weights.value * ltv, "growth": weights.growth * growth}, index=frame.index
    )
    stake = value_parts.sum(axis=1).clip(lower=0)
    factors = urgency_factors(frame, strategy)
    lifts = factors * pd.Series({k: getattr(weights, k) for k in URGENCY})
    urgency = lifts.sum(axis=1)
    value = stake * (1 + urgency)

    out = pd.DataFrame({"account_id": frame["account_id"].to_numpy()}, index=frame.index)
    out["value_at_stake"] = stake
    out["urgency"] = urgency
    out["priority_value"] = value
    out["priority"] = _percentile(value)
    out["priority_rank"] = value.rank(method="first", ascending=False).astype("int64").to_numpy()
    for name in URGENCY:
        out[f"c_{name}"] = factors[name]
    # each part's share of P: the value parts as they are, the urgency parts V × wₖ uₖ
    amounts = pd.concat([lifts.mul(stake, axis=0), value_parts], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = amounts.div(value.where(value > 0), axis=0).fillna(0.0)
    raw = {name: _column(frame, col) for name, col in COLUMNS.items()}
    raw["value"] = ltv
    out["reasons"] = _reasons(shares, raw, strategy.priority.max_reasons)
    currency = strategy.currency
    out["reasons_en"] = [render_reasons(r, "en", currency) for r in out["reasons"]]
    out["reasons_ja"] = [render_reasons(r, "ja", currency) for r in out["reasons"]]
    return out


def _reasons(
    shares: pd.DataFrame, raw: dict[str, pd.Series], max_reasons: int
) -> list[list[dict[str, Any]]]:
    """Per account: the urgency parts largest first, then the value parts (LTV, expansion),
    at most ``max_reasons``; the LTV is kept (a slot is held for it) whenever it is positive.
    An account with nothing at stake gets its LTV alone (contribution 0) when it is known."""
    urgent = shares[list(URGENCY)].to_numpy()
    order = np.argsort(-urgent, axis=1, kind="stable")
    ltv_share = shares["value"].to_numpy()
    growth_share = shares["growth"].to_numpy()
    ltv = raw["value"].to_numpy(dtype=float)
    values = {name: raw[name].to_numpy(dtype=float) for name in COLUMNS}
    result = []
    for i, row in enumerate(order):
        if ltv_share[i] <= 0 and growth_share[i] <= 0 and not urgent[i].any():
            nothing = [{"code": "value", "value": float(ltv[i]), "contribution": 0.0}]
            result.append(nothing if ltv[i] != 0 else [])
            continue
        room = max_reasons - (ltv_share[i] > 0)
        reasons = []
        for j in row[:room]:
            if urgent[i, j] <= 0:
                break
            name = URGENCY[j]
            reasons.append(_reason(name, values[name][i], urgent[i, j]))
        for name, share in (("value", ltv_share[i]), ("growth", growth_share[i])):
            if share > 0 and len(reasons) < max_reasons:
                reasons.append(_reason(name, values[name][i], share))
        result.append(reasons)
    return result


def _reason(code: str, value: float, share: float) -> dict[str, Any]:
    return {"code": code, "value": float(value), "contribution": round(float(share) * 100, 2)}


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
    """The reasons as one line in ``lang`` (ja or en), in the order given."""
    check_language(lang)
    return SEPARATOR.join(_reason_text(r["code"], r["value"], lang, currency) for r in reasons)
