"""The KPI "contact within cadence": the share of accounts whose last contact of the kind their
portfolio cell asks for (the strategy file's ``[cadence.<cell>]``) lies within the cell's
interval, measured on the period's last day.

The caller hands in the cadence of each account (:func:`account_cadence`: the newest
snapshot's cell → the strategy's cadence; accounts of a cell without a cadence, or with no
positive LTV, are not counted). An account keeps its cadence when an activity that satisfies
it (``any``: every activity; ``meeting``: a meeting, visit or QBR; otherwise that exact type)
occurred on one of the ``every_days`` days up to and including the period's last day.
"""

from __future__ import annotations

import ibis
import pandas as pd
from ibis.expr.types import Table

from tillage.features._common import end_of
from tillage.features.engagement import MEETING_TYPES
from tillage.kpi.period import Period
from tillage.kpi.registry import KPI, KpiContext, rows
from tillage.strategy.config import Strategy

CADENCE_COLUMNS = ("account_id", "activity", "every_days")


def account_cadence(cells: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Each account's cadence (:data:`CADENCE_COLUMNS`) from ``cells`` (``account_id``,
    ``segment`` — the portfolio cell — and ``ltv``): accounts with a positive LTV in a cell the
    strategy gives a cadence. Typed even when empty (no such account): an empty column of
    activities would otherwise be float64 and the cadence query could not compare it with a
    kind of contact."""
    known = cells[cells["segment"].isin(list(strategy.cadence)) & (cells["ltv"].astype(float) > 0)]
    return pd.DataFrame(
        {
            "account_id": known["account_id"].astype("int64").to_numpy(),
            "activity": pd.Series(
                [strategy.cadence[c].activity for c in known["segment"]], dtype="string"
            ),
            "every_days": pd.Series(
                [int(strategy.cadence[c].every_days) for c in known["segment"]], dtype="int64"
            ),
        }
    )


def cadence_window(cadence: pd.DataFrame, period: Period) -> pd.DataFrame:
    """``cadence`` with ``since``: the first instant that counts (midnight starting the first of
    the ``every_days`` days that end with the period's last day)."""
    close = pd.Timestamp(period.close)
    return cadence.assign(since=close - pd.to_timedelta(cadence["every_days"], unit="D"))


def contact_within_cadence(ctx: KpiContext) -> Table:
    if ctx.cadence is None:
        accounts = ctx.table("accounts")
        none = accounts.select(account_id=accounts.id).limit(0)
        return rows(none, ibis.literal(0.0), 0.0)
    cad = ctx.cadence
    acts = ctx.table("activities")
    fits = (
        (cad.activity == "any")
        | ((cad.activity == "meeting") & acts.type.isin(MEETING_TYPES))
        | (acts.type == cad.activity)
    )
    inside = (acts.occurred_at >= cad.since) & (acts.occurred_at < end_of(ctx.period.last))
    kept = cad.inner_join(acts, (cad.account_id == acts.account_id) & fits & inside)
    kept = kept.select(kept_id=cad.account_id).distinct()
    joined = cad.left_join(kept, cad.account_id == kept.kept_id)
    return rows(joined, ibis.ifelse(joined.kept_id.notnull(), 1.0, 0.0), 1.0)


CADENCE_KPIS: tuple[KPI, ...] = (
    KPI(
        "contact_within_cadence",
        "接触頻度の達成率",
        "Contact within cadence",
        "behaviour",
        "percent",
        "higher",
        "Accounts whose cell has a cadence (strategy [cadence]) with a contact of the cadence's "
        "kind in its every_days days up to the last day / those accounts.",
        contact_within_cadence,
        scale=100.0,
        needs=("activities",),
    ),
)
