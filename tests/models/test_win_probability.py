"""The calibrated win-probability model on synthetic deals whose true probability is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from tillage.errors import DataValidationError, NotFittedError
from tillage.models.calibration import compare_probabilities, reliability_table
from tillage.models.win_probability import WinProbabilityModel, deal_weights, time_split

FEATURES = ("competitor", "activities_90d", "log_amount")
STAGE_RATE = {1: 0.3, 2: 0.4, 3: 0.55, 4: 0.7}


def deals(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stage = rng.integers(1, 5, n)
    frame = pd.DataFrame(
        {
            "opportunity_id": np.arange(n),
            "as_of": pd.Timestamp("2025-01-31")
            + pd.to_timedelta(rng.integers(0, 12, n) * 30, unit="D"),
            "type": rng.choice(["upsell", "cross_sell", "renewal"], n),
            "stage_as_of": stage,
            "competitor": (rng.random(n) < 0.35).astype(float),
            "activities_90d": rng.poisson(3, n).astype(float),
            "log_amount": rng.normal(13, 1, n),
        }
    )
    eta = (
        logit(np.vectorize(STAGE_RATE.get)(stage))
        - 1.0 * frame["competitor"]
        + 0.3 * (frame["activities_90d"] - 3)
        + 0.5 * (frame["type"] == "renewal")
    )
    frame["true_p"] = expit(eta)
    frame["label_won"] = (rng.random(n) < frame["true_p"]).astype(float)
    frame["close_date"] = frame["as_of"] + pd.Timedelta(days=20)
    frame.loc[frame.index[:5], "activities_90d"] = np.nan  # missing values are imputed
    return frame


def test_beats_stage_rates_and_is_calibrated_on_later_deals() -> None:
    frame = deals(12000, seed=1)
    train, test = time_split(frame, "2025-09-30")
    model = WinProbabilityModel(features=FEATURES).fit(train)
    p, base = model.predict_proba(test), model.predict_stage_rate(test)
    scores = compare_probabilities(
        test["label_won"], {"model": p, "stage": base, "truth": test["true_p"]}
    )
    assert scores.loc["model", "brier"] < scores.loc["stage", "brier"] - 0.01
    assert scores.loc["model", "brier"] < scores.loc["truth", "brier"] + 0.005
    table = reliability_table(test["label_won"], p)
    assert (table["difference"].abs() < 3 * table["standard_error"] + 0.02).all(), table
    assert model.coef_["competitor"] < 0 < model.coef_["activities_90d"]
    assert not model.thin_data_


def test_thin_data_falls_back_to_stage_rates_and_says_so() -> None:
    frame = deals(120, seed=2)
    model = WinProbabilityModel(features=FEATURES, min_deals=200).fit(frame)
    assert model.thin_data_
    assert "thin data" in model.notes_[0]
    pd.testing.assert_series_equal(
        model.predict_proba(frame), model.predict_stage_rate(frame).rename("win_probability")
    )
    # stage rates are shrunk towards the overall rate
    raw = frame.groupby("stage_as_of")["label_won"].mean()
    overall = frame["label_won"].mean()
    assert ((model.stage_rates_ - overall).abs() <= (raw - overall).abs() + 1e-12).all()


def test_strong_penalty_keeps_predictions_near_stage_rates() -> None:
    frame = deals(3000, seed=3)
    model = WinProbabilityModel(features=FEATURES, penalty=1e9, calibration="none").fit(frame)
    gap = (model.predict_proba(frame) - model.predict_stage_rate(frame)).abs()
    assert gap.max() < 0.02


def test_errors_name_the_problem() -> None:
    frame = deals(300)
    with pytest.raises(NotFittedError, match="WinProbabilityModel"):
        WinProbabilityModel(features=FEATURES).predict_proba(frame)
    with pytest.raises(DataValidationError, match="'competitor'"):
        WinProbabilityModel(features=FEATURES).fit(frame.drop(columns="competitor"))
    bad = frame.assign(label_won=frame["label_won"].where(frame.index > 3))
    with pytest.raises(DataValidationError, match="'label_won'"):
        WinProbabilityModel(features=FEATURES).fit(bad)


def test_time_split_uses_only_outcomes_known_at_the_cutoff() -> None:
    frame = deals(500, seed=4)
    frame.loc[frame.index[:50], "close_date"] = pd.Timestamp("2026-06-30")
    train, test = time_split(frame, "2025-09-30")
    assert (train["as_of"] < "2025-09-30").all() and (train["close_date"] <= "2025-09-30").all()
    assert (test["as_of"] >= "2025-09-30").all()
    assert np.isclose(train.groupby("opportunity_id")["weight"].sum(), 1).all()
    assert deal_weights(pd.concat([frame, frame])).eq(0.5).all()
