"""Coaching from the rep's own numbers: each behaviour gap against the team becomes a question
about named accounts, the plan's coverage and next month's plan are shown, and the source
material's question ("what is the biggest obstacle to this customer's success?") is kept for
the accounts where it fits.

**A gap** is a behaviour KPI where the rep does worse than the team (by the KPI's direction) by
more than :data:`PERCENT_TOLERANCE` points for a percentage or a score, or by more than
:data:`RELATIVE_TOLERANCE` of the team's value otherwise. The accounts behind it are the rep's
accounts whose own share of the KPI falls short (:func:`tillage.kpi.compute.per_account`):

* regular-meeting rate — watched accounts with no meeting, visit or QBR in the look-back;
* contact within cadence — accounts whose last contact of their cell's kind is older than the
  cadence, grouped by cell ("3 of your deepen accounts had no visit in 30 days: …");
* proposal win rate — accounts with a proposal lost in the period;
* proposals (a count: per account of the rep against per account of the team) — the rep's
  deepen accounts without a proposal, highest LTV first;
* NPS — accounts whose answers in the period are net detractors;
* contact frequency — active accounts not contacted in the period.

**The obstacle question** fits a high-value account (LTV in the top third of the rep's
accounts) with evidence of trouble in the snapshot's reasons or signals: an open severe ticket,
falling usage, a detractor answer, or a churn risk at or above ``capacity.churn_threshold``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from pydantic import BaseModel

from tillage.i18n import format_money, gettext_for
from tillage.strategy.config import Strategy
from tillage.strategy.reasons import render_reasons
from tillage.strategy.risk import render_signals

PERCENT_TOLERANCE = 5.0
"""A percentage or score this many points worse than the team's is a gap."""
RELATIVE_TOLERANCE = 0.10
"""Any other KPI this share worse than the team's is a gap."""
NAMED = 5
"""Accounts named in one question at most (the rest counted)."""
TROUBLE_REASONS = ("tickets", "usage_decline", "detractor")
"""Snapshot reason codes that are evidence of trouble for the obstacle question."""
TROUBLE_SIGNALS = ("unresolved_tickets", "usage_down", "detractor")
"""Silent-churn signal codes that are evidence of trouble."""


class CoachingQuestion(BaseModel):
    """A question to discuss, about one account (``account_id``), several (``accounts``) or the
    rep's work (neither); ``kpi`` the behaviour gap it comes from, if any."""

    account_id: int | None
    account: str | None
    question: str
    kpi: str | None = None
    accounts: list[str] = []


class PlanCoverage(BaseModel):
    """The rep's plan of the period against what they logged (:mod:`tillage.kpi.execution`):
    planned and covered actions, ``coverage`` (%), must-dos, the team's coverage, and the
    accounts of must-dos not covered."""

    period: str
    planned_actions: int
    covered_actions: int
    coverage: float | None
    must_do: int
    must_do_covered: int
    team_coverage: float | None
    missed_must_do: list[str]


class NextAction(BaseModel):
    """An action of the rep's plan for the next month (hours of the rep; uplift in company
    currency)."""

    account_id: int
    account: str
    action: str
    hours: float
    expected_uplift: float | None
    must_do: bool


def is_gap(unit: str, direction: str, rep: float | None, team: float | None) -> bool:
    """Whether the rep's value is worse than the team's beyond the tolerance."""
    if rep is None or team is None or math.isnan(rep) or math.isnan(team):
        return False
    worse = team - rep if direction == "higher" else rep - team
    if unit in ("percent", "score"):
        return worse > PERCENT_TOLERANCE
    return worse > RELATIVE_TOLERANCE * abs(team) and worse > 0


