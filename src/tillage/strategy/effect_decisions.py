"""The learned effects' renewal decisions read on the feature engine.

:func:`~tillage.strategy.effects.renewal_decisions` pairs every decision with every activity of
its account in pandas: on 100,000 accounts that is millions of activities held as Python objects
and tens of millions of pairs. :func:`engine_decisions` gives the same frame with the activity
columns counted where the data lives (DuckDB, PostgreSQL or Spark): only the distinct activity
subjects come to Python, to be tagged by the playbooks' words exactly as
:func:`~tillage.strategy.effects.tag_activities` tags each activity, and only the counts per
decision come back. The decisions themselves (a few per account) are built by the same pandas
code, :func:`~tillage.strategy.effects.decision_rows`.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.features._common import day
from tillage.features.columns import FEATURE_COLUMNS
from tillage.features.engine import execute_arrow
from tillage.strategy.config import Strategy
from tillage.strategy.effects import (
    ENGAGEMENT_DAYS,
    ActionEffect,
    decision_rows,
    learnable,
    learned_effects,
    tag_activities,
    with_activity_columns,
)

__all__ = ["CONTRACT_COLUMNS", "engine_contracts", "engine_decisions", "engine_effects"]

#: The contract columns the decisions read (all of them among those the feature engine loads).
CONTRACT_COLUMNS = list(FEATURE_COLUMNS["contracts"])


def engine_contracts(con: BaseBackend, as_of: dt.date) -> pd.DataFrame:
    """The contracts that started by ``as_of``, in id order (the store's row order)."""
    table = con.table("contracts")
    expr = table.filter(table.start_date <= day(as_of)).select(*CONTRACT_COLUMNS).order_by("id")
    return execute_arrow(con, expr).to_pandas()


def _tags(con: BaseBackend, strategy: Strategy) -> ibis.Table:
    """Each distinct activity subject that carries a playbook action, with the action."""
    acts = con.table("activities")
    subjects = execute_arrow(con, acts.select("subject").distinct()).to_pandas()
    subjects["action"] = tag_activities(subjects, strategy.playbooks)
    tagged = subjects.loc[subjects["action"].notna(), ["subject", "action"]]
    return ibis.memtable(
        tagged.reset_index(drop=True), schema={"subject": "string", "action": "string"}
    )


def engine_decisions(
    con: BaseBackend, contracts: pd.DataFrame, as_of: dt.date, strategy: Strategy
) -> pd.DataFrame:
    """:func:`~tillage.strategy.effects.renewal_decisions` of ``contracts`` and the activities
    of ``con`` (see the module docstring): the same rows, columns and values."""
    rows = decision_rows(contracts, pd.Timestamp(as_of))
    decided = pd.to_datetime(rows["decided_on"])
    window = pd.Timedelta(days=strategy.effects.window_days)
    bounds = pd.DataFrame(
        {
            "d_account": rows["account_id"].to_numpy(dtype="int64"),
            "d_contract": rows["contract_id"].to_numpy(dtype="int64"),
            "d_on": decided.to_numpy(),
            "d_engaged": (decided - pd.Timedelta(days=ENGAGEMENT_DAYS)).to_numpy(),
            "d_window": np.maximum(decided - window, pd.to_datetime(rows["start"])).to_numpy(),
        }
    )
    d = ibis.memtable(
        bounds,
        schema={
            "d_account": "int64",
            "d_contract": "int64",
            "d_on": "timestamp",
            "d_engaged": "timestamp",
            "d_window": "timestamp",
        },
    )
    acts = con.table("activities")
    tags = _tags(con, strategy)
    acts = acts.select(a_account=acts.account_id, a_at=acts.occurred_at, a_subject=acts.subject)
    acts = acts.left_join(tags, acts.a_subject == tags.subject).select(
        "a_account", "a_at", "action"
    )
    pairs = d.inner_join(acts, (d.d_account == acts.a_account) & (acts.a_at < d.d_on))
    engaged = pairs.filter((pairs.a_at >= pairs.d_engaged) & pairs.action.isnull())
    engaged = engaged.group_by("d_contract").aggregate(n=engaged.count())
    taken = pairs.filter((pairs.a_at >= pairs.d_window) & pairs.action.notnull())
    taken = taken.select("d_contract", "action").distinct()
    counts = execute_arrow(con, engaged).to_pandas()
    other = pd.Series(
        counts["n"].to_numpy(dtype="int64"), index=counts["d_contract"].to_numpy(dtype="int64")
    )
    hit = execute_arrow(con, taken).to_pandas()
    hits = {
        a: set(hit.loc[hit["action"] == a, "d_contract"].astype("int64"))
        for a in learnable(strategy)
    }
    return with_activity_columns(rows, other, hits)


def engine_effects(
    con: BaseBackend, as_of: dt.date, strategy: Strategy, *, level: float | None = None
) -> dict[str, ActionEffect]:
    """Each playbook's learned (or assumed) effect up to ``as_of`` from the contracts and
    activities of ``con``: :func:`~tillage.services.effects.company_effects` without reading the
    activities into Python."""
    contracts = engine_contracts(con, as_of)
    decisions = None if contracts.empty else engine_decisions(con, contracts, as_of, strategy)
    return learned_effects(
        contracts,
        pd.DataFrame(),
        pd.Timestamp(as_of),
        strategy,
        level=level or strategy.kpi.confidence_level,
        decisions=decisions,
    )
