"""Strategy-file settings of the company's calendar and contact rhythm: the first month of the
fiscal year (every period's quarters and years, :mod:`tillage.kpi.period`) and the contact
cadence of each portfolio cell (shown in the plan, measured by the KPI "contact within
cadence", :mod:`tillage.kpi.cadence`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tillage.strategy.config_base import Cell, _Section

CadenceActivity = Literal["any", "meeting", "visit", "qbr", "call", "email"]


class Cadence(_Section):
    """How often an account of one portfolio cell should be contacted, and how."""

    activity: CadenceActivity = Field(
        description="The contact that keeps the cadence: any (any activity), meeting (a "
        "meeting, visit or QBR), or exactly one of visit, qbr, call, email (required)."
    )
    every_days: int = Field(
        gt=0,
        le=366,
        description="At most this many days between two such contacts (required; days, e.g. 30 "
        "for monthly, 91 for quarterly).",
    )


def _default_cadence() -> dict[Cell, Cadence]:
    """The source material's rhythm: deepen — a monthly visit; maintain — a meeting every two
    months; nurture — a quarterly QBR; reduce — any contact twice a year."""
    return {
        "deepen": Cadence(activity="visit", every_days=30),
        "maintain": Cadence(activity="meeting", every_days=61),
        "nurture": Cadence(activity="qbr", every_days=91),
        "reduce": Cadence(activity="any", every_days=182),
    }


FISCAL_DESCRIPTION = (
    "First month of the fiscal year, 1–12; the year is named by the calendar year it starts in "
    "(4: FY2026 = April 2026 – March 2027, the Japanese fiscal year). Quarters and years of every "
    "period (KPIs, review, 1on1) follow it, and --period accepts FY2026-Q1 and FY2026 "
    "(default 1: the calendar year; a month)."
)

CADENCE_DESCRIPTION = (
    'Contact cadence by portfolio cell, as [cadence.deepen] activity = "visit", every_days = '
    "30; a file that gives any [cadence.*] table replaces the defaults, and a cell it leaves "
    "out has no cadence (default deepen: visit every 30 days, maintain: meeting "
    "every 61, nurture: qbr every 91, reduce: any contact every 182)."
)


class Schedule(_Section):
    """How fresh the scores must be: the pages warn when the newest snapshot is older, and
    ``tillage worker`` imports (the ``schedule_import`` setting) and re-scores on this rhythm."""

    rescore_every_days: int = Field(
        default=7,
        ge=1,
        le=366,
        description="Re-score at least this often: the pages show a banner when the newest "
        "snapshot is older, and `tillage worker` re-scores when it is (default 7; days).",
    )
    at_hour: int = Field(
        default=2,
        ge=0,
        le=23,
        description="Hour of the day (business time zone) from which `tillage worker` starts a "
        "due re-score, e.g. 2 for a night run (default 2; 0–23).",
    )
