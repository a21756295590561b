"""Strategy-file sections that plan and review the work: playbooks, capacity rules, key-person
rules, KPI settings and exchange rates (see :mod:`tillage.strategy.config`)."""

from __future__ import annotations

import datetime as dt
import math

from pydantic import (
    Field,
    field_validator,
)

from tillage.strategy.config_base import Basis, Cell, Currency, Situation, _Section


class Playbook(_Section):
    """One candidate action: when it applies, what it costs, what it is expected to do."""

    action: str = Field(
        description="Name of the action, unique in the file (required; an identifier).",
        pattern=r"^[a-z][a-z0-9_]*$",
    )
    situation: Situation = Field(
        description="When the action is a candidate: renewal_due (an undecided renewal inside the "
        "renewal window), churn_risk (churn probability at or above churn_threshold), expansion "
        "(positive expected expansion value), single_threaded, competitor (an open deal names a "
        "competitor), silent (a silent-churn signal), critical_ticket (an open severity-1 "
        "ticket) or always (required; a situation).",
    )
    hours: float = Field(gt=0, description="Rep time the action takes (required; hours).")
    basis: Basis = Field(
        default="churn",
        description="What the effect applies to: churn (the effect is the relative reduction "
        "of churn probability, uplift = effect × churn probability × LTV), expansion "
        "(uplift = effect × expected expansion value) or pipeline (uplift = effect × open "
        "pipeline × win probability) (default churn).",
    )
    effect: float = Field(
        gt=0,
        le=1,
        description="Assumed effect size: the relative change of the basis the action brings "
        "(required; a fraction, e.g. 0.2 = 20%).",
    )
    cells: list[Cell] = Field(
        default_factory=lambda: ["deepen", "maintain", "nurture", "reduce"],
        min_length=1,
        description="Portfolio cells whose accounts the playbook serves (default all four: "
        "deepen, maintain, nurture, reduce).",
    )
    subjects: list[str] = Field(
        default_factory=list,
        description="Words that mark a logged activity as this action: an activity whose "
        "subject contains one of them (case-insensitive) counts as the action when its effect "
        "is learned from the history (default none: the action name with spaces, e.g. "
        "'renewal preparation').",
    )

    def markers(self) -> list[str]:
        """The subject words of the action, lower-case (:attr:`subjects`, else the name)."""
        words = self.subjects or [self.action.replace("_", " ")]
        return [w.casefold() for w in words if w.strip()]


ALL_CELLS: list[Cell] = ["deepen", "maintain", "nurture", "reduce"]


def _default_playbooks() -> list[Playbook]:
    """The source material's playbooks, bound to the portfolio cells: deepen → expansion and
    executive sponsor; nurture → low-touch; reduce → the minimum; every cell → renewal, health,
    multi-threading, competitive defence and the recovery of a critical ticket."""
    rows = [
        ("renewal_preparation", "renewal_due", 4.0, "churn", 0.30, ALL_CELLS),
        ("ticket_recovery", "critical_ticket", 3.0, "churn", 0.25, ALL_CELLS),
        ("health_check", "churn_risk", 2.0, "churn", 0.15, ALL_CELLS),
        ("expansion_proposal", "expansion", 6.0, "expansion", 0.25, ["deepen"]),
        ("multi_threading", "single_threaded", 3.0, "churn", 0.10, ALL_CELLS),
        ("competitive_defence", "competitor", 4.0, "pipeline", 0.10, ALL_CELLS),
        ("executive_sponsor_call", "silent", 2.0, "churn", 0.10, ["deepen", "maintain"]),
        ("low_touch_nurture", "always", 0.5, "churn", 0.02, ["nurture"]),
        ("maintain_minimum", "always", 0.25, "churn", 0.01, ["reduce"]),
    ]
    return [
        Playbook(
            action=a,
            situation=s,  # type: ignore[arg-type]
            hours=h,
            basis=b,  # type: ignore[arg-type]
            effect=e,
            cells=c,
            subjects=[a.replace("_", " "), *DEFAULT_SUBJECTS.get(a, ())],
        )
        for a, s, h, b, e, c in rows
    ]


#: Japanese subject words of the default playbooks (an activity titled 更新準備 … is renewal
#: preparation).
DEFAULT_SUBJECTS: dict[str, tuple[str, ...]] = {
    "renewal_preparation": ("更新準備",),
    "ticket_recovery": ("障害対応",),
    "health_check": ("ヘルスチェック",),
    "expansion_proposal": ("拡大提案", "アップセル提案"),
    "multi_threading": ("関係者拡大",),
    "competitive_defence": ("競合対策",),
    "executive_sponsor_call": ("役員面談",),
    "low_touch_nurture": ("ナーチャリング",),
    "maintain_minimum": ("定期連絡",),
}


class EffectSettings(_Section):
    """How the effects of the playbooks are learned from the company's history
    (:mod:`tillage.strategy.effects`)."""

    window_days: int = Field(
        default=90,
        gt=0,
        le=366,
        description="An action counts for a renewal decision when logged in this many days "
        "before the contract's end, within the ending term (default 90; days).",
    )
    prior_sd: float = Field(
        default=0.10,
        gt=0,
        le=1,
        description="How far the true effect may lie from the assumed one: the standard "
        "deviation of the prior the estimate is shrunk towards (default 0.10; a fraction).",
    )
    min_treated: int = Field(
        default=30,
        ge=1,
        description="Renewal decisions with the action needed before its effect can be "
        "learned (default 30; count).",
    )
    learn: bool = Field(
        default=True,
        description="Whether the plans use learned effects where the evidence suffices "
        "(default true; false: always the assumed effect).",
    )


