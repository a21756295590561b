"""The period review: KPIs against the previous period and target, segment migration, plan
execution, forecast accuracy and behaviour to outcome, for one month or quarter.

The snapshots that bound the period are the newest complete snapshot dated on or before its
first day (**start**: its plan and forecasts were in force during the period) and on or before
its last day (**end**). :func:`assemble_review` makes a :class:`PeriodReview` (pydantic, so
``model_dump_json()`` is the JSON of the API) from the frames the service
:func:`tillage.services.reviews.build_review` reads from the store (:class:`ReviewInputs`);
``tillage.report.review`` renders it as Markdown or HTML. Every definition is in ``docs/review.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from ibis.backends import BaseBackend
from pydantic import BaseModel

from tillage.i18n import gettext_for
from tillage.kpi.act import ActSection, assemble_act
from tillage.kpi.association import MeetingRetention, meeting_retention, priority_accounts
from tillage.kpi.cadence import account_cadence
from tillage.kpi.compute import REGISTRY, compute_kpis, per_account
from tillage.kpi.execution import RepExecution, plan_execution
from tillage.kpi.forecast import (
    ForecastAccuracy,
    deal_check,
    recognised_revenue,
    retention_check,
    revenue_check,
)
from tillage.kpi.migration import SegmentMigration, segment_migration
from tillage.kpi.period import Period
from tillage.kpi.targets import KpiTargets, gap_to_target, targets_from_settings
from tillage.kpi.units import change_digits
from tillage.strategy.config import Strategy
from tillage.strategy.departure import DepartureCalibration


class SnapshotRef(BaseModel):
    """A snapshot by id and as-of date."""

    id: int
    as_of: dt.date


class KpiChange(BaseModel):
    """One KPI of one cut value: this period, the previous one, the change and the target.

    ``improved`` is whether the change went the KPI's better way (``None`` without both values).
    """

    kpi: str
    name: str
    family: str
    unit: str
    direction: str
    cut: str
    cut_value: str
    value: float | None
    previous: float | None
    change: float | None
    target: float | None
    gap: float | None
    met: bool | None
    improved: bool | None


class PeriodReview(BaseModel):
    """Everything the review shows for one period (amounts in ``currency``)."""

    period: str
    first: dt.date
    last: dt.date
    previous_period: str
    lang: str
    currency: str
    start_snapshot: SnapshotRef | None
    end_snapshot: SnapshotRef | None
    kpis: list[KpiChange]
    migration: SegmentMigration | None
    execution: list[RepExecution]
    forecast: ForecastAccuracy | None
    meetings: MeetingRetention | None
    notes: list[str]
    act: ActSection | None = None


def optional_float(value: object) -> float | None:
    """``value`` as a float; ``None`` for a missing value (``None``, NaN, ``pd.NA``, ``NaT``)."""
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def kpi_changes(
    con: BaseBackend,
    period: Period,
    strategy: Strategy,
    *,
    by: Sequence[str],
    lang: str,
    ltv: pd.DataFrame | None,
    segments: pd.DataFrame | None,
    cadence: pd.DataFrame | None = None,
) -> list[KpiChange]:
    """Every KPI for each cut value of ``by`` in ``period`` and the previous period, with the
    target of the strategy file's ``[kpi]`` section; ``cadence`` each account's contact cadence
    (:func:`tillage.kpi.cadence.account_cadence`; ``None``: that KPI is blank)."""
    previous = period.previous()
    frame = compute_kpis(
        con,
        [previous, period],
        by=list(by),
        ltv=ltv,
        segments=segments,
        meeting_days=strategy.kpi.meeting_days,
        lapse_days=strategy.kpi.lapse_days,
        cadence=cadence,
    )
    return changes_between(
        frame, period.label, previous.label, targets_from_settings(strategy.kpi), lang=lang
    )


def changes_between(
    frame: pd.DataFrame, period: str, previous: str | None, targets: KpiTargets, *, lang: str
) -> list[KpiChange]:
    """The rows of ``period`` in ``frame`` (from :func:`~tillage.kpi.compute_kpis`) as
    :class:`KpiChange`: each against its value in the period labelled ``previous`` (if any) and
    its target in ``targets``, in ``frame``'s order."""
    keys = ["cut", "cut_value", "kpi"]
    now = frame[frame["period"] == period]
    before = frame[frame["period"] == previous][[*keys, "value"]]
    rows = now.merge(before.rename(columns={"value": "previous"}), on=keys, how="left")
    rows = gap_to_target(rows, targets)
    out = []
    for r in rows.itertuples(index=False):
        kpi = REGISTRY[r.kpi]
        value, prev = optional_float(r.value), optional_float(r.previous)
        change = value - prev if value is not None and prev is not None else None
        improved = None
        # a change too small to show (±0.0) is neither better nor worse
        if change is not None and round(abs(change), change_digits(kpi.unit)) != 0:
            improved = (change > 0) == (kpi.direction == "higher")
        out.append(
            KpiChange(
                kpi=kpi.key,
                name=kpi.name(lang),
                family=kpi.family,
                unit=kpi.unit,
                direction=kpi.direction,
                cut=r.cut,
                cut_value=r.cut_value,
                value=value,
                previous=prev,
                change=change,
                target=optional_float(r.target),
                gap=optional_float(r.gap),
                met=None if pd.isna(r.met) else bool(r.met),
                improved=improved,
            )
        )
    return out


