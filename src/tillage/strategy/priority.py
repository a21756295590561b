"""Priority of each account: value at stake × urgency × actionability, with its reasons in words.

The priority asks how much value an account puts at stake, how urgently it needs attention and
whether anyone can act on it::

    value_at_stake  V = max(w_value × ltv + w_growth × expected_expansion_value, 0)   (currency)
    urgency         U = Σₖ wₖ uₖ                                                      (≥ 0)
    actionability   A = 1 with an owner rep, priority.unowned_actionability without    (0..1)
    priority_value  P = V × (1 + U) × A                                               (currency)
    priority        = 100 × (accounts with a lower P) / (accounts scored − 1)         (0..100)

with the urgency factors uₖ, each in 0..1 and 0 below its materiality threshold:

    churn_risk     churn_probability
    renewal        1 − d / renewal_window_days inside the window, else 0, with d the days to the
                   next *undecided* renewal (``days_to_undecided_renewal``: a renewal whose
                   successor contract is on file is not urgent; ``days_to_next_renewal`` when
                   the frame has no such column)
    competition    1 when an open deal names a competitor (open_with_competitor > 0)
    silence        min(days_since_last_meeting / silence_days, 1) from min_silence_days on
    usage_decline  (f − usage_noise) / (0.5 − usage_noise), clipped to 0..1, for a usage fall
                   f = −usage_trend beyond the noise
    detractor      1 when the latest NPS answer within lookback_days (``nps_score``) is at or
                   below key_person.detractor_nps
    tickets        min(age / ticket_full_days, 1) of the oldest open ticket of severity
                   severe_ticket_severity or worse (``severe_tickets``: a list of
                   ``{"ticket", "severity", "age_days"}``, oldest first)

The weights come from the strategy file (``[priority.weights]``): ``value`` and ``growth`` count
currency into the value at stake, each urgency weight is the share of the value at stake its
factor adds when full (churn_risk = 1: a certain churn doubles P). A column that is absent or
null contributes 0; without a ``rep_id`` column every account counts as actionable.

An account whose LTV is negative puts nothing at stake unless its expected expansion outweighs
the loss: V = 0 gives P = 0 and priority 0 whatever its urgency, and its one reason is the LTV.

**Reasons** split V × (1 + U) into its parts, each with its share in percent (``contribution``):
the urgency parts V × wₖ uₖ, the LTV part w_value × ltv and the expansion part. A part is a
reason only when it is material — at least ``min_reason_share`` of the priority, the churn risk
at or above ``capacity.churn_threshold``, the expansion at least ``min_growth_share`` of the
LTV — and the reasons are ordered by their share, at most ``max_reasons``, the LTV always among
them when positive. Each names its evidence and the threshold it passed
(:mod:`tillage.strategy.reasons`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tillage.errors import DataValidationError
from tillage.strategy.config import Strategy
from tillage.strategy.reasons import SEPARATOR, render_reasons

__all__ = ["SEPARATOR", "URGENCY", "render_reasons", "score_priority", "urgency_factors"]

#: the input columns read, by component (any may be missing)
COLUMNS = {
    "value": "ltv",
    "growth": "expected_expansion_value",
    "churn_risk": "churn_probability",
    "renewal": "days_to_undecided_renewal",
    "competition": "open_with_competitor",
    "silence": "days_since_last_meeting",
    "usage_decline": "usage_trend",
    "detractor": "nps_score",
}
#: the components of the value at stake (currency) and the urgency factors (0..1)
VALUE_PARTS = ("value", "growth")
URGENCY = (
    "churn_risk",
    "renewal",
    "detractor",
    "tickets",
    "competition",
    "silence",
    "usage_decline",
)
#: a usage fall this large (a fraction) gives the full usage_decline factor
FULL_USAGE_DECLINE = 0.5


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index, dtype=float)


def _renewal_days(frame: pd.DataFrame) -> pd.Series:
    """Days to the next undecided renewal (the plain next renewal when that is all there is)."""
    if "days_to_undecided_renewal" in frame.columns:
        return _column(frame, "days_to_undecided_renewal")
    return _column(frame, "days_to_next_renewal")


def _tickets(frame: pd.DataFrame) -> list[list[dict[str, Any]]]:
    if "severe_tickets" not in frame.columns:
        return [[] for _ in range(len(frame))]
    return [list(t) if isinstance(t, list | tuple) else [] for t in frame["severe_tickets"]]


def urgency_factors(frame: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Each urgency factor of the priority in 0..1 (0 where its input is missing or below its
    materiality threshold)."""
    settings = strategy.priority
    days = _renewal_days(frame)
    silence = _column(frame, "days_since_last_meeting")
    fall = -_column(frame, "usage_trend")
    noise = settings.usage_noise
    window = settings.renewal_window_days
    nps = _column(frame, "nps_score")
    oldest = pd.Series(
        [max((float(t["age_days"]) for t in ts), default=0.0) for ts in _tickets(frame)],
        index=frame.index,
        dtype=float,
    )
    parts = {
        "churn_risk": _column(frame, "churn_probability").clip(0, 1),
        "renewal": ((window - days.clip(lower=0)) / window).clip(0, 1),
        "detractor": (nps <= strategy.key_person.detractor_nps).astype(float),
        "tickets": (oldest / settings.ticket_full_days).clip(0, 1),
        "competition": (_column(frame, "open_with_competitor") > 0).astype(float),
        "silence": (silence / settings.silence_days)
        .clip(0, 1)
        .where(silence >= settings.min_silence_days, 0.0),
        "usage_decline": ((fall - noise) / (FULL_USAGE_DECLINE - noise)).clip(0, 1),
    }
    return pd.DataFrame(parts, index=frame.index).fillna(0.0)


