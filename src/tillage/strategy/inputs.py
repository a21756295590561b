"""What the scoring run reads besides the account value: signals, expansion, open deals.

:func:`account_signals` — per account as of a date, from the feature table
(``docs/features.md``): the owner rep, ``days_to_next_renewal`` (days), ``days_since_last_meeting``
(days), ``usage_trend`` (the relative change of active users, last 90 days against the 90 before),
``open_with_competitor`` (count) and ``open_pipeline_with_competitor`` (currency); and the urgency
evidence of :mod:`tillage.features.evidence`: ``days_to_undecided_renewal`` (days to the next
renewal without a successor on file), ``renewals_on_file`` (count), ``nps_score`` / ``nps_date``
(the latest answer within ``priority.lookback_days``) and ``severe_tickets`` (the open tickets
of ``priority.severe_ticket_severity`` or worse, oldest first, as ``{"ticket", "severity",
"age_days"}``).

:func:`expansion_values` — :func:`tillage.strategy.deals.score_expansion` fitted on
:data:`EXPANSION_DATES` quarterly as-of dates: ``expected_expansion_value`` (currency, over the
next ``horizon_days``) and ``expansion_probability``.

:func:`open_deals` — the deals open on the date with their calibrated win probability
(:func:`tillage.strategy.deals.score_open_deals`, trained on :data:`DEAL_MONTHS` month-end
snapshots) and an interval for it: a stage's rate rests on the ``n`` deals (weighted, each deal
once) seen in that stage plus the model's ``prior_strength`` pseudo-deals, so the estimate is
read as having the binomial standard error σ = √(p (1 − p) / (n + prior_strength)), and
``win_probability_low`` / ``_high`` = p ∓ z σ at the portfolio's ``interval_level`` (clipped to
0..1). The zones come from :func:`tillage.strategy.portfolio.deal_zones`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.errors import ConvergenceError, DataValidationError
from tillage.features.build import FeatureTables, features_expr
from tillage.features.deals import deal_history
from tillage.features.engine import execute_arrow
from tillage.features.evidence import latest_nps, open_severe_tickets, renewal_status
from tillage.models.special import central_z
from tillage.models.win_probability import deal_weights
from tillage.strategy.config import Strategy
from tillage.strategy.deals import month_ends, score_expansion, score_open_deals, suggest_products
from tillage.strategy.portfolio import deal_zones

#: Month-end snapshots the scoring run trains the win-probability model on.
DEAL_MONTHS = 6
#: Quarterly as-of dates the scoring run fits the expansion model on.
EXPANSION_DATES = 3
#: Horizon of the expected expansion value (days).
EXPANSION_HORIZON_DAYS = 180
#: Suggested products kept per account for expansion proposals.
PRODUCTS_PER_ACCOUNT = 3

DEAL_COLUMNS = [
    "opportunity_id",
    "account_id",
    "amount",
    "win_probability",
    "expected_value",
    "zone",
    "p_zone",
    "borderline",
]


def account_signals(
    con: BaseBackend,
    as_of: dt.date,
    strategy: Strategy | None = None,
    *,
    features: FeatureTables | None = None,
) -> pd.DataFrame:
    """One row per account: ``rep_id`` (the owner) and the signals of the module docstring.
    ``features``: the feature tables already computed, by date (here and below)."""
    settings = (strategy or Strategy()).priority
    features = features_expr(con, as_of, tables=features)
    accounts = con.table("accounts").select(acc="id", rep_id="owner_id")
    expr = features.left_join(accounts, features.account_id == accounts.acc).select(
        "account_id",
        "rep_id",
        "days_to_next_renewal",
        "days_since_last_meeting",
        "open_with_competitor",
        "open_pipeline_with_competitor",
        usage_trend=features.usage_active_users_trend,
    )
    frame = execute_arrow(con, expr.order_by("account_id")).to_pandas()
    frame["account_id"] = frame["account_id"].astype("int64")
    frame["rep_id"] = pd.to_numeric(frame["rep_id"]).astype("Int64")
    frame = frame.merge(renewal_status(con, as_of), on="account_id", how="left")
    frame["renewals_on_file"] = frame["renewals_on_file"].fillna(0).astype("int64")
    frame = frame.merge(latest_nps(con, as_of, settings.lookback_days), on="account_id", how="left")
    tickets = open_severe_tickets(con, as_of, settings.severe_ticket_severity)
    lists = {
        int(a): g[["ticket", "severity", "age_days"]].to_dict("records")
        for a, g in tickets.groupby("account_id", sort=False)
    }
    frame["severe_tickets"] = [lists.get(int(a), []) for a in frame["account_id"]]
    return frame


def expansion_values(
    con: BaseBackend, as_of: dt.date, *, features: FeatureTables | None = None
) -> tuple[pd.DataFrame, dict]:
    """Expected expansion value per account and the model's record (empty without data);
    ``features``: the account feature tables already computed, by date."""
    try:
        scored, model = score_expansion(
            con,
            as_of,
            horizon_days=EXPANSION_HORIZON_DAYS,
            train_dates=EXPANSION_DATES,
            features=features,
        )
    except (ConvergenceError, DataValidationError, ValueError) as exc:
        return pd.DataFrame(columns=["account_id", "expected_expansion_value"]), {
            "model": "ExpansionModel",
            "skipped": str(exc),
        }
    out = scored.rename(columns={"expected_value": "expected_expansion_value"})
    out = out[["account_id", "expansion_probability", "expected_expansion_value"]]
    record = {
        "model": "ExpansionModel",
        "params": model.get_params(),
        "base_rate": float(model.base_rate_),
        "horizon_days": EXPANSION_HORIZON_DAYS,
        "train_dates": EXPANSION_DATES,
        "notes": list(model.notes_),
    }
    return out.reset_index(drop=True), record


def open_deals(
    con: BaseBackend,
    as_of: dt.date,
    strategy: Strategy,
    *,
    features: FeatureTables | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The open deals with win probability, interval, expected value and zone; the record.

    Returns :data:`DEAL_COLUMNS` plus ``competitor`` (1 when the deal names one). ``features``:
    the account feature tables already computed, by date.
    """
    empty = pd.DataFrame(columns=[*DEAL_COLUMNS, "competitor"])
    dates = sorted({*month_ends(as_of, DEAL_MONTHS), as_of})
    history = deal_history(con, dates, features=features)
    if history.empty:
        return empty, {"model": "WinProbabilityModel", "skipped": "no open deals"}
    try:
        scored, model = score_open_deals(con, as_of, history=history)
    except (ConvergenceError, DataValidationError) as exc:
        return empty, {"model": "WinProbabilityModel", "skipped": str(exc)}
    if scored.empty:
        return empty, {"model": "WinProbabilityModel", "skipped": "no open deals"}
    past = history[
        (pd.to_datetime(history["as_of"]) < pd.Timestamp(as_of)) & history["label_won"].notna()
    ]
    n_stage = deal_weights(past).groupby(past["stage_as_of"].to_numpy()).sum()
    n = scored["stage_as_of"].map(n_stage).fillna(0.0).to_numpy(dtype=float)
    p = scored["win_probability"].to_numpy(dtype=float)
    sigma = np.sqrt(p * (1 - p) / (n + model.prior_strength))
    z = central_z(strategy.portfolio.interval_level)
    deals = pd.DataFrame(
        {
            "opportunity_id": scored["opportunity_id"].astype("int64").to_numpy(),
            "account_id": scored["account_id"].astype("int64").to_numpy(),
            "amount": scored["amount"].astype(float).to_numpy(),
            "win_probability": p,
            "win_probability_low": np.clip(p - z * sigma, 0, 1),
            "win_probability_high": np.clip(p + z * sigma, 0, 1),
            "competitor": scored["competitor"].astype(float).to_numpy(),
        }
    )
    deals["expected_value"] = deals["amount"] * deals["win_probability"]
    zones = deal_zones(deals, strategy)
    deals[["zone", "p_zone", "borderline"]] = zones[["zone", "p_zone", "borderline"]].to_numpy()
    deals["p_zone"] = deals["p_zone"].astype(float)
    deals["borderline"] = deals["borderline"].astype(bool)
    record = {
        "model": "WinProbabilityModel",
        "params": model.get_params(),
        "months": DEAL_MONTHS,
        "n_deals": float(model.n_deals_),
        "stage_rates": {str(k): float(v) for k, v in model.stage_rates_.items()},
        "size_threshold": float(zones.attrs["size_threshold"]),
        "probability_threshold": float(zones.attrs["probability_threshold"]),
        "notes": list(model.notes_),
    }
    return deals, record


