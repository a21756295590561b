"""Targets per KPI and the gap to them.

The schema is a small TOML section, meant to be merged into the strategy file later::

    [kpi.targets]
    nrr = 110.0               # in the KPI's unit (percent here)
    logo_churn_rate = 5.0
    regular_meeting_rate = 80.0

Keys must be registered KPIs; values are finite numbers in the KPI's unit. A target is *met*
when the value is at or above it for a higher-is-better KPI, at or below it otherwise.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tillage.errors import DataValidationError
from tillage.kpi.compute import REGISTRY


class KpiTargets(BaseModel):
    """The ``[kpi.targets]`` section: KPI key → target in the KPI's unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[str, float] = Field(
        default_factory=dict, description="KPI key → target value in the KPI's unit."
    )

    @field_validator("targets")
    @classmethod
    def _known_and_finite(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(REGISTRY))
        if unknown:
            raise ValueError(
                f"unknown KPI(s) {', '.join(unknown)}: choose from {', '.join(REGISTRY)}"
            )
        bad = sorted(k for k, v in value.items() if not math.isfinite(v))
        if bad:
            raise ValueError(f"targets of {', '.join(bad)} must be finite numbers")
        return value


def parse_targets(data: dict[str, Any]) -> KpiTargets:
    """Targets from a parsed TOML document (its ``[kpi.targets]`` table; none when absent)."""
    section = data.get("kpi", {})
    if not isinstance(section, dict):
        raise DataValidationError("[kpi] must be a table")
    try:
        return KpiTargets(targets=section.get("targets", {}))
    except ValidationError as exc:
        raise DataValidationError(f"[kpi.targets]: {exc.errors()[0]['msg']}") from exc


def load_targets(path: Path) -> KpiTargets:
    """Targets from a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"{path.name} is not valid TOML: {exc}") from exc
    return parse_targets(data)


def gap_to_target(frame: pd.DataFrame, targets: KpiTargets) -> pd.DataFrame:
    """``frame`` (from :func:`~tillage.kpi.compute.compute_kpis`) with ``target``, ``gap``
    (value − target) and ``met`` (direction-aware; null without a target or a value)."""
    target = frame["kpi"].map(targets.targets).astype("float64")
    gap = frame["value"] - target
    higher = frame["kpi"].map(lambda k: REGISTRY[k].direction == "higher")
    met = (gap >= 0).where(higher, gap <= 0).astype("boolean")
    met = met.mask(gap.isna())
    return frame.assign(target=target, gap=gap, met=met)
