"""The strategy file: every number a sales organisation tunes, documented and validated.

The file is TOML. Every field has a default, so an empty file is a valid strategy; ``tillage
strategy init`` writes the defaults with each field's description as a comment, and ``tillage
strategy validate`` checks a file and names the field at fault. The reference is generated from
these models (``docs/strategy.md``)::

    strategy = load_strategy("strategy.toml")
    strategy.priority.weights.renewal      # 0.5
    default_strategy_toml()                # the commented default file
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tillage.errors import ConfigurationError
from tillage.strategy.config_actions import (
    CapacityRules,
    EffectSettings,
    ExchangeRate,
    KeyPersonRules,
    KpiSettings,
    Playbook,
    _default_playbooks,
)
from tillage.strategy.config_base import Basis, Cell, Currency, Situation, _Section
from tillage.strategy.config_calendar import (
    CADENCE_DESCRIPTION,
    FISCAL_DESCRIPTION,
    Cadence,
    Schedule,
    _default_cadence,
)
from tillage.strategy.config_scoring import PortfolioThresholds, PrioritySettings, PriorityWeights

__all__ = [
    "Basis",
    "Cadence",
    "CapacityRules",
    "Cell",
    "Currency",
    "EffectSettings",
    "ExchangeRate",
    "KeyPersonRules",
    "KpiSettings",
    "Playbook",
    "PortfolioThresholds",
    "PrioritySettings",
    "PriorityWeights",
    "Schedule",
    "Situation",
    "Strategy",
    "load_strategy",
    "loads_strategy",
    "parse_strategy",
]


class Strategy(_Section):
    """The strategy file."""

    currency: Currency = Field(
        default="JPY", description="ISO 4217 currency of every amount (default JPY)."
    )
    exchange_rates: list[ExchangeRate] = Field(
        default_factory=list,
        description="Rates into currency for imports with amounts in other currencies, as "
        "[[exchange_rates]] entries with currency, rate and optionally valid_from (default "
        "none: an import with amounts in another currency is refused).",
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
    revenue_from_won_deals: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Whether won opportunities count as revenue (an order of the deal's amount "
        "on its close date): auto = only when the store has no orders and no contracts (a "
        "CRM-only company), always = in place of the orders, never (default auto).",
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
    effects: EffectSettings = Field(
        default_factory=EffectSettings,
        description="Learning the playbooks' effects from the company's history.",
    )
    playbooks: list[Playbook] = Field(
        default_factory=_default_playbooks,
        description="Situations → candidate actions with hours and assumed effect sizes.",
    )
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12, description=FISCAL_DESCRIPTION)
    cadence: dict[Cell, Cadence] = Field(
        default_factory=_default_cadence, description=CADENCE_DESCRIPTION
    )
    schedule: Schedule = Field(
        default_factory=Schedule,
        description="Re-scoring rhythm: the stale-data banner and `tillage worker` (default every "
        "7 days, from 2 o'clock).",
    )

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