def actionability(frame: pd.DataFrame, strategy: Strategy) -> pd.Series:
    """1 for an account with an owner rep, ``priority.unowned_actionability`` without one (every
    account is actionable when the frame has no ``rep_id``)."""
    if "rep_id" not in frame.columns:
        return pd.Series(1.0, index=frame.index)
    owned = frame["rep_id"].notna().to_numpy()
    return pd.Series(
        np.where(owned, 1.0, strategy.priority.unowned_actionability), index=frame.index
    )


def _percentile(values: pd.Series) -> pd.Series:
    """100 × the share of the other accounts with a lower value (ties share the lower rank)."""
    n = len(values)
    if n <= 1:
        return (values > 0).astype(float) * 100.0
    return 100.0 * (values.rank(method="min") - 1) / (n - 1)


def score_priority(frame: pd.DataFrame, strategy: Strategy | None = None) -> pd.DataFrame:
    """Priority (0..100), its rank (1 = first) and reasons per account.

    ``frame`` holds one row per account with ``account_id`` and any of :data:`COLUMNS`' values
    (and ``severe_tickets``, ``nps_date``, ``rep_id``). Returns, in the input's order:
    ``account_id``, ``value_at_stake`` (V, currency), ``urgency`` (U), ``actionability`` (A),
    ``priority_value`` (P, currency), ``priority``, ``priority_rank``, ``c_<factor>`` (each
    urgency factor, 0..1), ``reasons`` (list of ``{"code", "value", "contribution", …}``) and
    the reasons in words, ``reasons_en`` and ``reasons_ja``.
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
    act = actionability(frame, strategy)
    value = stake * (1 + urgency) * act

    out = pd.DataFrame({"account_id": frame["account_id"].to_numpy()}, index=frame.index)
    out["value_at_stake"] = stake
    out["urgency"] = urgency
    out["actionability"] = act
    out["priority_value"] = value
    out["priority"] = _percentile(value)
    out["priority_rank"] = value.rank(method="first", ascending=False).astype("int64").to_numpy()
    for name in URGENCY:
        out[f"c_{name}"] = factors[name]
    # each part's share of V × (1 + U): the value parts as they are, the urgency parts V × wₖ uₖ
    whole = stake * (1 + urgency)
    amounts = pd.concat([lifts.mul(stake, axis=0), value_parts], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = amounts.div(whole.where(whole > 0), axis=0).fillna(0.0)
    out["reasons"] = _reasons(frame, shares, ltv, growth, strategy)
    currency = strategy.currency
    out["reasons_en"] = [render_reasons(r, "en", currency) for r in out["reasons"]]
    out["reasons_ja"] = [render_reasons(r, "ja", currency) for r in out["reasons"]]
    return out


def _evidence(frame: pd.DataFrame, strategy: Strategy) -> dict[str, list[dict[str, Any]]]:
    """Per urgency code, per account: the reason's value and evidence (before its share)."""
    settings = strategy.priority
    n = len(frame)
    churn = _column(frame, "churn_probability").to_numpy()
    days = _renewal_days(frame).to_numpy()
    rivals = _column(frame, "open_with_competitor").to_numpy()
    silence = _column(frame, "days_since_last_meeting").to_numpy()
    usage = _column(frame, "usage_trend").to_numpy()
    nps = _column(frame, "nps_score").to_numpy()
    dates = frame["nps_date"].tolist() if "nps_date" in frame.columns else [None] * n
    tickets = _tickets(frame)
    out: dict[str, list[dict[str, Any]]] = {
        "churn_risk": [
            {"value": float(p), "threshold": strategy.capacity.churn_threshold} for p in churn
        ],
        "renewal": [{"value": float(d)} for d in days],
        "competition": [{"value": float(c)} for c in rivals],
        "silence": [{"value": float(s), "threshold": settings.min_silence_days} for s in silence],
        "usage_decline": [{"value": float(u), "threshold": settings.usage_noise} for u in usage],
        "detractor": [
            {"value": float(s), "date": None if d is None or pd.isna(d) else str(d)}
            for s, d in zip(nps, dates, strict=True)
        ],
        "tickets": [
            {
                "value": float(ts[0]["age_days"]),
                "ticket": str(ts[0]["ticket"]),
                "severity": int(ts[0]["severity"]),
                "more": len(ts) - 1,
            }
            if ts
            else {"value": 0.0}
            for ts in tickets
        ],
    }
    return out


