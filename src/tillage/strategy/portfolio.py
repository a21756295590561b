"""The portfolio in two views, each with the probability that an account truly sits in its cell.

**Value × growth** (:func:`value_growth_portfolio`): LTV against expected expansion value, split
at thresholds from the strategy file (quantiles by default)::

                      growth high    growth low
    value high        deepen 深耕     maintain 維持
    value low         nurture 育成    reduce 縮小

**Deal size × win probability** (:func:`deal_zones`): A = large and likely, B = one of the two,
C = neither.

An estimate with an interval (``ltv_low``..``ltv_high``, likewise ``expected_expansion_value_low``
/ ``_high``, ``win_probability_low`` / ``_high``) is read as a normal distribution whose central
``interval_level`` mass spans the interval, σ = (high − low) / (2 z). The probability of being on
the assigned side of a threshold t is Φ(|x − t| / σ) (1 without an interval); the probability of
the cell is the product over both axes (the axes are taken as independent). ``borderline`` marks
cells held with a probability below ``borderline_probability``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from tillage.errors import DataValidationError
from tillage.strategy.config import Strategy

CELLS = {"deepen": "深耕", "maintain": "維持", "nurture": "育成", "reduce": "縮小"}


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(f"the portfolio needs the columns {missing}")


def side_probability(
    frame: pd.DataFrame, column: str, threshold: float, level: float
) -> np.ndarray:
    """P(true value on the same side of ``threshold`` as the estimate in ``column``)."""
    x = frame[column].to_numpy(dtype=float)
    low, high = f"{column}_low", f"{column}_high"
    if low not in frame.columns or high not in frame.columns:
        return np.ones(len(frame))
    z = norm.ppf(0.5 + level / 2)
    sigma = (frame[high].to_numpy(dtype=float) - frame[low].to_numpy(dtype=float)) / (2 * z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = norm.cdf(np.abs(x - threshold) / sigma)
    # no spread: certain; exactly on the threshold with a spread: a coin toss
    p = np.where(~(sigma > 0), 1.0, p)
    return np.where(np.isnan(p), 1.0, p)


def _threshold(values: pd.Series, absolute: float | None, quantile: float) -> float:
    if absolute is not None:
        return float(absolute)
    return float(values.quantile(quantile)) if len(values) else 0.0


def value_growth_portfolio(frame: pd.DataFrame, strategy: Strategy | None = None) -> pd.DataFrame:
    """Cell (deepen / maintain / nurture / reduce) per account with its probability.

    ``frame`` needs ``account_id``, ``ltv`` and ``expected_expansion_value``, and may carry the
    intervals. Returns ``account_id``, ``cell``, ``cell_ja``, ``value_high``, ``growth_high``,
    ``p_cell``, ``borderline``; the thresholds used are in ``.attrs``.
    """
    strategy = strategy or Strategy()
    cfg = strategy.portfolio
    _require(frame, ["account_id", "ltv", "expected_expansion_value"])
    ltv = frame["ltv"].astype(float)
    growth = frame["expected_expansion_value"].astype(float).fillna(0.0)
    t_value = _threshold(ltv, cfg.value_threshold, cfg.value_quantile)
    t_growth = _threshold(growth, cfg.growth_threshold, cfg.growth_quantile)
    value_high = (ltv > t_value).to_numpy()
    growth_high = (growth > t_growth).to_numpy()
    cell = np.select(
        [value_high & growth_high, value_high, growth_high], ["deepen", "maintain", "nurture"],
        "reduce",
    )  # fmt: skip
    filled = frame.assign(expected_expansion_value=growth)
    p = side_probability(filled, "ltv", t_value, cfg.interval_level) * side_probability(
        filled, "expected_expansion_value", t_growth, cfg.interval_level
    )
    out = pd.DataFrame(
        {
            "account_id": frame["account_id"].to_numpy(),
            "cell": cell,
            "cell_ja": [CELLS[c] for c in cell],
            "value_high": value_high,
            "growth_high": growth_high,
            "p_cell": p,
            "borderline": p < cfg.borderline_probability,
        },
        index=frame.index,
    )
    out.attrs.update(value_threshold=t_value, growth_threshold=t_growth)
    return out


def deal_zones(
    frame: pd.DataFrame,
    strategy: Strategy | None = None,
    *,
    size: str = "amount",
    probability: str = "win_probability",
) -> pd.DataFrame:
    """Zone A / B / C per deal (or per account with ``size="open_pipeline"``).

    Large means ``size`` above its ``deal_size_quantile``; likely means ``probability`` at or
    above ``win_probability_threshold``. Returns the zone, ``p_zone`` and ``borderline`` next to
    the input's ``account_id`` (and ``opportunity_id`` when present).
    """
    strategy = strategy or Strategy()
    cfg = strategy.portfolio
    _require(frame, [size, probability])
    amount = frame[size].astype(float).fillna(0.0)
    prob = frame[probability].astype(float).fillna(0.0)
    t_size = float(amount.quantile(cfg.deal_size_quantile)) if len(amount) else 0.0
    t_prob = cfg.win_probability_threshold
    large = (amount > t_size).to_numpy()
    likely = (prob >= t_prob).to_numpy()
    zone = np.where(large & likely, "A", np.where(large | likely, "B", "C"))
    filled = frame.assign(**{size: amount, probability: prob})
    p = side_probability(filled, size, t_size, cfg.interval_level) * side_probability(
        filled, probability, t_prob, cfg.interval_level
    )
    keys = [c for c in ("opportunity_id", "account_id") if c in frame.columns]
    out = frame[keys].copy()
    out["zone"] = zone
    out["large"] = large
    out["likely"] = likely
    out["p_zone"] = p
    out["borderline"] = p < cfg.borderline_probability
    out.attrs.update(size_threshold=t_size, probability_threshold=t_prob)
    return out