def _scored_ids(*scores: pd.DataFrame | None) -> set[int]:
    """The accounts scored in any of ``scores`` (each already limited to what is visible)."""
    return {int(i) for frame in scores if frame is not None for i in frame["account_id"]}


def _forecast(inputs: ReviewInputs, period: Period) -> ForecastAccuracy:
    assert inputs.start is not None and inputs.start_scores is not None
    start, scores = inputs.start, inputs.start_scores
    retention, _rows = retention_check(scores, inputs.contracts, start.as_of, period)
    revenue = recognised_revenue(inputs.contracts, inputs.orders, period)
    return ForecastAccuracy(
        snapshot_id=start.id,
        as_of=start.as_of,
        retention=retention,
        revenue=revenue_check(scores, revenue, start.as_of, period),
        deals=deal_check(inputs.start_deals, period),
    )


def _meetings(
    pieces: ReviewPieces, scores: pd.DataFrame, strategy: Strategy, lang: str
) -> MeetingRetention:
    _ = gettext_for(lang)
    ids, ranked_by = priority_accounts(scores, strategy.kpi.priority_share)
    churn, met = pieces.churn, pieces.met
    cohort = churn[churn["account_id"].isin(ids)].rename(columns={"num": "churned"})
    met = met[met["account_id"].isin(ids)].rename(columns={"num": "met"})
    return meeting_retention(
        cohort[["account_id", "churned"]],
        met[["account_id", "met"]],
        ranked_by=ranked_by,
        priority_count=len(ids),
        meeting_days=strategy.kpi.meeting_days,
        level=strategy.kpi.confidence_level,
        warning=_(
            "This is an association, not proof: accounts that meet regularly may differ in "
            "other ways (size, health, the rep), and the difference does not show that meetings "
            "cause retention."
        ),
    )


@dataclass(frozen=True)
class ReviewInputs:
    """What the store holds for the review of one period (read by
    :func:`tillage.services.reviews.build_review`).

    ``start``/``end``: the snapshots bounding the period (``None`` if none); ``start_scores``,
    ``end_scores``: their account scores as the caller may see them; ``kpi_scores``: the end
    snapshot's scores of every account (LTV and segment of the KPIs); ``reps``: reps with teams;
    ``actions``: the start snapshot's actions planned in the period; ``activities``: the
    activities of the period; ``contracts``: contracts running from the start's as-of date to the
    period's close; ``orders``: order revenue of the period; ``start_deals``: the start
    snapshot's scored deals as the caller may see them. The frames of the start snapshot are
    empty when there is none.
    """

    start: SnapshotRef | None
    end: SnapshotRef | None
    start_scores: pd.DataFrame | None
    end_scores: pd.DataFrame | None
    kpi_scores: pd.DataFrame | None
    reps: pd.DataFrame
    actions: pd.DataFrame
    activities: pd.DataFrame
    contracts: pd.DataFrame
    orders: pd.DataFrame
    start_deals: pd.DataFrame
    segment_scores: pd.DataFrame | None = None
    """The start snapshot's scores of every account: the segment cut of the KPIs uses each
    account's segment at the period's start (``None``: the end snapshot's)."""
    effects: dict | None = None
    """The playbooks' effects learned from the history up to the period's end
    (:func:`tillage.strategy.effects.learned_effects`), for the Act's recommendations."""
    departure: DepartureCalibration | None = None
    """The departure effect calibrated from the leavers up to the period's end
    (:func:`tillage.strategy.departure.calibrate_departure`), for the Act's recommendations."""


@dataclass(frozen=True)
class ReviewPieces:
    """The parts of a review that count every account, whoever reads it: the KPI rows (the
    company, every rep and team) and, for meetings to retention, each start-scored account's
    churn in the period and regular meeting in the period before (:func:`per_account`'s
    ``num``); a caller's review keeps its own priority accounts of those."""

    kpis: list[KpiChange]
    churn: pd.DataFrame
    met: pd.DataFrame


