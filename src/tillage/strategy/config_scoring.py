"""Strategy-file sections that score accounts: portfolio thresholds and the priority's weights and
settings (see :mod:`tillage.strategy.config`)."""

from __future__ import annotations

from pydantic import (
    Field,
)

from tillage.strategy.config_base import _Section


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
    win_probability_quantile: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Quantile of the open deals' win probabilities at or above which a deal "
        "counts as likely, so the zones split the company's own deals (default 0.5, the median; "
        "a fraction).",
    )
    win_probability_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Absolute win probability at or above which a deal counts as likely; "
        "replaces win_probability_quantile when set (default unset; a probability).",
    )
    churn_high_quantile: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="Quantile of the accounts' churn risks from which an account is in the high "
        "churn-risk band (default 0.9: the riskiest tenth; a fraction).",
    )
    churn_high_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Absolute churn risk from which an account is in the high band; replaces "
        "churn_high_quantile when set (default unset; a probability).",
    )
    hysteresis: float = Field(
        default=0.5,
        ge=0,
        lt=1,
        description="An account keeps its previous snapshot's side of a value or growth split "
        "until its estimate passes the split by this share of the split (default 0.5; a "
        "fraction of the threshold).",
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
        description="Urgency of a fall in usage beyond usage_noise, full at a 50% fall or more "
        "(default 0.25; a fraction of the value at stake).",
    )
    detractor: float = Field(
        default=0.5,
        ge=0,
        description="Urgency of a detractor NPS answer (key_person.detractor_nps or below) "
        "within the look-back (default 0.5; a fraction of the value at stake).",
    )
    tickets: float = Field(
        default=0.5,
        ge=0,
        description="Urgency of an open severe ticket, full when it has been open "
        "ticket_full_days (default 0.5; a fraction of the value at stake).",
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
    min_silence_days: int = Field(
        default=60,
        gt=0,
        description="Days without a meeting below which silence adds no urgency and is no "
        "reason (default 60; days).",
    )
    usage_noise: float = Field(
        default=0.15,
        ge=0,
        lt=0.5,
        description="Usage falls up to this are noise: no urgency, no reason (default 0.15; a "
        "fraction).",
    )
    lookback_days: int = Field(
        default=180,
        gt=0,
        description="A detractor NPS answer counts when given within this many days "
        "(default 180; days).",
    )
    severe_ticket_severity: int = Field(
        default=2,
        ge=1,
        le=4,
        description="Open tickets of this severity or worse (1 = critical) add urgency "
        "(default 2; a severity 1..4).",
    )
    ticket_full_days: int = Field(
        default=60,
        gt=0,
        description="A severe ticket open this long gives its full urgency (default 60; days).",
    )
    min_reason_share: float = Field(
        default=0.05,
        ge=0,
        lt=1,
        description="A reason is written only when its part is at least this share of the "
        "priority (default 0.05; a fraction).",
    )
    min_growth_share: float = Field(
        default=0.05,
        ge=0,
        description="The expansion potential is a reason only when it is at least this share of "
        "the LTV (default 0.05; a fraction).",
    )
    unowned_actionability: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Actionability of an account without an owner rep: its priority is scaled "
        "by this, as nobody can act on it this month (default 0.5; a fraction).",
    )
