"""The 1on1 agenda of one rep: top accounts and why, accounts at risk and their signals, open
deals with win probabilities, the rep's behaviour KPIs against the team's and the company's, and
coaching questions tied to those accounts, in Japanese or English.

Everything comes from the newest complete snapshot (its scores, reasons, signals and scored
deals) and the behaviour KPIs of the quarter that contains its as-of date. The rep's accounts are
those the rep owned when scored (``account_scores.rep_id``, else today's owner), further limited
to the accounts the caller may see (the service :func:`tillage.services.reviews.build_agenda`
reads them from the store, so a rep never sees another rep's accounts). Selection rules
(``docs/review.md``):

* **top accounts**: the ``agenda_accounts`` highest by priority (by LTV without priorities),
  with the snapshot's reasons;
* **at risk**: churn risk at or above ``capacity.churn_threshold`` or a silent-churn score of 0.5
  or more, ordered by value at risk = churn risk × LTV;
* **open deals**: the snapshot's scored deals of the rep's accounts still open, by expected
  value (amount × win probability).

Coaching (:mod:`tillage.kpi.coaching`): each behaviour gap against the team (contact within
cadence included) becomes a question naming the accounts behind it; the high-value accounts in
trouble get the source material's question with the evidence; the rep's plan coverage of the
period and next month's plan are shown.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend
from pydantic import BaseModel

from tillage.errors import NotFoundError
from tillage.i18n import format_money, gettext_for
from tillage.kpi.behaviour import BEHAVIOUR_KPIS
from tillage.kpi.cadence import CADENCE_KPIS, account_cadence
from tillage.kpi.coaching import (
    CoachingQuestion,
    NextAction,
    PlanCoverage,
    gap_questions,
    next_plan,
    obstacle_questions,
    plan_coverage,
    proposal_question,
)
from tillage.kpi.compute import REGISTRY, compute_kpis, per_account
from tillage.kpi.execution import RepExecution, plan_execution
from tillage.kpi.period import Period, parse_period, period_containing
from tillage.kpi.review import SnapshotRef
from tillage.strategy.config import Strategy
from tillage.strategy.priority import render_reasons
from tillage.strategy.risk import SIGNALS, render_signals

SILENT_CHURN_AT_RISK = 0.5
"""A silent-churn score at or above this puts an account on the at-risk list."""


class AgendaAccount(BaseModel):
    """An account on the agenda (amounts in company currency, churn risk a probability)."""

    account_id: int
    key: str
    name: str
    priority: float | None
    ltv: float | None
    churn_risk: float | None
    value_at_risk: float | None
    segment: str | None
    days_to_renewal: int | None
    reasons: list[str]


class AgendaDeal(BaseModel):
    """An open deal of the rep's accounts, scored in the snapshot."""

    opportunity_id: int
    account_id: int
    account: str
    name: str | None
    type: str | None
    stage: str | None
    amount: float | None
    win_probability: float | None
    expected_value: float | None
    zone: str | None


class BehaviourComparison(BaseModel):
    """One behaviour KPI: the rep's value, the team's and the company's."""

    kpi: str
    name: str
    unit: str
    direction: str
    rep: float | None
    team: float | None
    company: float | None


class OneOnOneAgenda(BaseModel):
    """The agenda of one rep's 1on1."""

    rep_id: int
    rep_key: str
    rep: str
    team: str | None
    lang: str
    currency: str
    period: str
    snapshot: SnapshotRef
    top_accounts: list[AgendaAccount]
    at_risk: list[AgendaAccount]
    deals: list[AgendaDeal]
    behaviour: list[BehaviourComparison]
    questions: list[CoachingQuestion]
    plan_coverage: PlanCoverage | None = None
    next_month: dt.date | None = None
    next_plan: list[NextAction] = []


def _opt(value: Any) -> Any:
    if value is None:
        return None
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _reasons(row: Any, strategy: Strategy, lang: str) -> list[str]:
    """The snapshot's reasons, or ones made from the scores when it recorded none."""
    reasons = _opt(row.reasons)
    if not reasons:
        reasons = [{"code": "value", "value": float(row.ltv or 0.0)}]
        if _opt(row.churn_risk) is not None and row.churn_risk >= (
            strategy.capacity.churn_threshold
        ):
            reasons.append({"code": "churn_risk", "value": float(row.churn_risk)})
        days = _opt(row.days_to_renewal)
        if days is not None and days <= strategy.priority.renewal_window_days:
            reasons.append({"code": "renewal", "value": float(days)})
    return [render_reasons([r], lang, strategy.currency) for r in reasons]


