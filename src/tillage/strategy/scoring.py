"""The scoring run: account summary → AccountLTV (with interval and churn risk) → zones; then
signals with the organisational risk (key-person dependency, silent churn), expansion, open
deals → priority and portfolio → account plans → one snapshot.

The run itself (read the store as of a date, score every account, write one immutable snapshot)
is :func:`tillage.services.scoring.run_scoring`; the later stages live in
:mod:`~tillage.strategy.inputs`,
:mod:`~tillage.strategy.ranking` and :mod:`~tillage.strategy.plans`. :class:`NaiveLTV` (last
year's revenue × margin × a population retention) is kept as the baseline the backtest compares
against, and is the fallback when the history holds neither renewals nor repeat purchases.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.errors import ConvergenceError, DataValidationError
from tillage.features.account_summary import account_summary
from tillage.features.build import FeatureTables
from tillage.features.columns import EFFECT_COLUMNS, STORE_COLUMNS, VALUE_COLUMNS
from tillage.features.won_deals import won_deals_as_orders
from tillage.models.account_ltv import AccountLTV
from tillage.models.baseline import NaiveLTV
from tillage.strategy.config import Strategy
from tillage.strategy.revenue_forecast import forecast_revenue
from tillage.strategy.value import account_values, ltv_model, value_prospects
from tillage.strategy.zones import assign_zones

#: Bootstrap draws of the scoring run's LTV intervals (enough for 5 % / 95 % quantiles).
SCORING_DRAWS = 100


def score_values(
    con: BaseBackend,
    as_of: dt.date,
    *,
    model: AccountLTV | None = None,
    strategy: Strategy | None = None,
    revenue_source: dict[str, object] | None = None,
    features: FeatureTables | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Per-account scores as of ``as_of`` on an open feature backend (one with
    :data:`VALUE_COLUMNS`): revenue_12m, tenure_months, ltv, ltv_low, ltv_high, churn_risk,
    p_alive, expected_revenue (next 12 months), zone (None for every account, and the record's
    ``zones`` saying why, where no account has a positive LTV); and the models' record for the
    snapshot.
    The LTV uses the strategy's horizon, discount rate and margins by product family;
    ``features`` are the feature tables already computed, by date.

    Where the strategy's ``revenue_from_won_deals`` says so, the won deals are the revenue on
    this backend from here on (:func:`~tillage.features.won_deals.won_deals_as_orders`, unless
    ``revenue_source``, its record, says that was done already); the record's
    ``revenue_source`` says which it was."""
    strategy = strategy or Strategy()
    source = revenue_source or won_deals_as_orders(con, strategy.revenue_from_won_deals)
    current = account_summary(con, as_of, features=features)
    prior = account_summary(con, as_of - dt.timedelta(days=365), features=features)
    try:
        values, fitted, inputs = account_values(
            con,
            as_of,
            model=model or ltv_model(strategy, n_draws=SCORING_DRAWS),
            features=features,
        )
        values, chosen = forecast_revenue(con, as_of, fitted, values, inputs, features=features)
        values = value_prospects(values, source)
        if source["source"] == "won_deals":  # how many accounts had not won a deal yet
            source = {**source, "prospects": int((values["ltv_source"] == "prospect").sum())}
    except (ConvergenceError, DataValidationError) as exc:
        values, failure = None, str(exc)
    frame = current.merge(
        prior[["account_id", "revenue_12m"]].rename(columns={"revenue_12m": "revenue_prior_12m"}),
        on="account_id",
        how="left",
    )
    frame["revenue_prior_12m"] = frame["revenue_prior_12m"].fillna(0.0)
    record: dict = {"revenue_source": source}
    try:
        naive = NaiveLTV().fit(frame)
        frame["ltv_naive"] = naive.predict(frame)
        record["baseline"] = {"model": "NaiveLTV", "params": naive.params()}
    except DataValidationError as exc:  # young data: the account models still value it
        if values is None:
            raise DataValidationError(f"{failure}; and the baseline: {exc}") from exc
        frame["ltv_naive"] = np.nan
        record["baseline"] = {"model": "NaiveLTV", "not_fitted": str(exc)}
    if values is None:  # nothing to fit the account models on: the baseline is the value
        frame["ltv"] = frame["ltv_naive"]
        record["ltv"] = record["baseline"]
    else:
        columns = ["ltv", "ltv_low", "ltv_high", "churn_risk", "p_alive", "expected_revenue"]
        # accounts first seen after as_of are not valued (nor listed) as of then
        frame = frame[frame["account_id"].isin(values.index)]
        frame = frame.merge(values[columns], left_on="account_id", right_index=True, how="left")
        frame["ltv"] = frame["ltv"].fillna(0.0)
        record["ltv"] = {"model": "AccountLTV", "params": fitted.params()}
        record["forecast"] = chosen
    if (frame["ltv"].fillna(0.0) > 0).any():
        frame["zone"] = assign_zones(frame["ltv"])
    else:  # zones by rank on values that are all zero or blank would be noise
        frame["zone"] = None
        record["zones"] = {
            "code": "no_positive_ltv",
            "reason": "no account has a positive LTV: zones A/B/C are not drawn",
        }
    return frame, record


#: The organisational-risk columns the scoring run keeps (:func:`account_risk`): stored in the
#: snapshot, and ``single_threaded`` / ``silent`` put accounts in their playbooks' situations.
RISK_COLUMNS = ("key_person_risk", "single_threaded", "silent_churn", "silent", "signals")

#: The scoring run's steps, in order (``progress`` is called with each as it starts).
STEPS = ("values", "signals", "expansion", "deals", "ranking", "plans", "write")

#: Columns the scoring run reads: the value models', then signals, expansion, deals, suggestions
#: and the learned effects.
INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(
        dict.fromkeys(
            [
                *VALUE_COLUMNS.get(name, ()),
                *STORE_COLUMNS.get(name, ()),
                *EFFECT_COLUMNS.get(name, ()),
            ]
        )
    )
    for name in [*VALUE_COLUMNS, *STORE_COLUMNS]
}
