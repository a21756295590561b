"""Fixtures for the model tests: the published data sets copied under tests/data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """CDNOW 39-week calibration summary (frequency, recency, T in weeks), 2,357 customers."""
    return pd.read_csv(DATA / "cdnow" / "cdnow_customers_summary.csv", index_col="ID")


@pytest.fixture(scope="session")
def cdnow_spend() -> pd.DataFrame:
    """CDNOW summary with zbar, the mean value of repeat transactions (946 repeat buyers)."""
    raw = pd.read_csv(DATA / "cdnow" / "cdnow_customers_summary_with_transactions.csv", index_col=0)
    return pd.DataFrame(
        {"frequency": raw["x"], "recency": raw["t_x"], "T": raw["T"], "monetary_value": raw["zbar"]}
    )


@pytest.fixture(scope="session")
def sbg_cohorts() -> dict[str, pd.DataFrame]:
    """Fader & Hardie (2007) cohorts in tillage's sBG encoding (T = 7 years observed)."""
    raw = pd.read_csv(DATA / "fader_hardie_sbg" / "sbg_paper.csv")
    out = {}
    for name, group in raw.groupby("cohorts"):
        alive = (group["recency"] > 7).astype(int)
        out[str(name)] = pd.DataFrame(
            {"recency": group["recency"].clip(upper=7), "T": 7, "alive": alive}
        ).reset_index(drop=True)
    return out