def _signals(row: Any, strategy: Strategy, lang: str) -> list[str]:
    _ = gettext_for(lang)
    out = []
    if _opt(row.churn_risk) is not None:
        out.append(_("churn risk {p:.0%}").format(p=row.churn_risk))
    days = _opt(row.days_to_renewal)
    if days is not None and days <= strategy.priority.renewal_window_days:
        out.append(_("renewal in {days} days").format(days=int(days)))
    if _opt(row.silent_churn) is not None and row.silent_churn >= SILENT_CHURN_AT_RISK:
        out.append(_("silent-churn signs ({p:.0%})").format(p=row.silent_churn))
    if _opt(row.single_threaded):
        out.append(_("single-threaded: one contact only"))
    for signal in _opt(row.signals) or []:
        if isinstance(signal, dict) and signal.get("code") in SIGNALS:
            out.append(render_signals([signal], lang))  # in words, not the signal's code
    return out


def _account(row: Any, reasons: list[str]) -> AgendaAccount:
    risk = _opt(row.churn_risk)
    ltv = _opt(row.ltv)
    days = _opt(row.days_to_renewal)
    return AgendaAccount(
        account_id=int(row.account_id),
        key=str(row.key),
        name=str(row.name),
        priority=_opt(row.priority),
        ltv=ltv,
        churn_risk=risk,
        value_at_risk=risk * ltv if risk is not None and ltv is not None else None,
        segment=_opt(row.segment),
        days_to_renewal=None if days is None else int(days),
        reasons=reasons,
    )


def _questions(
    first: list[CoachingQuestion],
    risk: list[AgendaAccount],
    deals: list[AgendaDeal],
    lang: str,
    currency: str,
) -> list[CoachingQuestion]:
    """``first`` (the gap and obstacle questions), then the at-risk accounts not asked about
    yet, the largest open deals and the closing question."""
    _ = gettext_for(lang)
    out = list(first)
    asked = {q.account_id for q in first if q.account_id is not None}
    for a in [a for a in risk if a.account_id not in asked][:3]:
        out.append(
            CoachingQuestion(
                account_id=a.account_id,
                account=a.name,
                question=_(
                    "{account} shows {signals}: what is behind it, and what would the customer "
                    "need to see to stay?"
                ).format(signals=", ".join(a.reasons[:2]), account=a.name),
            )
        )
    for d in deals[:2]:
        amount = format_money(d.amount or 0.0, currency, lang, compact=True)
        out.append(
            CoachingQuestion(
                account_id=d.account_id,
                account=d.account,
                question=_(
                    "What has to happen for the {amount} deal at {account} to close, and what "
                    "could stop it?"
                ).format(amount=amount, account=d.account),
            )
        )
    out.append(
        CoachingQuestion(
            account_id=None,
            account=None,
            question=_("What support do you need from me or the team?"),
        )
    )
    return out


@dataclass(frozen=True)
class AgendaPieces:
    """What every rep's agenda of a period shares: the behaviour KPIs (``kpis``:
    :func:`~tillage.kpi.compute_kpis`' frame for the company, every rep and every team) and each
    account's numerator and denominator of them (``rows``: :func:`per_account`'s frame); an
    agenda keeps its rep's rows."""

    kpis: pd.DataFrame
    rows: pd.DataFrame
    executions: list[RepExecution] | None = None
    """Every rep's plan execution of the period (:func:`plan_execution`; ``None``: from the
    inputs), for the rep's plan coverage against the team's."""
    team_accounts: dict[str, int] | None = None
    """The scored accounts of each team (``None``: counted from the inputs' cells)."""


AGENDA_KPIS = (*BEHAVIOUR_KPIS, *CADENCE_KPIS)
"""The behaviour KPIs an agenda compares, in their order on the page."""


def agenda_pieces(
    con: BaseBackend, period: Period, strategy: Strategy, cadence: pd.DataFrame | None
) -> AgendaPieces:
    """The :class:`AgendaPieces` of ``period`` computed on ``con``; ``cadence`` each scored
    account's contact cadence (:func:`~tillage.kpi.cadence.account_cadence`)."""
    kpis = compute_kpis(
        con,
        period,
        by=("all", "rep", "team"),
        keys=[k.key for k in AGENDA_KPIS],
        meeting_days=strategy.kpi.meeting_days,
        cadence=cadence,
        lapse_days=strategy.kpi.lapse_days,
    )
    rows = per_account(
        con,
        period,
        AGENDA_KPIS,
        meeting_days=strategy.kpi.meeting_days,
        cadence=cadence,
        lapse_days=strategy.kpi.lapse_days,
    )
    return AgendaPieces(kpis=kpis, rows=rows)


