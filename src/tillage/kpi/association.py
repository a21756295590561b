"""Behaviour to outcome: retention of priority accounts that met regularly against those that
did not, with confidence intervals — an association, not proof of an effect.

Population: the priority accounts of the snapshot at the period's start (the top
``priority_share`` of its scored accounts by ``priority``, by ``ltv`` when it has no priority)
that are in the period's start cohort (MRR on the first day). Exposure, measured *before* the
outcome so that leaving accounts' silence during the period cannot create the difference: a
meeting, visit or QBR in the ``meeting_days`` days before the period's first day (the
regular-meeting rate of the previous period). Outcome: retained = MRR at the period's close (the
logo churn rate's cohort). Each group's retention has a Wilson interval and their difference
Newcombe's interval (:mod:`tillage.kpi.accuracy`).
"""

from __future__ import annotations

import math

import pandas as pd
from pydantic import BaseModel

from tillage.kpi.accuracy import Proportion, newcombe, wilson


class MeetingRetention(BaseModel):
    """Retention (fractions) with and without regular meetings, and the difference."""

    ranked_by: str
    priority_accounts: int
    meeting_days: int
    level: float
    with_meetings: Proportion
    without_meetings: Proportion
    difference: float | None
    difference_low: float | None
    difference_high: float | None
    warning: str


def priority_accounts(scores: pd.DataFrame, share: float) -> tuple[list[int], str]:
    """The top ``ceil(share × n)`` scored accounts by priority (by LTV without priorities) and
    the column ranked by."""
    column = "priority" if scores["priority"].notna().any() else "ltv"
    ranked = scores[scores[column].notna()].sort_values(
        [column, "account_id"], ascending=[False, True]
    )
    count = math.ceil(share * len(scores))
    return ranked["account_id"].astype(int).head(count).tolist(), column


def meeting_retention(
    cohort: pd.DataFrame,
    met: pd.DataFrame,
    *,
    ranked_by: str,
    priority_count: int,
    meeting_days: int,
    level: float,
    warning: str,
) -> MeetingRetention:
    """``cohort``: the priority accounts of the start cohort with ``churned`` (1/0); ``met``:
    ``account_id``, ``met`` (1/0, the exposure)."""
    rows = cohort.merge(met, on="account_id", how="left")
    rows["met"] = rows["met"].fillna(0.0) > 0
    retained = rows["churned"] == 0
    with_m = wilson(int((retained & rows["met"]).sum()), int(rows["met"].sum()), level)
    without = wilson(int((retained & ~rows["met"]).sum()), int((~rows["met"]).sum()), level)
    d, low, high = newcombe(with_m, without)
    return MeetingRetention(
        ranked_by=ranked_by,
        priority_accounts=priority_count,
        meeting_days=meeting_days,
        level=level,
        with_meetings=with_m,
        without_meetings=without,
        difference=d,
        difference_low=low,
        difference_high=high,
        warning=warning,
    )
