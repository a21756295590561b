"""The review's Act: what the period's plan achieved, which forecasts lost to their baselines,
the return on the hours per portfolio cell, and the changes to the strategy file the evidence
asks for.

All per account, the cell being the account's segment in the snapshot at the period's start:

* **Outcomes.** An account's renewal is *due* when its next renewal at the start's as-of date
  falls in the period (:func:`tillage.kpi.forecast.retention_check`); ``retained_value`` /
  ``lost_value`` is 12 × the ending contract's monthly amount of a renewed / churned due
  renewal; ``expanded_value`` is 12 × the rise of the account's monthly recurring revenue from
  the period's first day to its last, when positive (currency per year).
* **Coverage.** A planned account (an action planned for it in the period) is *covered* when an
  activity was logged for it in the period, else *uncovered* — the comparable group, since the
  plan chose both. Each group's churn is compared with what the snapshot expected
  (``O/E = churned / Σ churn_risk`` over its due renewals), so the **realised effect** of the
  covered accounts' actions is ``1 − (O/E covered) / (O/E uncovered)``, and the **realised
  uplift** that effect × Σ churn_risk × LTV over the covered accounts with a due renewal, against
  the planned uplift of their actions (blank with a note where a group has no expected churn).
* **Forecasts** against their baselines: the churn and win probabilities against forecasting
  the observed rate for everyone (Brier score against ``r (1 − r)``).
* **Return on time** per cell: hours planned and logged (``duration_minutes / 60``), retained,
  lost and expanded value, and ``(retained + expanded) / logged hours``.
* **Recommendations**: a playbook whose learned effect's interval excludes the assumed effect
  (with at least ``effects.min_treated`` decisions) should move to the estimate; the departure
  effect (``key_person.churn_uplift_if_owner_leaves``, calibrated from reps with ``left_on``)
  likewise when it is learned; when it is assumed (no leaver, or too few decisions after one)
  a note says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tillage.i18n import format_number, gettext_for
from tillage.kpi.forecast import ForecastAccuracy, next_renewals
from tillage.kpi.period import Period
from tillage.strategy.action_labels import action_label
from tillage.strategy.config import Strategy
from tillage.strategy.departure import DepartureCalibration
from tillage.strategy.effects import ActionEffect

MONTHS = 12
#: Fewer due renewals than this in a coverage group make the realised effect an anecdote.
THIN_RENEWALS = 30


class CoverageOutcome(BaseModel):
    """The planned accounts of one group (``covered`` or ``uncovered``) and what happened."""

    group: str
    accounts: int
    planned_uplift: float
    renewals_due: int
    churned: int
    expected_churn: float
    observed_to_expected: float | None
    retained_value: float
    expanded_value: float


class CellReturn(BaseModel):
    """Hours against value for one portfolio cell (at the period's start)."""

    cell: str
    accounts: int
    planned_hours: float
    logged_hours: float
    retained_value: float
    lost_value: float
    expanded_value: float
    value_per_hour: float | None


class ForecastVerdict(BaseModel):
    """One forecast against its baseline; ``lost`` when it scored worse."""

    model: str
    score: float | None
    baseline: float | None
    lost: bool | None
    statement: str


class Recommendation(BaseModel):
    """A change to the strategy file: ``field`` (dotted, e.g. ``playbooks.renewal_preparation.
    effect`` or ``key_person.churn_uplift_if_owner_leaves``) from ``current`` to ``proposed``,
    with its evidence; ``label`` names the setting in the review's language."""

    key: str
    field: str
    label: str = ""
    current: float
    proposed: float
    evidence: str


class ActSection(BaseModel):
    """The review's Act."""

    coverage: list[CoverageOutcome]
    realised_effect: float | None
    realised_uplift: float | None
    planned_uplift: float
    verdicts: list[ForecastVerdict]
    cells: list[CellReturn]
    recommendations: list[Recommendation]
    notes: list[str]


def _mrr(contracts: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    start = pd.to_datetime(contracts["start_date"])
    end = pd.to_datetime(contracts["end_date"])
    running = contracts[(start <= day) & (end > day)]
    return running.groupby("account_id")["recurring_amount"].sum().astype(float)


def account_outcomes(
    scores: pd.DataFrame, contracts: pd.DataFrame, as_of, period: Period
) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Per scored account: ``due``, ``churned``, ``retained_value``, ``lost_value``,
    ``expanded_value`` (see the module docstring)."""
    out = scores[["account_id"]].copy()
    out["account_id"] = out["account_id"].astype("int64")
    due = next_renewals(contracts, as_of)
    inside = (due["end_date"] > pd.Timestamp(period.first)) & (
        due["end_date"] <= pd.Timestamp(period.close)
    )
    due = due[inside]
    amount = contracts.set_index("id")["recurring_amount"].astype(float)
    due = due.assign(
        value=due["contract_id"].map(amount) * MONTHS,
        churned=(~due["renewed"].astype(bool)).astype(int),
    ).set_index("account_id")
    out["due"] = out["account_id"].isin(due.index)
    out["churned"] = out["account_id"].map(due["churned"]).fillna(0).astype(int)
    value = out["account_id"].map(due["value"]).fillna(0.0)
    out["retained_value"] = np.where(out["due"] & (out["churned"] == 0), value, 0.0)
    out["lost_value"] = np.where(out["churned"] == 1, value, 0.0)
    first = _mrr(contracts, pd.Timestamp(period.first))
    last = _mrr(contracts, pd.Timestamp(period.last))
    rise = last.reindex(first.index.union(last.index)).fillna(0.0) - first.reindex(
        first.index.union(last.index)
    ).fillna(0.0)
    out["expanded_value"] = out["account_id"].map(rise.clip(lower=0.0) * MONTHS).fillna(0.0)
    return out


def _coverage(
    scores: pd.DataFrame, actions: pd.DataFrame, activities: pd.DataFrame, outcomes: pd.DataFrame
) -> tuple[list[CoverageOutcome], float | None, float | None, float]:
    planned = actions.groupby("account_id")["expected_uplift"].sum().astype(float)
    touched = set(activities["account_id"].astype("int64"))
    rows = outcomes[outcomes["account_id"].isin(planned.index)].merge(
        scores[["account_id", "churn_risk", "ltv"]], on="account_id", how="left"
    )
    rows["covered"] = rows["account_id"].isin(touched)
    rows["planned_uplift"] = rows["account_id"].map(planned).fillna(0.0)
    rows["risk"] = pd.to_numeric(rows["churn_risk"], errors="coerce").fillna(0.0)
    groups, ratio = [], {}
    for name, covered in (("covered", True), ("uncovered", False)):
        g = rows[rows["covered"] == covered]
        due = g[g["due"]]
        expected = float(due["risk"].sum())
        churned = int(due["churned"].sum())
        ratio[name] = churned / expected if expected > 0 else None
        groups.append(
            CoverageOutcome(
                group=name,
                accounts=len(g),
                planned_uplift=float(g["planned_uplift"].sum()),
                renewals_due=len(due),
                churned=churned,
                expected_churn=expected,
                observed_to_expected=ratio[name],
                retained_value=float(g["retained_value"].sum()),
                expanded_value=float(g["expanded_value"].sum()),
            )
        )
    effect = uplift = None
    if ratio["covered"] is not None and ratio["uncovered"]:
        effect = 1 - ratio["covered"] / ratio["uncovered"]
        cov = rows[rows["covered"] & rows["due"]]
        ltv = pd.to_numeric(cov["ltv"], errors="coerce").fillna(0.0).clip(lower=0.0)
        uplift = effect * float((cov["risk"] * ltv).sum())
    return groups, effect, uplift, float(rows.loc[rows["covered"], "planned_uplift"].sum())


def _verdicts(forecast: ForecastAccuracy | None, lang: str) -> list[ForecastVerdict]:
    _ = gettext_for(lang)
    if forecast is None:
        return []
    out = []
    for model, check, label in (
        ("churn", forecast.retention, _("The churn model")),
        ("deals", forecast.deals, _("The deal model")),
    ):
        if check.brier is None or check.brier_reference is None:
            statement = _("{model}: no outcome in the period to check it against.").format(
                model=label
            )
            out.append(
                ForecastVerdict(
                    model=model, score=None, baseline=None, lost=None, statement=statement
                )
            )
            continue
        lost = check.brier > check.brier_reference
        template = (
            _(
                "{model} lost to its baseline this period: Brier {score} (reference {base}), the "
                "reference forecasting the observed rate for everyone."
            )
            if lost
            else _("{model} beat its baseline this period: Brier {score} (reference {base}).")
        )
        out.append(
            ForecastVerdict(
                model=model,
                score=check.brier,
                baseline=check.brier_reference,
                lost=lost,
                statement=template.format(
                    model=label, **_scores(check.brier, check.brier_reference)
                ),
            )
        )
    return out


def _scores(score: float, base: float) -> dict[str, str]:
    """Both Brier scores with as many decimals (3 to 6) as it takes to tell them apart."""
    for digits in range(3, 7):
        a, b = f"{score:.{digits}f}", f"{base:.{digits}f}"
        if a != b:
            break
    return {"score": a, "base": b}


def _cells(
    scores: pd.DataFrame, actions: pd.DataFrame, activities: pd.DataFrame, outcomes: pd.DataFrame
) -> list[CellReturn]:
    cell = scores.set_index(scores["account_id"].astype("int64"))["segment"].fillna("-")
    planned = actions.groupby("account_id")["hours"].sum().astype(float)
    minutes = pd.to_numeric(activities["duration_minutes"], errors="coerce").fillna(0.0)
    logged = (minutes / 60.0).groupby(activities["account_id"].astype("int64")).sum()
    rows = outcomes.assign(
        cell=outcomes["account_id"].map(cell).fillna("-"),
        planned=outcomes["account_id"].map(planned).fillna(0.0),
        logged=outcomes["account_id"].map(logged).fillna(0.0),
    )
    out = []
    for name, g in rows.groupby("cell", sort=True):
        hours = float(g["logged"].sum())
        value = float(g["retained_value"].sum() + g["expanded_value"].sum())
        out.append(
            CellReturn(
                cell=str(name),
                accounts=len(g),
                planned_hours=float(g["planned"].sum()),
                logged_hours=hours,
                retained_value=float(g["retained_value"].sum()),
                lost_value=float(g["lost_value"].sum()),
                expanded_value=float(g["expanded_value"].sum()),
                value_per_hour=value / hours if hours > 0 else None,
            )
        )
    return out


def recommendations(
    effects: dict[str, ActionEffect],
    strategy: Strategy,
    lang: str,
    departure: DepartureCalibration | None = None,
) -> list[Recommendation]:
    """A change per playbook whose learned effect's interval excludes the assumed effect, and
    one for the departure effect when it is learned and its interval excludes the assumed one."""
    _ = gettext_for(lang)
    out = []
    for play in strategy.playbooks:
        found = effects.get(play.action)
        if found is None or found.estimate is None or found.low is None or found.high is None:
            continue
        if found.treated < strategy.effects.min_treated or found.low <= play.effect <= found.high:
            continue
        proposed = round(min(max(found.estimate, 0.01), 1.0), 2)
        word = _("lower") if proposed < play.effect else _("raise")
        basis = _("retention") if play.basis == "churn" else _("expansion")
        evidence = _(
            "{action}: in {treated} of {decisions} renewal decisions with the action, its effect "
            "on {basis} is estimated at {estimate} ({low} to {high}), outside the assumed "
            "{assumed}: {word} its assumed effect from {assumed} to {proposed}."
        ).format(
            action=action_label(play.action, lang),
            treated=format_number(found.treated, lang),
            decisions=format_number(found.decisions, lang),
            basis=basis,
            estimate=_pct(found.estimate),
            low=_pct(found.low),
            high=_pct(found.high),
            assumed=_pct(play.effect),
            word=word,
            proposed=_pct(proposed),
        )
        out.append(
            Recommendation(
                key=f"playbooks.{play.action}.effect",
                field=f"playbooks.{play.action}.effect",
                label=_("{action}: assumed effect").format(action=action_label(play.action, lang)),
                current=play.effect,
                proposed=proposed,
                evidence=evidence,
            )
        )
    change = _departure_change(departure, strategy, lang)
    return out if change is None else [*out, change]


DEPARTURE_FIELD = "key_person.churn_uplift_if_owner_leaves"


def _departure_change(
    found: DepartureCalibration | None, strategy: Strategy, lang: str
) -> Recommendation | None:
    """The departure effect's change when it is learned and its interval excludes the
    assumed uplift (probability points added to the churn risk after the rep leaves)."""
    if found is None or found.source != "learned":
        return None
    if found.estimate is None or found.low is None or found.high is None:
        return None
    assumed = strategy.key_person.churn_uplift_if_owner_leaves
    if found.low <= assumed <= found.high:
        return None
    _ = gettext_for(lang)
    proposed = round(min(max(found.estimate, 0.0), 1.0), 2)
    evidence = _(
        "Departure of the account's rep: in {treated} renewal decisions after the rep left, "
        "churn rose by {estimate} points ({low} to {high}), outside the assumed {assumed}: "
        "{word} the added churn risk from {assumed} to {proposed}."
    ).format(
        treated=format_number(found.treated, lang),
        estimate=_pct(found.estimate),
        low=_pct(found.low),
        high=_pct(found.high),
        assumed=_pct(assumed),
        word=_("lower") if proposed < assumed else _("raise"),
        proposed=_pct(proposed),
    )
    return Recommendation(
        key=DEPARTURE_FIELD,
        field=DEPARTURE_FIELD,
        label=_("Added churn risk when the account's rep leaves"),
        current=assumed,
        proposed=proposed,
        evidence=evidence,
    )


def departure_note(found: DepartureCalibration | None, strategy: Strategy, lang: str) -> str:
    """A plain sentence when the departure effect is assumed (nothing calibrates it)."""
    _ = gettext_for(lang)
    assumed = strategy.key_person.churn_uplift_if_owner_leaves
    if found is None or found.source == "learned":
        return ""
    if found.treated == 0:
        return _(
            "The added churn risk after a rep leaves ({assumed}) is assumed: no rep has left "
            "(left_on) before a renewal decision, so nothing calibrates it."
        ).format(assumed=_pct(assumed))
    if found.treated < strategy.effects.min_treated:
        return _(
            "The added churn risk after a rep leaves ({assumed}) is assumed: only {n} renewal "
            "decisions followed a departure, too few to calibrate it."
        ).format(assumed=_pct(assumed), n=format_number(found.treated, lang))
    return _(
        "The added churn risk after a rep leaves ({assumed}) is assumed: {n} renewal decisions "
        "followed a departure, but the estimate is too uncertain to replace it."
    ).format(assumed=_pct(assumed), n=format_number(found.treated, lang))


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isfinite(value) else "—"


def assemble_act(
    period: Period,
    *,
    as_of,  # type: ignore[no-untyped-def]
    scores: pd.DataFrame,
    actions: pd.DataFrame,
    activities: pd.DataFrame,
    contracts: pd.DataFrame,
    forecast: ForecastAccuracy | None,
    effects: dict[str, ActionEffect],
    strategy: Strategy,
    lang: str,
    departure: DepartureCalibration | None = None,
) -> ActSection:
    """The Act of ``period`` from the start snapshot's ``scores`` (``account_id``, ``segment``,
    ``churn_risk``, ``ltv``) and planned ``actions``, the period's ``activities``, the
    ``contracts`` running from ``as_of`` to the period's close, the forecast check, the
    effects learned from the history up to the period's end and the departure calibration."""
    _ = gettext_for(lang)
    notes = []
    outcomes = account_outcomes(scores, contracts, as_of, period)
    coverage, effect, uplift, planned = _coverage(scores, actions, activities, outcomes)
    thin = min(c.renewals_due for c in coverage)
    if effect is not None and thin < THIN_RENEWALS:
        notes.append(
            _(
                "Only {n} renewals were due in the smaller group: read the realised effect as "
                "an anecdote, not a measurement."
            ).format(n=thin)
        )
    if effect is None:
        notes.append(
            _(
                "The realised effect needs expected churn among both covered and uncovered "
                "planned accounts; one group has none this period."
            )
        )
    return ActSection(
        coverage=coverage,
        realised_effect=effect,
        realised_uplift=uplift,
        planned_uplift=planned,
        verdicts=_verdicts(forecast, lang),
        cells=_cells(scores, actions, activities, outcomes),
        recommendations=recommendations(effects, strategy, lang, departure),
        notes=[*notes, *filter(None, [departure_note(departure, strategy, lang)])],
    )
