"""Building blocks of the strategy file's models: the shared section base, the currency code type
and the literal vocabularies (situations, portfolio cells, bases of uplift)."""

from __future__ import annotations

from typing import Annotated, Literal

from babel.numbers import list_currencies
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
)

Situation = Literal[
    "renewal_due",
    "churn_risk",
    "expansion",
    "single_threaded",
    "competitor",
    "silent",
    "critical_ticket",
    "always",
]
Cell = Literal["deepen", "maintain", "nurture", "reduce"]
Basis = Literal["churn", "expansion", "pipeline"]


def _iso_currency(value: str) -> str:
    if value not in list_currencies():
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


Currency = Annotated[str, AfterValidator(_iso_currency)]
"""An ISO 4217 currency code."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)