def review_pieces(
    con: BaseBackend,
    period: Period,
    inputs: ReviewInputs,
    *,
    strategy: Strategy,
    by: Sequence[str] = ("all", "team"),
    lang: str = "en",
) -> ReviewPieces:
    """The :class:`ReviewPieces` of ``period`` computed on ``con`` from ``inputs``' frames of
    every account (``kpi_scores``, ``segment_scores``): the same for every caller."""
    ltv = segments = cadence = None
    if inputs.kpi_scores is not None:
        ltv = inputs.kpi_scores[["account_id", "ltv"]].astype({"ltv": "float64"})
        segments = inputs.kpi_scores[["account_id", "segment"]]
        # the contact cadence of each account's cell at the end, as on the KPI page
        cadence = account_cadence(inputs.kpi_scores, strategy)
    if inputs.segment_scores is not None and len(inputs.segment_scores):
        # segment cuts by the segment at the period's start: an account that churned and fell
        # into "reduce" by the end still counts where it was
        segments = inputs.segment_scores[["account_id", "segment"]]
    cuts = [c for c in by if c != "segment" or segments is not None]
    kpis = kpi_changes(
        con, period, strategy, by=cuts, lang=lang, ltv=ltv, segments=segments, cadence=cadence
    )
    every = inputs.segment_scores  # the start snapshot's scores of every account
    if every is None or every.empty:
        every = inputs.start_scores
    if every is None or every.empty:
        none = pd.DataFrame({"account_id": [], "num": []})
        return ReviewPieces(kpis=kpis, churn=none, met=none)
    churn = per_account(con, period, [REGISTRY["logo_churn_rate"]])
    met = per_account(
        con,
        period.previous(),
        [REGISTRY["regular_meeting_rate"]],
        priority_accounts=[int(i) for i in every["account_id"]],
        meeting_days=strategy.kpi.meeting_days,
    )
    return ReviewPieces(kpis=kpis, churn=churn, met=met)


def assemble_review(
    con: BaseBackend | None,
    period: Period,
    inputs: ReviewInputs,
    *,
    strategy: Strategy,
    by: Sequence[str] = ("all", "team"),
    lang: str = "en",
    currency: str | None = None,
    limited: bool = False,
    pieces: ReviewPieces | None = None,
) -> PeriodReview:
    """The review of ``period`` from ``inputs``, KPIs for the cuts ``by`` (``all``, ``rep``,
    ``team``, ``segment``) computed on ``con`` (:func:`~tillage.kpi.data.kpi_backend`), or
    taken from ``pieces`` (:func:`review_pieces`, computed once for every caller; ``con`` is
    then not used).

    ``limited``: the scores in ``inputs`` are limited to the accounts a caller may see, so plan
    execution counts only the actions and activities of those accounts. The KPI rows are not
    filtered: the company row names no account.
    """
    _ = gettext_for(lang)
    notes: list[str] = []
    start, end = inputs.start, inputs.end
    start_scores, end_scores = inputs.start_scores, inputs.end_scores
    execution: list[RepExecution] = []
    forecast = None
    act = None
    if start is None or start_scores is None:
        notes.append(
            _(
                "No snapshot is dated on or before {day}: run `tillage score --as-of` "
                "there to check forecasts and plans."
            ).format(day=period.first)
        )
    else:
        actions, acts = inputs.actions, inputs.activities
        if limited:
            seen = _scored_ids(start_scores, end_scores)
            actions = actions[actions["account_id"].isin(seen)]
            acts = acts[acts["account_id"].isin(seen)]
        execution = plan_execution(actions, acts, inputs.reps, total_label=_("Total"))
        forecast = _forecast(inputs, period)
        act = assemble_act(
            period,
            as_of=start.as_of,
            scores=start_scores,
            actions=actions,
            activities=acts,
            contracts=inputs.contracts,
            forecast=forecast,
            effects=inputs.effects or {},
            departure=inputs.departure,
            strategy=strategy,
            lang=lang,
        )
    migration = None
    if start is not None and end is not None and start.id != end.id:
        assert start_scores is not None and end_scores is not None
        migration = segment_migration(start_scores, end_scores)
    elif start is not None:
        notes.append(
            _("Only one snapshot bounds the period: score again at its end to see migration.")
        )
    if pieces is None:
        assert con is not None, "give a backend or the review's pieces"
        pieces = review_pieces(con, period, inputs, strategy=strategy, by=by, lang=lang)
    meetings = None
    if start_scores is not None and len(start_scores):
        meetings = _meetings(pieces, start_scores, strategy, lang)
    return PeriodReview(
        period=period.label,
        first=period.first,
        last=period.last,
        previous_period=period.previous().label,
        lang=lang,
        currency=currency or strategy.currency,
        start_snapshot=start,
        end_snapshot=end,
        kpis=pieces.kpis,
        migration=migration,
        execution=execution,
        forecast=forecast,
        meetings=meetings,
        notes=notes,
        act=act,
    )


__all__ = [
    "KpiChange",
    "PeriodReview",
    "ReviewInputs",
    "ReviewPieces",
    "SnapshotRef",
    "assemble_review",
    "changes_between",
    "kpi_changes",
    "review_pieces",
]
