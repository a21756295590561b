"""Deal and expansion pipelines: features as of past dates → models → backtests and scores.

The Python API behind ``tillage deals``. Every function takes an ibis backend holding the
canonical tables (:func:`tillage.features.feature_backend`) and dates as arguments.

* :func:`win_probability_backtest` — snapshots of the open deals at month ends, a time-based split
  at ``cutoff``, the calibrated model against the stage-rate baseline on the later deals;
* :func:`score_open_deals` — the model trained on everything known on ``as_of``, applied to the
  deals open on ``as_of``;
* :func:`expansion_backtest` / :func:`score_expansion` — the same for expansion propensity and
  value, on quarterly as-of dates with labels over ``horizon_days``;
* :func:`suggest_products` — association rules and successors from the purchases up to ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.errors import DataValidationError
from tillage.features.build import FeatureTables
from tillage.features.deals import (
    deal_history,
    expansion_frames,
    last_sold,
    products_frame,
    purchases,
)
from tillage.models.calibration import compare_probabilities
from tillage.models.evaluation import reliability_table
from tillage.models.expansion import ExpansionModel
from tillage.models.suggestions import ProductSuggestions
from tillage.models.win_probability import WinProbabilityModel, deal_weights, time_split

__all__ = [
    "Backtest",
    "expansion_backtest",
    "month_ends",
    "score_expansion",
    "score_open_deals",
    "suggest_products",
    "win_probability_backtest",
]


@dataclass
class Backtest:
    """A time-based backtest: metrics per method, the model's reliability table, the test rows
    with their predictions, the fitted model and notes (thin data, calibration)."""

    metrics: pd.DataFrame
    reliability: pd.DataFrame
    predictions: pd.DataFrame
    model: object
    notes: list[str] = field(default_factory=list)


def month_ends(end: dt.date, months: int) -> list[dt.date]:
    """The ``months`` month ends up to ``end`` (``end`` itself last when it is a month end)."""
    stamps = pd.date_range(end=pd.Timestamp(end), periods=months, freq="ME")
    if stamps[-1] > pd.Timestamp(end):
        stamps = pd.date_range(end=pd.Timestamp(end), periods=months + 1, freq="ME")[:-1]
    return [s.date() for s in stamps]


def _first_activity(con: BaseBackend) -> dt.date | None:
    opps = con.table("opportunities")
    value = opps.created_date.min().execute()
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _snapshots(con: BaseBackend, end: dt.date, months: int | None) -> list[dt.date]:
    first = _first_activity(con)
    if first is None:
        raise DataValidationError("the store holds no opportunities")
    if months is None:
        months = (end.year - first.year) * 12 + end.month - first.month + 1
    return [d for d in month_ends(end, max(months, 1)) if d >= first]


def win_probability_backtest(
    con: BaseBackend,
    as_of: dt.date,
    *,
    cutoff: dt.date,
    months: int | None = None,
    model: WinProbabilityModel | None = None,
    history: pd.DataFrame | None = None,
    types: Sequence[str] | None = None,
) -> Backtest:
    """Train on deals closed by ``cutoff`` (snapshots before it), test on the deals open on the
    snapshot dates from ``cutoff`` to ``as_of`` whose outcome is known on ``as_of``.

    ``months`` limits the snapshots to the last months before ``as_of`` (default: all history);
    ``history`` reuses a frame of :func:`tillage.features.deals.deal_history`; ``types`` keeps
    only deals of those types (e.g. leave out new business whose attempts repeat until won).
    """
    if history is None:
        history = deal_history(con, _snapshots(con, as_of, months))
    if types is not None:
        history = history[history["type"].isin(list(types))]
    dates = pd.to_datetime(history["as_of"])
    cut = pd.Timestamp(dates[dates >= pd.Timestamp(cutoff)].min())
    train, test = time_split(history, cut)
    model = (model or WinProbabilityModel()).fit(train)
    predictions = test.assign(
        win_probability=model.predict_proba(test), stage_rate=model.predict_stage_rate(test)
    )
    y, w = test["label_won"].to_numpy(float), test["weight"].to_numpy(float)
    metrics = compare_probabilities(
        y,
        {"model": predictions["win_probability"], "stage_rate": predictions["stage_rate"]},
        weights=w,
    )
    table = reliability_table(predictions["win_probability"], y, weights=w)
    notes = list(model.notes_)
    notes.append(
        f"train: {train['opportunity_id'].nunique():,} deals closed by {cut.date()}; "
        f"test: {test['opportunity_id'].nunique():,} deals open from {cut.date()} to {as_of}"
    )
    return Backtest(metrics, table, predictions, model, notes)


def score_open_deals(
    con: BaseBackend,
    as_of: dt.date,
    *,
    months: int | None = None,
    model: WinProbabilityModel | None = None,
    history: pd.DataFrame | None = None,
    types: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, WinProbabilityModel]:
    """The deals open on ``as_of`` with ``win_probability`` and ``stage_rate``, from a model
    trained on every deal closed by ``as_of`` (snapshots before it)."""
    if history is None:
        dates = [*_snapshots(con, as_of, months), as_of]
        history = deal_history(con, dates)
    if types is not None:
        history = history[history["type"].isin(list(types))]
    history = history.drop_duplicates(["opportunity_id", "as_of"])
    dates = pd.to_datetime(history["as_of"])
    close = pd.to_datetime(history["close_date"])
    known = history["label_won"].notna()
    train = history[(dates < pd.Timestamp(as_of)) & known & (close <= pd.Timestamp(as_of))].copy()
    train["weight"] = deal_weights(train)
    model = (model or WinProbabilityModel()).fit(train)
    current = history[dates == pd.Timestamp(as_of)]
    out = current.assign(
        win_probability=model.predict_proba(current),
        stage_rate=model.predict_stage_rate(current),
    )
    return out.set_index("opportunity_id", drop=False).rename_axis("id"), model


def _quarters(end: dt.date, count: int) -> list[dt.date]:
    return [d for i, d in enumerate(reversed(month_ends(end, 3 * count))) if i % 3 == 0][::-1]


def expansion_backtest(
    con: BaseBackend,
    as_of: dt.date,
    *,
    horizon_days: int = 180,
    train_dates: int = 6,
    model: ExpansionModel | None = None,
) -> Backtest:
    """Fit on quarterly as-of dates whose horizon ended before the test date, test on the last
    date whose horizon ends by ``as_of``: propensity vs the base rate, value vs what was won."""
    test_date = month_ends(as_of - dt.timedelta(days=horizon_days), 1)[0]
    dates = [
        d
        for d in _quarters(test_date - dt.timedelta(days=horizon_days), train_dates)
        if d + dt.timedelta(days=horizon_days) <= test_date
    ]
    *frames, test = expansion_frames(con, [*dates, test_date], horizon_days=horizon_days)
    train = pd.concat(frames, ignore_index=True)
    model = (model or ExpansionModel()).fit(train)
    pred = model.predict(test)
    y = test["label_expansion"].to_numpy(float)
    metrics = compare_probabilities(
        y,
        {
            "model": pred["expansion_probability"],
            "base_rate": np.full(len(test), model.base_rate_),
            "past_expansion": _past_rate(train, test),
        },
    )
    actual = test["label_expansion_amount"].to_numpy(float)
    metrics["predicted_value"] = np.nan
    metrics.loc["model", "predicted_value"] = float(pred["expected_value"].sum())
    metrics["actual_value"] = float(actual.sum())
    table = reliability_table(pred["expansion_probability"], y)
    predictions = pd.concat([test, pred], axis=1)
    notes = [
        *model.notes_,
        f"train: {len(dates)} as-of dates {dates[0]} … {dates[-1]}; test as of {test_date}, "
        f"horizon {horizon_days} days",
    ]
    return Backtest(metrics, table, predictions, model, notes)


def _past_rate(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Baseline: accounts that won an expansion before have the training rate of such accounts."""
    before = lambda f: (f["won_upsell_count"] + f["won_cross_sell_count"]) > 0  # noqa: E731
    rates = train.groupby(before(train))["label_expansion"].mean()
    return before(test).map(rates).fillna(train["label_expansion"].mean()).to_numpy(float)


