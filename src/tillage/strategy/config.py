"""The strategy file: every number a sales organisation tunes, documented and validated.

The file is TOML. Every field has a default, so an empty file is a valid strategy; ``tillage
strategy init`` writes the defaults with each field's description as a comment, and ``tillage
strategy validate`` checks a file and names the field at fault. The reference is generated from
these models (``docs/strategy.md``)::

    strategy = load_strategy("strategy.toml")
    strategy.priority.weights.renewal      # 0.5
    default_strategy_toml()                # the commented default file (config_text)
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from babel.numbers import list_currencies
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tillage.errors import ConfigurationError

Situation = Literal[
    "renewal_due", "churn_risk", "expansion", "single_threaded", "competitor", "silent", "always"
]
Basis = Literal["churn", "expansion", "pipeline"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class PortfolioThresholds(_Section):
    """Where the portfolio cells and the deal zones split."""

    value_quantile: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Quantile of LTV across accounts that splits high from low value "
        "(default 0.5, the median; a fraction).",
    )
    growth_quantile: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Quantile of expected expansion value that splits high from low growth "
        "(default 0.5; a fraction).",
    )
    value_threshold: float | None = Field(
        default=None,
        ge=0,
        description="Absolute LTV threshold that replaces value_quantile when set "
        "(default unset; currency).",
    )
    growth_threshold: float | None = Field(
        default=None,
        ge=0,
        description="Absolute expected-expansion threshold that replaces growth_quantile when "
        "set (default unset; currency).",
    )
    deal_size_quantile: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Quantile of deal size that splits large from small deals for the A/B/C "
        "zones (default 0.5; a fraction).",
    )
    win_probability_threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Win probability at or above which a deal counts as likely "
        "(default 0.5; a probability).",
    )
    interval_level: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="Coverage of the ltv_low..ltv_high interval, used to turn it into a standard "
        "deviation by the normal approximation (default 0.9; a probability).",
    )
    borderline_probability: float = Field(
        default=0.8,
        gt=0.5,
        lt=1,
        description="An account whose probability of truly belonging to its cell is below this "
        "is flagged borderline (default 0.8; a probability).",
    )


class PriorityWeights(_Section):
    """Weights of the priority = value at stake × (1 + urgency).

    ``value`` and ``growth`` count currency into the value at stake; each urgency weight is the
    share of the value at stake that its factor (0..1) adds when full.
    """

    value: float = Field(
        default=1.0,
        ge=0,
        description="LTV counted in the value at stake (default 1.0; currency per currency of "
        "LTV).",
    )
    growth: float = Field(
        default=1.0,
        ge=0,
        description="Expected expansion value counted in the value at stake (default 1.0; "
        "currency per currency of expected expansion).",
    )
    churn_risk: float = Field(
        default=1.0,
        ge=0,
        description="Urgency of the churn probability: a certain churn adds this share of the "
        "value at stake (default 1.0; a fraction of the value at stake).",
    )
    renewal: float = Field(
        default=0.5,
        ge=0,
        description="Urgency of an upcoming renewal, full on the renewal date and none beyond "
        "the renewal window (default 0.5; a fraction of the value at stake).",
    )
    competition: float = Field(
        default=0.25,
        ge=0,
        description="Urgency of a competitor on an open deal (default 0.25; a fraction of the "
        "value at stake).",
    )
    silence: float = Field(
        default=0.25,
        ge=0,
        description="Urgency of the days without a meeting, full at silence_days or beyond "
        "(default 0.25; a fraction of the value at stake).",
    )
    usage_decline: float = Field(
        default=0.25,
        ge=0,
        description="Urgency of a fall in usage, full at a 50% fall or more (default 0.25; a "
        "fraction of the value at stake).",
    )


class PrioritySettings(_Section):
    """How the priority score is computed and explained."""

    weights: PriorityWeights = Field(
        default_factory=PriorityWeights,
        description="Weights of the priority = value at stake × (1 + urgency).",
    )
    renewal_window_days: int = Field(
        default=90,
        gt=0,
        description="Renewals closer than this add urgency to the priority (default 90; days).",
    )
    silence_days: int = Field(
        default=90,
        gt=0,
        description="Days without a meeting at which the silence urgency is full "
        "(default 90; days).",
    )
    max_reasons: int = Field(
        default=4, ge=1, le=10, description="Reasons written per account (default 4; count)."
    )


class Playbook(_Section):
    """One candidate action: when it applies, what it costs, what it is expected to do."""

    action: str = Field(
        description="Name of the action, unique in the file (required; an identifier).",
        pattern=r"^[a-z][a-z0-9_]*$",
    )
    situation: Situation = Field(
        description="When the action is a candidate: renewal_due (renewal inside the renewal "
        "window), churn_risk (churn probability at or above churn_threshold), expansion "
        "(positive expected expansion value), single_threaded, competitor (an open deal names a "
        "competitor), silent (a silent-churn signal) or always (required; a situation).",
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


def _default_playbooks() -> list[Playbook]:
    rows = [
        ("renewal_preparation", "renewal_due", 4.0, "churn", 0.30),
        ("health_check", "churn_risk", 2.0, "churn", 0.15),
        ("expansion_proposal", "expansion", 6.0, "expansion", 0.25),
        ("multi_threading", "single_threaded", 3.0, "churn", 0.10),
        ("competitive_defence", "competitor", 4.0, "pipeline", 0.10),
        ("executive_sponsor_call", "silent", 2.0, "churn", 0.10),
        ("low_touch_nurture", "always", 0.5, "churn", 0.02),
    ]
    return [
        Playbook(action=a, situation=s, hours=h, basis=b, effect=e)  # type: ignore[arg-type]
        for a, s, h, b, e in rows
    ]


class CapacityRules(_Section):
    """Constraints of the account plans."""

    must_do_renewal_days: int = Field(
        default=30,
        ge=0,
        description="Renewal preparation is mandatory for renewals inside this many days "
        "(default 30; days).",
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


class Strategy(_Section):
    """The strategy file."""

    currency: str = Field(
        default="JPY", description="ISO 4217 currency of every amount (default JPY)."
    )
    discount_rate: float = Field(
        default=0.10,
        ge=0,
        lt=1,
        description="Annual discount rate of future margin (default 0.10; a fraction per year).",
    )
    horizon_months: int = Field(
        default=36, gt=0, le=240, description="LTV horizon (default 36; months)."
    )
    margin_by_family: dict[str, float] = Field(
        default_factory=lambda: {"default": 0.7},
        description="Gross margin by product family; 'default' applies to families not listed "
        "(default {default = 0.7}; fractions of revenue).",
    )
    cost_per_rep_hour: float = Field(
        default=8000.0,
        ge=0,
        description="Fully loaded cost of a rep hour, used when a rep has no hourly_cost; "
        "actions whose uplift does not cover their cost are not planned "
        "(default 8000; currency per hour).",
    )
    portfolio: PortfolioThresholds = Field(
        default_factory=PortfolioThresholds, description="Portfolio cells and deal zones."
    )
    priority: PrioritySettings = Field(
        default_factory=PrioritySettings, description="Priority score and its reasons."
    )
    capacity: CapacityRules = Field(
        default_factory=CapacityRules, description="Constraints of the account plans."
    )
    key_person: KeyPersonRules = Field(
        default_factory=KeyPersonRules, description="Key-person dependency and silent churn."
    )
    kpi: KpiSettings = Field(
        default_factory=KpiSettings,
        description="KPI targets and the settings of the period review and the 1on1 agenda.",
    )
    playbooks: list[Playbook] = Field(
        default_factory=_default_playbooks,
        description="Situations → candidate actions with hours and assumed effect sizes.",
    )

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in list_currencies():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value

    @field_validator("margin_by_family")
    @classmethod
    def _margins(cls, value: dict[str, float]) -> dict[str, float]:
        if "default" not in value:
            raise ValueError("needs a 'default' margin for families not listed")
        bad = {k: v for k, v in value.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"margins must be fractions between 0 and 1, got {bad}")
        return value

    @model_validator(mode="after")
    def _unique_actions(self) -> Strategy:
        names = [p.action for p in self.playbooks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"playbooks: action names must be unique, repeated: {dupes}")
        return self

    def margin(self, family: str | None) -> float:
        """Gross margin of a product family (the default for unknown families)."""
        return self.margin_by_family.get(family or "default", self.margin_by_family["default"])


def _field_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """Each of pydantic's errors as (dotted field path, reason)."""
    return [(".".join(str(p) for p in err["loc"]) or "(file)", err["msg"]) for err in exc.errors()]


def _format_errors(fields: list[tuple[str, str]], source: str) -> str:
    lines = [f"{where}: {reason}" for where, reason in fields]
    return f"invalid strategy file {source}:\n  " + "\n  ".join(lines)


def parse_strategy(data: dict[str, Any], *, source: str = "<data>") -> Strategy:
    """Validate a parsed strategy; raise :class:`ConfigurationError` naming each bad field."""
    try:
        return Strategy.model_validate(data)
    except ValidationError as exc:
        fields = _field_errors(exc)
        raise ConfigurationError(_format_errors(fields, source), fields) from None


def loads_strategy(text: str, *, source: str = "<text>") -> Strategy:
    """Parse and validate strategy TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"strategy file {source} is not valid TOML: {exc}") from None
    return parse_strategy(data, source=source)


def load_strategy(path: str | Path | None = None) -> Strategy:
    """The strategy in ``path``, or the defaults when ``path`` is None."""
    if path is None:
        return Strategy()
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(
            f"strategy file {path.name} not found; create one with `tillage strategy init`"
        )
    return loads_strategy(path.read_text(encoding="utf-8"), source=path.name)


# --- writing the commented default ---------------------------------------------------------
