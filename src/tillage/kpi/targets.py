"""Targets per KPI and cut, read from the strategy file's ``[kpi]`` section, and the gap to them.

The section (``docs/strategy.md``, validated by :class:`tillage.strategy.config.KpiSettings`)::

    [kpi.targets]             # the company, in the KPI's unit (percent here)
    nrr = 110.0
    logo_churn_rate = 5.0

    [kpi.team_targets.East]   # one team, by name; also rep_targets and segment_targets
    nrr = 115.0

Keys must be registered KPIs; values are finite numbers in the KPI's unit. A cut value's own
target wins; otherwise a *ratio* KPI's company target applies to every rep, team and segment
(a *count* KPI's company target is a company total and applies to the company only). A target is
*met* when the value is at or above it for a higher-is-better KPI, at or below it otherwise.
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
from tillage.strategy.config import KpiSettings

#: The strategy file's table of each cut's own targets.
CUT_SECTIONS: dict[str, str] = {
    "team": "team_targets",
    "rep": "rep_targets",
    "segment": "segment_targets",
}


def _check_keys(value: dict[str, float], where: str) -> dict[str, float]:
    unknown = sorted(set(value) - set(REGISTRY))
    if unknown:
        raise ValueError(
            f"{where}: unknown KPI(s) {', '.join(unknown)}: choose from {', '.join(REGISTRY)}"
        )
    bad = sorted(k for k, v in value.items() if not math.isfinite(v))
    if bad:
        raise ValueError(f"{where}: targets of {', '.join(bad)} must be finite numbers")
    return value


class KpiTargets(BaseModel):
    """Company targets (KPI key → target) and each cut value's own (cut → value → KPI → target),
    in the KPI's unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[str, float] = Field(
        default_factory=dict, description="KPI key → company target in the KPI's unit."
    )
    by_cut: dict[str, dict[str, dict[str, float]]] = Field(
        default_factory=dict,
        description="Cut (rep, team, segment) → cut value → KPI key → target.",
    )

    @field_validator("targets")
    @classmethod
    def _known_and_finite(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_keys(value, "kpi.targets")

    @field_validator("by_cut")
    @classmethod
    def _known_cuts(
        cls, value: dict[str, dict[str, dict[str, float]]]
    ) -> dict[str, dict[str, dict[str, float]]]:
        for cut, by_value in value.items():
            if cut not in CUT_SECTIONS:
                raise ValueError(f"unknown cut {cut!r}: choose from {', '.join(CUT_SECTIONS)}")
            for name, targets in by_value.items():
                _check_keys(targets, f"kpi.{CUT_SECTIONS[cut]}.{name}")
        return value

    def target(self, kpi: str, cut: str = "all", cut_value: str = "all") -> float | None:
        """The target of ``kpi`` for one cut value (see the module docstring), or ``None``."""
        own = self.by_cut.get(cut, {}).get(cut_value, {})
        if kpi in own:
            return own[kpi]
        if cut == "all" or REGISTRY[kpi].kind != "count":
            return self.targets.get(kpi)
        return None


def targets_from_settings(settings: KpiSettings) -> KpiTargets:
    """The targets of a validated ``[kpi]`` section, checked against the KPI registry."""
    try:
        return KpiTargets(
            targets=settings.targets,
            by_cut={
                cut: getattr(settings, section)
                for cut, section in CUT_SECTIONS.items()
                if getattr(settings, section)
            },
        )
    except ValidationError as exc:
        raise DataValidationError(f"[kpi]: {exc.errors()[0]['msg']}") from exc


def parse_targets(data: dict[str, Any]) -> KpiTargets:
    """Targets from a parsed strategy document (its ``[kpi]`` table; none when absent)."""
    section = data.get("kpi", {})
    if not isinstance(section, dict):
        raise DataValidationError("[kpi] must be a table")
    try:
        settings = KpiSettings.model_validate(section)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise DataValidationError(f"[kpi] {where}: {err['msg']}") from exc
    return targets_from_settings(settings)


def load_targets(path: Path) -> KpiTargets:
    """Targets from a TOML file: a strategy file, or a file holding only ``[kpi.targets]``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"{path.name} is not valid TOML: {exc}") from exc
    return parse_targets(data)


def gap_to_target(frame: pd.DataFrame, targets: KpiTargets) -> pd.DataFrame:
    """``frame`` (from :func:`~tillage.kpi.compute.compute_kpis`) with ``target``, ``gap``
    (value − target) and ``met`` (direction-aware; null without a target or a value).

    Without ``cut`` / ``cut_value`` columns every row is taken as the company's."""
    cuts = frame["cut"] if "cut" in frame.columns else pd.Series("all", index=frame.index)
    values = (
        frame["cut_value"] if "cut_value" in frame.columns else pd.Series("all", index=frame.index)
    )
    target = pd.Series(
        [
            targets.target(k, c, v)
            for k, c, v in zip(frame["kpi"], cuts.astype(str), values.astype(str), strict=True)
        ],
        index=frame.index,
        dtype="float64",
    )
    gap = frame["value"] - target
    higher = frame["kpi"].map(lambda k: REGISTRY[k].direction == "higher")
    met = (gap >= 0).where(higher, gap <= 0).astype("boolean")
    met = met.mask(gap.isna())
    return frame.assign(target=target, gap=gap, met=met)