def score_expansion(
    con: BaseBackend,
    as_of: dt.date,
    *,
    horizon_days: int = 180,
    train_dates: int = 6,
    model: ExpansionModel | None = None,
    features: FeatureTables | None = None,
) -> tuple[pd.DataFrame, ExpansionModel]:
    """Every account's expansion propensity, expected amount and value over the horizon after
    ``as_of``, from a model fitted on the quarterly dates whose horizon ended by ``as_of``.
    One query, compiled once, gives the frames of every date (:func:`expansion_frames`); the
    current frame's labels (what is won after ``as_of``) are dropped unread. ``features``: the
    account feature tables already computed, by date."""
    dates = _quarters(as_of - dt.timedelta(days=horizon_days), train_dates)
    *frames, current = expansion_frames(
        con, [*dates, as_of], horizon_days=horizon_days, features=features
    )
    train = pd.concat(frames, ignore_index=True)
    model = (model or ExpansionModel()).fit(train)
    current = current.drop(columns=[c for c in current.columns if c.startswith("label_")])
    out = pd.concat([current[["account_id"]], model.predict(current)], axis=1)
    return out, model


#: A product with a successor and no sale in this many days before the as-of date is
#: discontinued: suggestions offer its successor instead.
DISCONTINUED_DAYS = 365


def discontinued_products(
    products: pd.DataFrame, sold: pd.Series, as_of: dt.date, days: int = DISCONTINUED_DAYS
) -> pd.Series:
    """Per product of ``products``: True when it has a successor and was not sold (``sold``:
    product id → last sale, :func:`~tillage.features.deals.last_sold`) in the ``days`` before
    ``as_of``."""
    if products.empty or sold.empty:  # nothing sold (a store without orders): none is recent
        last = pd.Series(pd.NaT, index=products.index, dtype="datetime64[ns]")
    else:
        last = pd.to_datetime(products["product_id"].map(sold))
    recent = last >= pd.Timestamp(as_of - dt.timedelta(days=days))
    return (products["successor_id"].notna() & ~recent.fillna(False).astype(bool)).rename(
        "discontinued"
    )


def suggest_products(
    con: BaseBackend, as_of: dt.date, *, model: ProductSuggestions | None = None
) -> tuple[pd.DataFrame, ProductSuggestions]:
    """Suggestions for every account from its purchases up to ``as_of``; a discontinued product
    (:func:`discontinued_products`) is replaced by its successor or dropped."""
    bought = purchases(con, as_of)
    products = products_frame(con)
    sold = last_sold(con, as_of)
    products["discontinued"] = discontinued_products(products, sold, as_of).to_numpy()
    model = (model or ProductSuggestions()).fit(bought, products=products)
    return model.suggest(bought), model