def _names(frame: pd.DataFrame, lang: str) -> tuple[str, list[str]]:
    """The first :data:`NAMED` account names joined, "and N more" after them, and the list."""
    _ = gettext_for(lang)
    names = [str(n) for n in frame["name"]]
    shown = "、".join(names[:NAMED]) if lang == "ja" else ", ".join(names[:NAMED])
    if len(names) > NAMED:
        shown += _(" and {n} more").format(n=len(names) - NAMED)
    return shown, names


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def gap_questions(
    comparisons: Sequence[object],
    rows: pd.DataFrame,
    scores: pd.DataFrame,
    strategy: Strategy,
    lang: str,
) -> list[CoachingQuestion]:
    """One question per behaviour gap (see the module doc), naming the accounts behind it.

    ``comparisons``: :class:`~tillage.kpi.agenda.BehaviourComparison` items (``kpi``,
    ``unit``, ``direction``, ``rep``, ``team``); ``rows``: the rep's accounts' ``account_id``,
    ``kpi``, ``num``, ``den``; ``scores``: the rep's accounts with ``account_id``, ``name``,
    ``segment``, ``ltv``."""
    _ = gettext_for(lang)
    info = scores.set_index("account_id")[["name", "segment", "ltv"]]
    out: list[CoachingQuestion] = []
    for c in comparisons:
        key, rep, team = c.kpi, c.rep, c.team  # type: ignore[attr-defined]
        if key == "expansion_proposals":
            continue  # a count: compared per account below
        if not is_gap(c.unit, c.direction, rep, team):  # type: ignore[attr-defined]
            continue
        mine = rows[rows["kpi"] == key].merge(info, left_on="account_id", right_index=True)
        mine = mine.reset_index(drop=True)  # the merge may name the index account_id too
        short = mine[(mine["den"] > 0) & (mine["num"] < mine["den"])]
        if key == "nps":
            short = mine[(mine["den"] > 0) & (mine["num"] < 0)]
        short = short.sort_values(["ltv", "account_id"], ascending=[False, True])
        if short.empty:
            continue
        values = {"rep": _pct(rep), "team": _pct(team)}
        if key == "contact_within_cadence":
            out.extend(_cadence_questions(short, strategy, values, lang))
            continue
        shown, names = _names(short, lang)
        text = {
            "regular_meeting_rate": _(
                "{n} of your key accounts had no meeting, visit or QBR in {days} days (your "
                "rate {rep}, team {team}): {accounts} — what is blocking a visit?"
            ),
            "proposal_win_rate": _(
                "Your proposal win rate is {rep} against the team's {team}; proposals were lost "
                "at {accounts} — what did the customer choose instead, and what would you do "
                "differently?"
            ),
            "nps": _(
                "Your accounts' NPS is {rep} against the team's {team}; net detractors at "
                "{accounts} — what went wrong for them, and who will call them?"
            ),
            "contact_frequency": _(
                "You contact your accounts less often than the team; {n} had no contact this "
                "period: {accounts} — which of them need one this month?"
            ),
        }.get(key)
        if text is None:
            continue
        question = text.format(
            n=len(names),
            days=strategy.kpi.meeting_days,
            accounts=shown,
            rep=values["rep"] if key != "nps" else f"{rep:.0f}",
            team=values["team"] if key != "nps" else f"{team:.0f}",
        )
        out.append(
            CoachingQuestion(
                account_id=None, account=None, question=question, kpi=key, accounts=names
            )
        )
    return out


def _cadence_questions(
    short: pd.DataFrame, strategy: Strategy, values: dict[str, str], lang: str
) -> list[CoachingQuestion]:
    """One question per portfolio cell behind a contact-cadence gap."""
    _ = gettext_for(lang)
    kinds = {
        "any": _("contact"),
        "meeting": _("meeting"),
        "visit": _("visit"),
        "qbr": _("QBR"),
        "call": _("call"),
        "email": _("e-mail"),
    }
    cells = {
        "deepen": _("deepen"),
        "maintain": _("maintain"),
        "nurture": _("nurture"),
        "reduce": _("reduce"),
    }
    out = []
    for cell, group in short.groupby("segment", sort=False):
        cadence = strategy.cadence.get(str(cell))
        if cadence is None:
            continue
        shown, names = _names(group, lang)
        if cadence.activity in ("meeting", "visit", "qbr"):
            text = _(
                "{n} of your {cell} accounts had no {kind} in {days} days (within cadence: you "
                "{rep}, team {team}): {accounts} — what is blocking a visit?"
            )
        else:
            text = _(
                "{n} of your {cell} accounts had no {kind} in {days} days (within cadence: you "
                "{rep}, team {team}): {accounts} — what is keeping you from contacting them?"
            )
        question = text.format(
            n=len(names),
            cell=cells.get(str(cell), str(cell)),
            kind=kinds.get(cadence.activity, cadence.activity),
            days=cadence.every_days,
            accounts=shown,
            **values,
        )
        out.append(
            CoachingQuestion(
                account_id=None,
                account=None,
                question=question,
                kpi="contact_within_cadence",
                accounts=names,
            )
        )
    return out


def proposal_question(
    rep_count: float | None,
    rep_accounts: int,
    team_count: float | None,
    team_accounts: int,
    rows: pd.DataFrame,
    scores: pd.DataFrame,
    lang: str,
) -> list[CoachingQuestion]:
    """The proposals gap: the rep's proposals per account against the team's; names the rep's
    deepen accounts without a proposal in the period, highest LTV first."""
    _ = gettext_for(lang)
    if not rep_accounts or not team_accounts or rep_count is None or team_count is None:
        return []
    mine, theirs = rep_count / rep_accounts, team_count / team_accounts
    if not mine < (1 - RELATIVE_TOLERANCE) * theirs:
        return []
    made = set(rows.loc[(rows["kpi"] == "expansion_proposals") & (rows["num"] > 0), "account_id"])
    deepen = scores[(scores["segment"] == "deepen") & ~scores["account_id"].isin(made)]
    deepen = deepen.sort_values(["ltv", "account_id"], ascending=[False, True])
    if deepen.empty:
        return []
    shown, names = _names(deepen, lang)
    question = _(
        "You made {mine:.2f} upsell/cross-sell proposals per account against the team's "
        "{theirs:.2f}; your deepen accounts {accounts} had none — what would make a proposal "
        "timely for them?"
    ).format(mine=mine, theirs=theirs, accounts=shown)
    return [
        CoachingQuestion(
            account_id=None,
            account=None,
            question=question,
            kpi="expansion_proposals",
            accounts=names,
        )
    ]