def _reasons(
    frame: pd.DataFrame,
    shares: pd.DataFrame,
    ltv: pd.Series,
    growth: pd.Series,
    strategy: Strategy,
) -> list[list[dict[str, Any]]]:
    """Per account: the material parts by share, at most ``max_reasons``, a slot held for the
    LTV whenever it is positive. An account with nothing at stake gets its LTV alone
    (contribution 0) when it is known."""
    settings = strategy.priority
    evidence = _evidence(frame, strategy)
    share = {name: shares[name].to_numpy() for name in (*URGENCY, *VALUE_PARTS)}
    ltv_values = ltv.to_numpy(dtype=float)
    growth_values = growth.to_numpy(dtype=float)
    churn = _column(frame, "churn_probability").to_numpy()
    result = []
    for i in range(len(frame)):
        if share["value"][i] <= 0 and share["growth"][i] <= 0:
            nothing = [{"code": "value", "value": float(ltv_values[i]), "contribution": 0.0}]
            result.append(nothing if ltv_values[i] != 0 else [])
            continue
        material = []
        for name in URGENCY:
            s = share[name][i]
            if s <= 0 or s < settings.min_reason_share:
                continue
            if name == "churn_risk" and churn[i] < strategy.capacity.churn_threshold:
                continue
            material.append({"code": name, **evidence[name][i], "contribution": _pct(s)})
        g = share["growth"][i]
        if (
            g > 0
            and g >= settings.min_reason_share
            and growth_values[i] >= settings.min_growth_share * abs(ltv_values[i])
        ):
            material.append(
                {"code": "growth", "value": float(growth_values[i]), "contribution": _pct(g)}
            )
        material.sort(key=lambda r: -r["contribution"])
        keep_ltv = share["value"][i] > 0
        ltv_reason = {
            "code": "value",
            "value": float(ltv_values[i]),
            "contribution": _pct(share["value"][i]),
        }
        chosen = material[: settings.max_reasons - keep_ltv]
        if keep_ltv:
            chosen.append(ltv_reason)
            chosen.sort(key=lambda r: -r["contribution"])
        result.append(chosen)
    return result


def _pct(share: float) -> float:
    return round(float(share) * 100, 2)