def _behaviour(
    frame: pd.DataFrame, rep: str, team: str | None, lang: str
) -> list[BehaviourComparison]:
    index = {(r.cut, r.cut_value, r.kpi): r.value for r in frame.itertuples(index=False)}

    def get(cut: str, value: str | None, key: str) -> float | None:
        got = index.get((cut, value or "-", key))
        if got is None and REGISTRY[key].kind == "count":
            return 0.0  # a count with no rows in the cut is none
        return None if got is None or math.isnan(got) else float(got)

    return [
        BehaviourComparison(
            kpi=k.key,
            name=k.name(lang),
            unit=k.unit,
            direction=k.direction,
            rep=get("rep", rep, k.key),
            team=get("team", team, k.key),
            company=get("all", "all", k.key),
        )
        for k in AGENDA_KPIS
    ]


@dataclass(frozen=True)
class AgendaInputs:
    """What the store holds for one rep's agenda (read by
    :func:`tillage.services.reviews.build_agenda`).

    ``rep_id``, ``rep_key``, ``rep_name``: the rep; ``rep_label``: the rep's label in the KPI
    cuts (:mod:`tillage.labels`); ``team``: the label of the rep's team (``None`` without one);
    ``snapshot``: the newest complete snapshot; ``scores``: its scores of the rep's accounts as
    the caller may see them; ``deals``: its scored deals as the caller may see them;
    ``limited``: whether the caller sees only some accounts. Coaching inputs (optional):
    ``period`` the agenda's period in the fiscal calendar; ``cells`` every scored account's
    ``account_id``, ``segment``, ``ltv`` (the contact cadence of the team); ``planned`` the
    actions planned for the period (:func:`~tillage.kpi.execution.plan_execution`'s columns) and
    ``activities`` those logged in it, ``reps`` the reps with their teams; ``next_actions`` the
    rep's actions of the newest plan, for ``next_month``.
    """

    rep_id: int
    rep_key: str
    rep_name: str
    rep_label: str
    team: str | None
    snapshot: SnapshotRef
    scores: pd.DataFrame
    deals: pd.DataFrame
    limited: bool
    period: Period | None = None
    cells: pd.DataFrame | None = None
    planned: pd.DataFrame | None = None
    activities: pd.DataFrame | None = None
    reps: pd.DataFrame | None = None
    next_month: dt.date | None = None
    next_actions: pd.DataFrame | None = None