def obstacle_questions(
    scores: pd.DataFrame, strategy: Strategy, lang: str, *, limit: int = 3
) -> list[CoachingQuestion]:
    """The source material's question for the high-value accounts in trouble (module doc), with
    the evidence named: at most ``limit``, highest LTV first."""
    _ = gettext_for(lang)
    if scores.empty:
        return []
    ltv = scores["ltv"].astype(float)
    high = scores[ltv >= ltv.quantile(2 / 3)].sort_values(
        ["ltv", "account_id"], ascending=[False, True]
    )
    out = []
    for row in high.itertuples(index=False):
        evidence = _evidence(row, strategy, lang)
        if evidence is None:
            continue
        out.append(
            CoachingQuestion(
                account_id=int(row.account_id),
                account=str(row.name),
                question=_(
                    "{account} (LTV {ltv}): {evidence} — what is the biggest obstacle to this "
                    "customer's success right now?"
                ).format(
                    account=row.name,
                    ltv=format_money(float(row.ltv), strategy.currency, lang, compact=True),
                    evidence=evidence,
                ),
            )
        )
        if len(out) == limit:
            break
    return out


def _evidence(row: object, strategy: Strategy, lang: str) -> str | None:
    """The first piece of trouble on record for the account, in words, or None."""
    _ = gettext_for(lang)
    for reason in getattr(row, "reasons", None) or []:
        if isinstance(reason, dict) and reason.get("code") in TROUBLE_REASONS:
            return render_reasons([reason], lang, strategy.currency)
    for signal in getattr(row, "signals", None) or []:
        if isinstance(signal, dict) and signal.get("code") in TROUBLE_SIGNALS:
            return render_signals([signal], lang)
    risk = getattr(row, "churn_risk", None)
    if risk is not None and not pd.isna(risk) and risk >= strategy.capacity.churn_threshold:
        return _("churn risk {p:.0%}").format(p=risk)
    return None


def plan_coverage(
    executions: Sequence[object],
    rep_id: int,
    team: str | None,
    actions: pd.DataFrame,
    activities: pd.DataFrame,
    names: dict[int, str],
    period: str,
) -> PlanCoverage | None:
    """The rep's row of :func:`~tillage.kpi.execution.plan_execution` (``executions``), the
    team's coverage (covered / planned over the team's reps) and the must-do accounts the rep
    did not touch; None when the rep had no plan for the period."""
    mine = [e for e in executions if getattr(e, "rep_id", None) == rep_id]
    if not mine or not mine[0].planned_actions:  # type: ignore[attr-defined]
        return None
    me = mine[0]
    squad = [e for e in executions if e.rep_id is not None and team is not None and e.team == team]  # type: ignore[attr-defined]
    planned = sum(e.planned_actions for e in squad)  # type: ignore[attr-defined]
    covered = sum(e.covered_actions for e in squad)  # type: ignore[attr-defined]
    touched = set(zip(activities.get("account_id", []), activities.get("rep_id", []), strict=False))
    must = actions[(actions["rep_id"] == rep_id) & actions["must_do"].fillna(False).astype(bool)]
    missed = [
        names.get(int(a), str(a))
        for a in dict.fromkeys(must["account_id"])
        if (a, rep_id) not in touched
    ]
    return PlanCoverage(
        period=period,
        planned_actions=me.planned_actions,  # type: ignore[attr-defined]
        covered_actions=me.covered_actions,  # type: ignore[attr-defined]
        coverage=me.coverage,  # type: ignore[attr-defined]
        must_do=me.must_do,  # type: ignore[attr-defined]
        must_do_covered=me.must_do_covered,  # type: ignore[attr-defined]
        team_coverage=100.0 * covered / planned if planned else None,
        missed_must_do=missed,
    )


def next_plan(actions: pd.DataFrame, names: dict[int, str]) -> list[NextAction]:
    """The rep's actions of the next month's plan, largest expected uplift first."""
    if actions.empty:
        return []
    ordered = actions.sort_values(["expected_uplift", "account_id"], ascending=[False, True])
    return [
        NextAction(
            account_id=int(a.account_id),
            account=names.get(int(a.account_id), str(a.account_id)),
            action=str(a.action),
            hours=float(a.hours),
            expected_uplift=None if pd.isna(a.expected_uplift) else float(a.expected_uplift),
            must_do=bool(a.must_do),
        )
        for a in ordered.itertuples(index=False)
    ]