def competitor_win_probability(deals: pd.DataFrame) -> pd.Series:
    """Per account: the amount-weighted win probability of its open deals naming a competitor
    (what the ``pipeline`` playbooks multiply the competitive pipeline by)."""
    rival = deals[deals["competitor"] > 0]
    if rival.empty:
        return pd.Series(dtype=float, name="win_probability")
    weighted = (rival["amount"] * rival["win_probability"]).groupby(rival["account_id"]).sum()
    total = rival.groupby("account_id")["amount"].sum()
    mean = rival.groupby("account_id")["win_probability"].mean()
    return (weighted / total.where(total > 0)).fillna(mean).rename("win_probability")


def product_suggestions(con: BaseBackend, as_of: dt.date) -> pd.Series:
    """Per account: up to :data:`PRODUCTS_PER_ACCOUNT` suggested products, best first, as
    ``[{"product_id", "name", "kind"}]`` (empty Series when nothing can be suggested)."""
    try:
        suggestions, model = suggest_products(con, as_of)
    except (DataValidationError, ValueError):
        return pd.Series(dtype=object)
    if suggestions.empty:
        return pd.Series(dtype=object)
    top = (
        suggestions.sort_values(["account_id", "score"], ascending=[True, False])
        .groupby("account_id", sort=False)
        .head(PRODUCTS_PER_ACCOUNT)
    )
    names = model.product_names_
    items: dict[int, list[dict[str, object]]] = {}
    for account, product, kind in zip(  # one pass over the rows, not a frame per account
        top["account_id"].tolist(), top["product_id"].tolist(), top["kind"].tolist(), strict=True
    ):
        p = int(product)
        items.setdefault(account, []).append(
            {"product_id": p, "name": str(names.get(p, f"#{p}")), "kind": str(kind)}
        )
    keys = sorted(items)
    index = pd.Index(keys, dtype=top["account_id"].dtype, name="account_id")
    return pd.Series([items[k] for k in keys], index=index, dtype=object)
