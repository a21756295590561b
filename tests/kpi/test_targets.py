"""KPI targets: the TOML section is validated; the gap and "met" follow the KPI's direction."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.kpi.targets import gap_to_target, load_targets, parse_targets


def test_gap_and_met_follow_direction(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "strategy.toml"
    path.write_text("[kpi.targets]\nnrr = 100.0\nlogo_churn_rate = 10\n", encoding="utf-8")
    targets = load_targets(path)
    frame = pd.DataFrame(
        {
            "kpi": ["nrr", "logo_churn_rate", "arpu", "nrr"],
            "value": [82.2, 25.0, 100.0, math.nan],
        }
    )
    out = gap_to_target(frame, targets)
    assert out.gap.iloc[0] == pytest.approx(-17.8)
    assert not out.met.iloc[0]  # NRR below target
    assert out.gap.iloc[1] == pytest.approx(15.0)
    assert not out.met.iloc[1]  # churn above target
    assert pd.isna(out.target.iloc[2]) and pd.isna(out.met.iloc[2])
    assert pd.isna(out.met.iloc[3])
    frame.loc[1, "value"] = 4.0
    assert gap_to_target(frame, targets).met.iloc[1]  # lower is better: met


def test_refuses_unknown_kpi_and_bad_values() -> None:
    with pytest.raises(DataValidationError, match="unknown KPI"):
        parse_targets({"kpi": {"targets": {"nps_score": 30}}})
    with pytest.raises(DataValidationError, match="finite"):
        parse_targets({"kpi": {"targets": {"nps": float("inf")}}})
    with pytest.raises(DataValidationError):
        parse_targets({"kpi": {"targets": {"nps": "high"}}})
    assert parse_targets({}).targets == {}