def assemble_agenda(
    con: BaseBackend | None,
    inputs: AgendaInputs,
    *,
    strategy: Strategy | None = None,
    lang: str = "en",
    period: Period | str | None = None,
    pieces: AgendaPieces | None = None,
) -> OneOnOneAgenda:
    """The 1on1 agenda of the rep of ``inputs``; behaviour KPIs of ``period`` (default: the
    quarter containing the snapshot's as-of date) computed on ``con``
    (:func:`~tillage.kpi.data.kpi_backend`), or taken from ``pieces`` (:func:`agenda_pieces`
    of that period, shared by every rep's agenda; ``con`` is then not used)."""
    strategy = strategy or Strategy()
    scores, deals, team = inputs.scores, inputs.deals, inputs.team
    as_of = inputs.snapshot.as_of
    if scores.empty and inputs.limited:
        raise NotFoundError(f"rep {inputs.rep_key!r} has no accounts you may see")
    limit = strategy.kpi.agenda_accounts
    rank = "priority" if scores["priority"].notna().any() else "ltv"
    ordered = scores.sort_values([rank, "account_id"], ascending=[False, True], na_position="last")
    top = [_account(r, _reasons(r, strategy, lang)) for r in ordered.head(limit).itertuples()]
    risky = scores[
        (scores["churn_risk"].fillna(0.0) >= strategy.capacity.churn_threshold)
        | (scores["silent_churn"].astype(float).fillna(0.0) >= SILENT_CHURN_AT_RISK)
    ]
    risky = risky.assign(
        _var=risky["churn_risk"].fillna(0.0) * risky["ltv"].astype(float).fillna(0.0)
    ).sort_values(["_var", "account_id"], ascending=[False, True])
    at_risk = [_account(r, _signals(r, strategy, lang)) for r in risky.head(limit).itertuples()]
    names = dict(zip(scores["account_id"], scores["name"], strict=True))
    mine = deals[deals["account_id"].isin(names) & ~deals["is_closed"].astype(bool)]
    mine = mine.assign(
        ev=mine["expected_value"]
        .astype(float)
        .fillna(mine["amount"].astype(float) * mine["win_probability"].astype(float))
    ).sort_values(["ev", "opportunity_id"], ascending=[False, True])
    open_deals = [
        AgendaDeal(
            opportunity_id=int(d.opportunity_id),
            account_id=int(d.account_id),
            account=str(names[d.account_id]),
            name=_opt(d.name),
            type=_opt(d.type),
            stage=_opt(d.stage),
            amount=_opt(d.amount),
            win_probability=_opt(d.win_probability),
            expected_value=_opt(d.ev),
            zone=_opt(d.zone),
        )
        for d in mine.head(limit).itertuples()
    ]
    fiscal = strategy.fiscal_year_start_month
    if period is None:
        chosen = inputs.period or period_containing(as_of, "quarter", fiscal)
    else:
        chosen = parse_period(period, fiscal) if isinstance(period, str) else period
    if pieces is None:
        assert con is not None, "give a backend or the agenda's pieces"
        cadence = account_cadence(inputs.cells, strategy) if inputs.cells is not None else None
        pieces = agenda_pieces(con, chosen, strategy, cadence)
    behaviour = _behaviour(pieces.kpis, inputs.rep_label, team, lang)
    first = _coaching(pieces, inputs, behaviour, strategy, lang)
    return OneOnOneAgenda(
        rep_id=inputs.rep_id,
        rep_key=inputs.rep_key,
        rep=inputs.rep_name,
        team=team,
        lang=lang,
        currency=strategy.currency,
        period=chosen.label,
        snapshot=inputs.snapshot,
        top_accounts=top,
        at_risk=at_risk,
        deals=open_deals,
        behaviour=behaviour,
        questions=_questions(first, at_risk, open_deals, lang, strategy.currency),
        plan_coverage=_coverage(inputs, chosen, names, pieces.executions),
        next_month=inputs.next_month,
        next_plan=next_plan(
            inputs.next_actions if inputs.next_actions is not None else pd.DataFrame(), names
        ),
    )


def _coaching(
    pieces: AgendaPieces,
    inputs: AgendaInputs,
    behaviour: list[BehaviourComparison],
    strategy: Strategy,
    lang: str,
) -> list[CoachingQuestion]:
    """The gap questions (accounts behind each behaviour gap) and the obstacle questions."""
    scores, rows = inputs.scores, pieces.rows
    rows = rows[rows["account_id"].isin(scores["account_id"])]
    out = gap_questions(behaviour, rows, scores, strategy, lang)
    proposals = next((b for b in behaviour if b.kpi == "expansion_proposals"), None)
    if pieces.team_accounts is not None and proposals is not None:
        team_accounts = pieces.team_accounts.get(inputs.team, 0) if inputs.team else 0
        out += proposal_question(
            proposals.rep, len(scores), proposals.team, team_accounts, rows, scores, lang
        )
    elif proposals is not None and inputs.reps is not None and inputs.cells is not None:
        team_reps = inputs.reps.loc[inputs.reps["team"] == inputs.team, "rep_id"]
        owners = inputs.cells.get("rep_id")
        team_accounts = int(owners.isin(team_reps).sum()) if owners is not None else 0
        out += proposal_question(
            proposals.rep, len(scores), proposals.team, team_accounts, rows, scores, lang
        )
    return out + obstacle_questions(scores, strategy, lang)


def _coverage(
    inputs: AgendaInputs,
    period: Period,
    names: dict[int, str],
    executions: list[RepExecution] | None = None,
) -> PlanCoverage | None:
    """The rep's plan coverage of ``period`` (None without a plan for it); ``executions``
    every rep's plan execution (default: from the inputs' actions and activities, which may
    then be the rep's alone)."""
    if inputs.planned is None or inputs.activities is None or inputs.reps is None:
        return None
    if inputs.planned.empty:
        return None
    if executions is None:
        executions = plan_execution(inputs.planned, inputs.activities, inputs.reps, total_label="")
    return plan_coverage(
        executions,
        inputs.rep_id,
        inputs.team,
        inputs.planned,
        inputs.activities,
        names,
        period.label,
    )


__all__ = [
    "AgendaInputs",
    "AgendaPieces",
    "CoachingQuestion",
    "OneOnOneAgenda",
    "agenda_pieces",
    "assemble_agenda",
]
