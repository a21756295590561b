"""The Python façade (docs/python.md): the same figures as the services, no SQL needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session

import tillage
from tillage.services.accounts import Listing, account_page
from tillage.services.listing import risk_bands
from tillage.store.access import everything

CDNOW = Path(__file__).resolve().parent / "data" / "cdnow" / "cdnow_sample_transactions.csv"


def test_import_tillage_stays_light() -> None:
    probe = "import sys, tillage; print(any(m in sys.modules for m in ('pandas', 'sqlalchemy')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = tillage.nothing  # type: ignore[attr-defined]


def test_fit_clv_on_a_frame_matches_the_published_cdnow_fit() -> None:
    log = pd.read_csv(CDNOW, dtype={"sample_customer_id": str, "date": str})
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    result = tillage.fit_clv(
        log,
        customer="sample_customer_id",
        amount="dollar_value",
        calibration_end="1997-09-30",
        horizon=39,
    )
    assert result.params["bgnbd"]["r"] == pytest.approx(0.243, abs=5e-4)  # Fader et al. 2005
    assert result.params["bgnbd"]["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert len(result.frame) == log["sample_customer_id"].nunique()
    assert (result.frame["clv"] >= 0).all()


def test_store_reads_what_the_listing_shows(scored_demo) -> None:  # type: ignore[no-untyped-def]
    with tillage.open_store(scored_demo.url) as store:
        scores = store.latest_scores()
        churn = store.accounts(risk="churn", limit=5)
        snapshots = store.snapshots()
    with Session(scored_demo.engine) as session:
        page = account_page(session, everything(), Listing(), limit=1)
        high = risk_bands(session, page.snapshot.id)["high"][0]  # the snapshot's high band
    assert scores.attrs["snapshot_id"] == page.snapshot.id == snapshots["id"].iloc[0]
    assert len(scores) == page.total
    assert scores["ltv"].sum() == pytest.approx(page.total_ltv)
    assert churn.attrs["total"] == int((scores["churn_risk"] >= high).sum())
    assert len(churn) == min(5, churn.attrs["total"])
