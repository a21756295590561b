"""Opportunity-level features as of a date, expansion labels and purchased products.

Three frames feed the deal models (:mod:`tillage.models.win_probability`,
:mod:`tillage.models.expansion`, :mod:`tillage.models.suggestions`):

:func:`deal_features`
    One row per opportunity *open* on ``as_of``: created on or before it and not closed on or
    before it (a deal the export shows closed later was still open then). Columns are documented
    in ``docs/deals.md``.
:func:`expansion_frame`
    The account feature table as of ``as_of`` with the expansion labels over the following
    ``horizon_days`` (read from rows dated after ``as_of`` on purpose; never features).
:func:`purchases`
    ``(account_id, product_id)`` pairs an account bought on or before ``as_of``: order lines and
    won deals (won upsell/cross-sell deals need not create order or contract rows).

**No peeking.** A CRM row shows the deal's *current* stage and probability, not the ones it had on
a past date, and its close date is the actual one for a closed deal. So the stage on ``as_of`` is
derived from dates known then: the deal's age divided by the mean sales cycle of deals of the same
type closed on or before ``as_of`` (over all types when a type has none; 90 days when nothing has
closed yet), cut at quarters into stages 1–4 (``stage_as_of``; 4 also holds deals older than the
typical cycle). The CRM's own probability is kept as ``crm_probability`` only for deals that are
still open in the store, where it is the value as of the export; a model must not train on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable

import ibis
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import AsOf, as_date, as_of_date, day, days_between, money
from tillage.features.build import FeatureTables, features_expr, normalise
from tillage.features.dated import DatedQuery
from tillage.features.engine import execute_arrow
from tillage.features.held import run_held

__all__ = [
    "ACCOUNT_COLUMNS",
    "DEAL_COLUMNS",
    "EXPANSION_TYPES",
    "deal_features",
    "deal_features_expr",
    "deal_history",
    "expansion_frame",
    "expansion_frames",
    "expansion_labels",
    "last_sold",
    "products_frame",
    "purchases",
]

EXPANSION_TYPES = ("upsell", "cross_sell")
DEFAULT_CYCLE_DAYS = 90.0
ENGAGEMENT_DAYS = 90

#: Account features (``docs/features.md``) joined onto every deal.
ACCOUNT_COLUMNS = (
    "tenure_months",
    "mrr",
    "revenue_365d",
    "orders_365d",
    "active_contracts",
    "days_to_next_renewal",
    "activities_90d",
    "days_since_last_meeting",
    "distinct_contacts_180d",
    "distinct_reps_180d",
    "open_tickets",
    "tickets_unresolved_30d",
    "satisfaction_avg",
    "nps_latest",
    "usage_active_users_trend",
    "usage_logins_trend",
    "won_upsell_count",
    "lost_upsell_count",
    "won_cross_sell_count",
    "lost_cross_sell_count",
)

#: The deal's own columns, in output order (then :data:`ACCOUNT_COLUMNS`, then the labels).
DEAL_COLUMNS = (
    "opportunity_id",
    "account_id",
    "as_of",
    "type",
    "product_id",
    "created_date",
    "age_days",
    "cycle_days",
    "stage_as_of",
    "amount",
    "log_amount",
    "amount_vs_account",
    "competitor",
    "activities_before_created",
    "prior_won_same_type",
    "prior_lost_same_type",
    "log_employees",
    "crm_probability",
)
LABEL_COLUMNS = ("label_closed", "label_won", "close_date")


def _mean_cycles(opps: Table, as_of: AsOf) -> tuple[Table, Table]:
    closed = opps.filter(
        opps.is_closed & opps.close_date.notnull() & (opps.close_date <= day(as_of))
    )
    cycle = days_between(closed.close_date, closed.created_date)
    by_type = (
        closed.mutate(cycle=cycle).group_by("type").aggregate(type_cycle=lambda t: t.cycle.mean())
    )
    overall = closed.mutate(cycle=cycle).aggregate(all_cycle=lambda t: t.cycle.mean())
    return by_type, overall


def deal_features_expr(
    con: BaseBackend,
    as_of: AsOf | str,
    *,
    labels: bool = True,
    features: FeatureTables | None = None,
) -> Table:
    """The open deals on ``as_of`` with their features, as an ibis expression on ``con``
    (the account features from ``features`` where it holds the date). ``as_of`` may be the
    parameter of a query compiled once (:class:`~tillage.features.dated.DatedQuery`).

    With ``labels`` the final outcome in the store is added: ``label_closed`` (1 when the deal is
    closed in the store), ``label_won`` (1 won, 0 lost, null while open) and ``close_date``.
    """
    as_of = as_of_date(as_of)
    opps = con.table("opportunities")
    known = opps.filter(opps.created_date <= day(as_of))
    closed_then = known.is_closed & known.close_date.notnull() & (known.close_date <= day(as_of))
    open_ = known.filter(~closed_then)

    by_type, overall = _mean_cycles(opps, as_of)
    deals = open_.left_join(by_type, open_.type == by_type.type).drop("type_right")
    deals = deals.cross_join(overall)
    cycle = deals.type_cycle.coalesce(deals.all_cycle, ibis.literal(DEFAULT_CYCLE_DAYS))
    cycle = ibis.greatest(cycle, ibis.literal(1.0))
    age = days_between(day(as_of), deals.created_date)
    quarter = (age / cycle * 4.0).floor().cast("int64")
    stage = ibis.least(ibis.greatest(quarter, ibis.literal(0)), ibis.literal(3)) + 1
    amount = money(deals.amount).fill_null(0.0)
    deals = deals.mutate(
        age_days=age,
        cycle_days=cycle,
        stage_as_of=stage,
        amount_value=amount,
        competitor_flag=ibis.ifelse(
            deals.competitor.notnull() & (deals.competitor != ""), 1.0, 0.0
        ),
    )

    # activities of the account in the days before the deal was created
    acts = con.table("activities")
    acts = acts.filter(acts.occurred_at < day(as_of + dt.timedelta(days=1)))
    acts = acts.select(act_account="account_id", act_day=acts.occurred_at.date())
    ids = deals.select(deal_id="id", deal_account="account_id", deal_created="created_date")
    window = ids.inner_join(
        acts,
        (ids.deal_account == acts.act_account)
        & (acts.act_day <= ids.deal_created)
        & (acts.act_day > ids.deal_created - ibis.interval(days=ENGAGEMENT_DAYS)),
    )
    engaged = window.group_by("deal_id").aggregate(n_acts=lambda t: t.count())

    # the account's earlier outcomes of the same type, closed on or before as_of
    prior = known.filter(closed_then).select(
        p_account="account_id", p_type="type", p_won=known.is_won
    )
    outcomes = prior.group_by(["p_account", "p_type"]).aggregate(
        p_won_n=lambda t: ibis.ifelse(t.p_won, 1, 0).sum(),
        p_lost_n=lambda t: ibis.ifelse(t.p_won, 0, 1).sum(),
    )

    accounts = con.table("accounts").select(acc_id="id", employees="employees")
    deals = deals.left_join(engaged, deals.id == engaged.deal_id)
    deals = deals.left_join(
        outcomes, (deals.account_id == outcomes.p_account) & (deals.type == outcomes.p_type)
    )
    deals = deals.left_join(accounts, deals.account_id == accounts.acc_id)

    account = features_expr(con, as_of, tables=features).select("account_id", *ACCOUNT_COLUMNS)
    account = account.rename(acct_id="account_id")
    deals = deals.left_join(account, deals.account_id == account.acct_id)
    history = (account.mrr * 12.0).fill_null(0.0) + account.revenue_365d.fill_null(0.0)
    log_amount = (deals.amount_value + 1.0).ln()
    columns = {
        "opportunity_id": deals.id,
        "account_id": deals.account_id,
        "as_of": day(as_of),
        "type": deals.type,
        "product_id": deals.product_id,
        "created_date": deals.created_date,
        "age_days": deals.age_days,
        "cycle_days": deals.cycle_days,
        "stage_as_of": deals.stage_as_of,
        "amount": deals.amount_value,
        "log_amount": log_amount,
        "amount_vs_account": log_amount - (history + 1.0).ln(),
        "competitor": deals.competitor_flag,
        "activities_before_created": deals.n_acts.fill_null(0).cast("float64"),
        "prior_won_same_type": deals.p_won_n.fill_null(0).cast("float64"),
        "prior_lost_same_type": deals.p_lost_n.fill_null(0).cast("float64"),
        "log_employees": ibis.ifelse(
            deals.employees > 0, deals.employees.cast("float64").ln(), None
        ),
        "crm_probability": ibis.ifelse(deals.is_closed, None, deals.probability.cast("float64")),
    }
    for name in ACCOUNT_COLUMNS:
        columns[name] = deals[name]
    if labels:
        columns["label_closed"] = ibis.ifelse(deals.is_closed, 1.0, 0.0)
        columns["label_won"] = ibis.ifelse(
            deals.is_closed, ibis.ifelse(deals.is_won, 1.0, 0.0), None
        )
        columns["close_date"] = deals.close_date
    return deals.select(**columns).order_by("opportunity_id")


def deal_features(
    con: BaseBackend,
    as_of: dt.date | str,
    *,
    labels: bool = True,
    features: FeatureTables | None = None,
) -> pd.DataFrame:
    """:func:`deal_features_expr` executed: one row per open deal, indexed by opportunity id."""
    expr = deal_features_expr(con, as_of, labels=labels, features=features)
    frame = execute_arrow(con, expr).to_pandas()
    return _tidy(frame)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name in ("as_of", "created_date", "close_date"):
        if name in frame.columns:
            frame[name] = pd.to_datetime(frame[name])
    frame["type"] = frame["type"].astype(str)
    for name in ("opportunity_id", "account_id", "stage_as_of"):
        frame[name] = frame[name].astype("int64")
    frame["product_id"] = pd.to_numeric(frame["product_id"]).astype("Int64")
    skip = {"type", "as_of", "created_date", "close_date", "opportunity_id", "account_id"}
    skip |= {"stage_as_of", "product_id"}
    for name in frame.columns:
        if name not in skip:
            frame[name] = pd.to_numeric(frame[name], errors="raise").astype("float64")
    return frame.set_index("opportunity_id", drop=False).rename_axis("id")


def _by_date(
    con: BaseBackend,
    dates: list[dt.date],
    build: Callable[[AsOf, FeatureTables | None], Table],
    features: FeatureTables | None,
    recipe: Hashable,
) -> list[pa.Table]:
    """``build(as_of, tables)`` run on each of ``dates``, in their order: the dates whose
    feature table ``features`` holds read it (one query each: computing the account features
    again costs more than compiling a query on the larger stores), the others share one query
    compiled once (:class:`DatedQuery`; ``recipe`` names ``build`` and what it reads besides the
    date, so that the query is compiled once per process)."""
    held = [d for d in dates if features is not None and d in features]
    assert features is not None or not held
    out = {d: run_held(con, d, build, features, recipe) for d in held}  # type: ignore[arg-type]
    rest = [d for d in dates if d not in out]
    if rest:
        query = DatedQuery(con, lambda as_of: build(as_of, None), recipe=recipe)
        out.update({d: query.to_arrow(d) for d in rest})
    return [out[d] for d in dates]


def deal_history(
    con: BaseBackend,
    dates: list[dt.date] | pd.DatetimeIndex,
    *,
    labels: bool = True,
    features: FeatureTables | None = None,
) -> pd.DataFrame:
    """:func:`deal_features` on each of ``dates``, stacked (a deal appears once per date it
    was open on); indexed by position, with ``opportunity_id`` and ``as_of`` columns. The
    query is built and compiled once and run per date (:class:`DatedQuery`), except on the
    dates whose account features ``features`` holds."""
    tables = _by_date(
        con,
        [as_date(d) for d in dates],
        lambda as_of, held: deal_features_expr(con, as_of, labels=labels, features=held),
        features,
        ("deal_history", labels),
    )
    frames = [_tidy(t.to_pandas()) for t in tables if t.num_rows]
    if not frames:
        return _tidy(tables[0].to_pandas()).reset_index(drop=True)
    return pd.concat(frames, ignore_index=True)


def expansion_labels(con: BaseBackend, as_of: AsOf | str, horizon_days: int) -> Table:
    """Per account: upsell/cross-sell deals won with a close date in ``(as_of, as_of + horizon]``.

    ``label_expansion`` is 1 when there was at least one, ``label_expansion_amount`` their summed
    amount and ``label_expansion_deals`` their number.
    """
    as_of = as_of_date(as_of)
    end = as_of + dt.timedelta(days=horizon_days)
    opps = con.table("opportunities")
    won = opps.filter(
        opps.type.isin(EXPANSION_TYPES)
        & opps.is_closed
        & opps.is_won
        & (opps.close_date > day(as_of))
        & (opps.close_date <= day(end))
    )
    per = won.group_by("account_id").aggregate(
        label_expansion_amount=money(won.amount).fill_null(0.0).sum(),
        label_expansion_deals=won.count(),
    )
    accounts = con.table("accounts").select(account_id="id")
    out = accounts.left_join(per, "account_id").drop("account_id_right")
    return out.select(
        "account_id",
        label_expansion=ibis.ifelse(out.label_expansion_deals.fill_null(0) > 0, 1.0, 0.0),
        label_expansion_amount=out.label_expansion_amount.fill_null(0.0),
        label_expansion_deals=out.label_expansion_deals.fill_null(0).cast("int64"),
    )


def expansion_frame(
    con: BaseBackend,
    as_of: dt.date | str,
    *,
    horizon_days: int | None = None,
    features: FeatureTables | None = None,
) -> pd.DataFrame:
    """The account feature table as of ``as_of`` (from ``features`` where it holds the date)
    plus ``log_employees``; with ``horizon_days`` also the expansion labels of
    :func:`expansion_labels`. Indexed by account id."""
    as_of = as_date(as_of)
    expr = _expansion_expr(con, as_of, horizon_days, features)
    return _expansion_tidy(execute_arrow(con, expr), as_of)


def expansion_frames(
    con: BaseBackend,
    dates: list[dt.date],
    *,
    horizon_days: int,
    features: FeatureTables | None = None,
) -> list[pd.DataFrame]:
    """:func:`expansion_frame` with the labels of ``horizon_days`` on each of ``dates``, from
    one query built and compiled once (:class:`DatedQuery`), except on the dates whose account
    features ``features`` holds."""
    days = [as_date(d) for d in dates]
    tables = _by_date(
        con,
        days,
        lambda as_of, held: _expansion_expr(con, as_of, horizon_days, held),
        features,
        ("expansion_frames", horizon_days),
    )
    return [_expansion_tidy(t, d) for t, d in zip(tables, days, strict=True)]


def _expansion_expr(
    con: BaseBackend, as_of: AsOf, horizon_days: int | None, features: FeatureTables | None
) -> Table:
    expr = features_expr(con, as_of, tables=features)
    accounts = con.table("accounts").select(acc_id="id", employees="employees")
    expr = expr.left_join(accounts, expr.account_id == accounts.acc_id)
    expr = expr.mutate(
        log_employees=ibis.ifelse(expr.employees > 0, expr.employees.cast("float64").ln(), None)
    ).drop("acc_id", "employees")
    if horizon_days is not None:
        labels = expansion_labels(con, as_of, horizon_days)
        expr = expr.left_join(labels, "account_id").drop("account_id_right")
    return expr.order_by("account_id")


def _expansion_tidy(table: pa.Table, as_of: dt.date) -> pd.DataFrame:
    frame = normalise(table.to_pandas())
    frame.insert(1, "as_of", pd.Timestamp(as_of))
    return frame.set_index("account_id", drop=False).rename_axis("id")


def purchases(con: BaseBackend, as_of: dt.date | str) -> pd.DataFrame:
    """Distinct ``(account_id, product_id)`` bought on or before ``as_of``: order lines, won deals
    and contracts started by then; with the first date (``first_bought``)."""
    as_of = as_date(as_of)
    orders = con.table("orders")
    orders = orders.filter(orders.product_id.notnull() & (orders.order_date <= day(as_of)))
    opps = con.table("opportunities")
    won = opps.filter(
        opps.product_id.notnull()
        & opps.is_closed
        & opps.is_won
        & opps.close_date.notnull()
        & (opps.close_date <= day(as_of))
    )
    contracts = con.table("contracts")
    contracts = contracts.filter(
        contracts.product_id.notnull() & (contracts.start_date <= day(as_of))
    )
    # nullable dates throughout: PostgreSQL reports NOT NULL columns, and a union's schemas
    # must match to the nullability
    union = ibis.union(
        orders.select("account_id", "product_id", when=orders.order_date.cast("date")),
        won.select("account_id", "product_id", when=won.close_date.cast("date")),
        contracts.select("account_id", "product_id", when=contracts.start_date.cast("date")),
    )
    out = union.group_by(["account_id", "product_id"]).aggregate(first_bought=union.when.min())
    frame = execute_arrow(con, out.order_by(["account_id", "product_id"])).to_pandas()
    frame["account_id"] = frame["account_id"].astype("int64")
    frame["product_id"] = frame["product_id"].astype("int64")
    frame["first_bought"] = pd.to_datetime(frame["first_bought"])
    return frame


def last_sold(con: BaseBackend, as_of: dt.date | str) -> pd.Series:
    """Per product: the last day on or before ``as_of`` it was sold — an order line or a
    contract starting (a won deal is not counted on its own: the sale it leads to is) — as a
    Series of timestamps indexed by ``product_id``."""
    as_of = as_date(as_of)
    orders = con.table("orders")
    orders = orders.filter(orders.product_id.notnull() & (orders.order_date <= day(as_of)))
    contracts = con.table("contracts")
    contracts = contracts.filter(
        contracts.product_id.notnull() & (contracts.start_date <= day(as_of))
    )
    union = ibis.union(
        orders.select("product_id", when=orders.order_date.cast("date")),
        contracts.select("product_id", when=contracts.start_date.cast("date")),
    )
    out = union.group_by("product_id").aggregate(last_sold=union.when.max())
    frame = execute_arrow(con, out.order_by("product_id")).to_pandas()
    return pd.Series(
        pd.to_datetime(frame["last_sold"]).to_numpy(),
        index=frame["product_id"].astype("int64").to_numpy(),
        name="last_sold",
    )


def products_frame(con: BaseBackend) -> pd.DataFrame:
    """The products table: ``product_id``, ``name``, ``family``, ``successor_id``."""
    products = con.table("products")
    expr = products.select(
        product_id="id", name="name", family="family", successor_id="successor_id"
    ).order_by("product_id")
    frame = execute_arrow(con, expr).to_pandas()
    frame["product_id"] = frame["product_id"].astype("int64")
    frame["successor_id"] = pd.to_numeric(frame["successor_id"]).astype("Int64")
    return frame.set_index("product_id", drop=False).rename_axis("id")