class CapacityRules(_Section):
    """Constraints of the account plans."""

    must_do_renewal_days: int = Field(
        default=30,
        ge=0,
        description="Renewal preparation is mandatory for undecided renewals inside this many "
        "days, and a critical ticket's recovery is mandatory, when the expected uplift pays for "
        "the rep's hours (default 30; days).",
    )
    policy_min_revenue: float | None = Field(
        default=None,
        ge=0,
        description="Policy: accounts with at least this revenue over the last 12 months keep "
        "their mandatory actions even when the uplift does not pay for the hours; each is "
        "marked as a policy exception (default unset: no exception; currency).",
    )
    max_actions_per_account: int = Field(
        default=3, ge=1, description="Actions planned per account per month (default 3; count)."
    )
    churn_threshold: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Churn probability at or above which churn_risk playbooks apply "
        "(default 0.2; a probability).",
    )
    utilisation: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="Share of a rep's capacity_hours available for planned account actions "
        "(default 0.7; a fraction).",
    )


class KeyPersonRules(_Section):
    """Key-person dependency and silent churn."""

    churn_uplift_if_owner_leaves: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Added churn probability of a single-threaded account when its "
        "relationship owner leaves (default 0.25; a probability, capped at 1 in total).",
    )
    window_days: int = Field(
        default=180,
        gt=0,
        description="Touches (activities) of the last this many days measure the key-person "
        "dependency (default 180; days).",
    )
    single_threaded_rep_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Share of an account's touches by its top rep at or above which the "
        "account is single-threaded on that rep (default 0.8; a fraction).",
    )
    single_threaded_max_contacts: int = Field(
        default=1,
        ge=0,
        description="An account touching at most this many customer contacts is "
        "single-threaded (default 1; count).",
    )
    silent_days: int = Field(
        default=120,
        gt=0,
        description="No meeting for this long is a silent-churn signal (default 120; days).",
    )
    usage_drop: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="A usage fall of this much is a silent-churn signal (default 0.25; a "
        "fraction).",
    )
    detractor_nps: float = Field(
        default=6.0,
        ge=0,
        le=10,
        description="An NPS answer at or below this is a detractor signal (default 6; 0..10).",
    )
    order_drop: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="A fall of this much in the last 365 days' order revenue against the year "
        "before is a silent-churn signal (default 0.25; a fraction).",
    )
    handover_hours: float = Field(
        default=2.0,
        ge=0,
        description="Hours a successor needs in the month to take over an account that has no "
        "planned actions (default 2; hours per account).",
    )


def _finite_targets(value: dict[str, float], where: str) -> dict[str, float]:
    bad = sorted(k for k, v in value.items() if not math.isfinite(v))
    if bad:
        raise ValueError(f"{where}: targets of {', '.join(bad)} must be finite numbers")
    return value


class KpiSettings(_Section):
    """KPI targets (checked against the KPI registry by ``tillage.kpi.targets``) and the
    settings of the period review and the 1on1 agenda."""

    targets: dict[str, float] = Field(
        default_factory=dict,
        description="Company targets by KPI key, e.g. nrr = 110 (default none; the KPI's unit, "
        "percent for rates). A ratio KPI's company target is also the target of every rep, team "
        "and segment without its own.",
    )
    team_targets: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Targets of one team by team name, as a table per team, e.g. "
        "[kpi.team_targets.East] nrr = 115 (default none; the KPI's unit).",
    )
    rep_targets: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='Targets of one rep by rep name, e.g. [kpi.rep_targets."Ito"] '
        "expansion_proposals = 6 (default none; the KPI's unit).",
    )
    segment_targets: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Targets of one portfolio segment by segment name (default none; the "
        "KPI's unit).",
    )
    meeting_days: int = Field(
        default=90,
        gt=0,
        le=366,
        description="Look-back of the regular-meeting rate and of the review's behaviour-to-"
        "outcome analysis: an account meets regularly with a meeting, visit or QBR in this many "
        "days (default 90; days).",
    )
    priority_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Share of scored accounts, highest priority first, that count as priority "
        "accounts in the review (default 0.2; a fraction).",
    )
    confidence_level: float = Field(
        default=0.95,
        gt=0.5,
        lt=1,
        description="Coverage of the review's confidence intervals (default 0.95; a probability).",
    )
    lapse_days: int = Field(
        default=180,
        ge=7,
        le=1096,
        description="Order KPIs (stores without contracts): an account whose last order is more "
        "than this many days before a period's first day is lapsed, and its next order "
        "reactivates it; the contact KPIs of such a store watch the buyers with an order in this "
        "many days up to the period's last day (default 180; days, 7 to 1096).",
    )
    agenda_accounts: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Accounts listed per section of the 1on1 agenda (default 5; count).",
    )

    @field_validator("targets")
    @classmethod
    def _finite(cls, value: dict[str, float]) -> dict[str, float]:
        return _finite_targets(value, "targets")

    @field_validator("team_targets", "rep_targets", "segment_targets")
    @classmethod
    def _finite_by_cut(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for name, targets in value.items():
            _finite_targets(targets, name)
        return value


class ExchangeRate(_Section):
    """A rate into the strategy's currency, used to convert imported amounts."""

    currency: Currency = Field(description="ISO 4217 code of the other currency (required).")
    rate: float = Field(
        gt=0,
        allow_inf_nan=False,
        description="Units of the strategy's currency per one unit of the other currency "
        "(required; e.g. 150.0 for USD into JPY).",
    )
    valid_from: dt.date | None = Field(
        default=None,
        description="First date the rate applies to, until the next dated rate of the currency "
        "(default unset: the rate for dates no dated rate covers).",
    )
