"""Plan execution: the actions a snapshot planned for the period's months against the
activities logged, by rep.

A planned action (account, rep, month) is **covered** when that rep logged at least one activity
(any type) with that account in that month (any rep when the action names none), or when it was
marked ``done`` from the plans or the account page; an action marked ``skipped`` (with a note
saying why) is not covered, whatever was logged. Per rep: planned actions and hours, covered
actions and ``coverage = covered / planned`` (%), the same for must-do actions, the actions
marked done and skipped, and the activities and hours (``duration_minutes / 60``) the rep logged
in the period on any account.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel


class RepExecution(BaseModel):
    """One rep's plan against what the rep logged; ``rep_id`` ``None`` is the company total."""

    rep_id: int | None
    rep: str
    team: str | None
    planned_actions: int
    planned_hours: float
    covered_actions: int
    coverage: float | None
    must_do: int
    must_do_covered: int
    activities: int
    activity_hours: float
    marked_done: int = 0
    skipped: int = 0


def _month(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.to_period("M")


def plan_execution(
    actions: pd.DataFrame, activities: pd.DataFrame, reps: pd.DataFrame, *, total_label: str
) -> list[RepExecution]:
    """Per rep (``reps``: ``rep_id``, ``rep``, ``team``) with a plan or an activity, then the
    company total labelled ``total_label``. ``actions`` may carry ``mark`` (``done``,
    ``skipped`` or empty: :func:`tillage.services.review_frames.planned_actions`)."""
    acts = activities.assign(
        month=_month(activities["occurred_at"]),
        hours=pd.to_numeric(activities["duration_minutes"], errors="coerce").fillna(0.0) / 60.0,
    )
    plan = actions.assign(month=_month(actions["month"]))
    by_rep = acts[["account_id", "rep_id", "month"]].drop_duplicates().assign(hit=True)
    by_any = acts[["account_id", "month"]].drop_duplicates().assign(hit_any=True)
    plan = plan.merge(by_rep, on=["account_id", "rep_id", "month"], how="left")
    plan = plan.merge(by_any, on=["account_id", "month"], how="left")
    named = plan["rep_id"].notna()
    plan["covered"] = np.where(named, plan["hit"].fillna(False), plan["hit_any"].fillna(False))
    mark = plan["mark"] if "mark" in plan.columns else pd.Series(None, index=plan.index)
    plan["done"] = (mark == "done").to_numpy()
    plan["skipped"] = (mark == "skipped").to_numpy()
    plan["covered"] = (plan["covered"].astype(bool) | plan["done"]) & ~plan["skipped"]
    plan["must_do"] = plan["must_do"].fillna(False).astype(bool)

    def row(rep_id: int | None, name: str, team: str | None, p: pd.DataFrame, a: pd.DataFrame):  # type: ignore[no-untyped-def]
        planned = len(p)
        covered = int(p["covered"].sum())
        return RepExecution(
            rep_id=rep_id,
            rep=name,
            team=team,
            planned_actions=planned,
            planned_hours=float(p["hours"].astype(float).sum()),
            covered_actions=covered,
            coverage=100.0 * covered / planned if planned else None,
            must_do=int(p["must_do"].sum()),
            must_do_covered=int((p["must_do"] & p["covered"]).sum()),
            activities=len(a),
            activity_hours=float(a["hours"].sum()),
            marked_done=int(p["done"].sum()),
            skipped=int(p["skipped"].sum()),
        )

    out = []
    ids = sorted(
        set(plan["rep_id"].dropna().astype(int)) | set(acts["rep_id"].dropna().astype(int))
    )
    info = reps.set_index("rep_id")
    for rep_id in ids:
        name = str(info.at[rep_id, "rep"]) if rep_id in info.index else str(rep_id)
        team = info.at[rep_id, "team"] if rep_id in info.index else None
        out.append(
            row(
                rep_id,
                name,
                None if pd.isna(team) else str(team),
                plan[plan["rep_id"] == rep_id],
                acts[acts["rep_id"] == rep_id],
            )
        )
    out.append(row(None, total_label, None, plan, acts))
    return out
