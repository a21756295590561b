"""The calibrated win-probability model on synthetic deals whose true probability is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from tillage.errors import DataValidationError, NotFittedError
from tillage.models.calibration import compare_probabilities
from tillage.models.evaluation import reliability_table
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
    table = reliability_table(p, test["label_won"])
    assert (table["gap"].abs() < 3 * table["standard_error"] + 0.02).all(), table
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
    # the stage rates of the offset: those of the earlier dates the regression was fitted on
    own = model.offset_rates_.reindex(frame["stage_as_of"]).to_numpy()
    gap = (model.predict_proba(frame) - own).abs()
    assert gap.max() < 0.02
    # which differ from the rates over every date by sampling noise only
    assert (model.offset_rates_ - model.stage_rates_).abs().max() < 0.05


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


def drifting_deals(n: int, seed: int) -> pd.DataFrame:
    """Deals over 24 months whose base rate drifts: wins are rare in the first year (about 5 %)
    and common in the second (about 40 %); stage, competitor and activity still matter."""
    rng = np.random.default_rng(seed)
    month = rng.integers(0, 24, n)
    stage = rng.integers(1, 5, n)
    frame = pd.DataFrame(
        {
            "opportunity_id": np.arange(n),
            "as_of": pd.Timestamp("2024-01-31") + pd.to_timedelta(month * 30, unit="D"),
            "type": rng.choice(["upsell", "renewal"], n),
            "stage_as_of": stage,
            "competitor": (rng.random(n) < 0.35).astype(float),
            "activities_90d": rng.poisson(3, n).astype(float),
            "log_amount": rng.normal(13, 1, n),
        }
    )
    base = np.where(month < 12, logit(0.05), logit(0.40))
    eta = base + 0.4 * (stage - 2.5) - 0.8 * frame["competitor"]
    eta += 0.25 * (frame["activities_90d"] - 3)
    frame["label_won"] = (rng.random(n) < expit(eta)).astype(float)
    frame["close_date"] = frame["as_of"] + pd.Timedelta(days=20)
    return frame


def test_drifting_base_rate_is_matched_out_of_time() -> None:
    frame = drifting_deals(16000, seed=11)
    train, test = time_split(frame, "2025-08-01")  # the last four months are the test
    model = WinProbabilityModel(features=FEATURES).fit(train)
    p = model.predict_proba(test)
    realised = float(np.average(test["label_won"], weights=test["weight"]))
    predicted = float(np.average(p, weights=test["weight"]))
    assert realised > 0.3  # the late regime
    assert abs(predicted - realised) < 0.05, (predicted, realised)
    # within 5 points in every stage, not only on average
    for stage, rows in test.groupby("stage_as_of"):
        gap = np.average(p[rows.index], weights=rows["weight"]) - rows["label_won"].mean()
        assert abs(gap) < 0.05, (stage, gap)
    assert (p > 0.95).mean() < 0.01  # nothing like "every open deal gets 0.99"
    assert not model.fallback_  # the features still carry signal


def test_a_leaking_feature_is_refused_with_a_message() -> None:
    frame = deals(4000, seed=12)
    # the amount is filled in only once a deal is won: zero on every lost (and open) deal
    frame["log_amount"] = np.where(frame["label_won"] == 1, frame["log_amount"], 0.0)
    train, test = time_split(frame, "2025-09-30")
    model = WinProbabilityModel(features=FEATURES).fit(train)
    assert list(model.refused_features_) == ["log_amount"]
    assert model.refused_features_["log_amount"] > 0.98
    assert any("'log_amount' nearly determines the outcome" in note for note in model.notes_)
    assert not any(name.startswith("log_amount") for name in model.coef_.index)
    # open deals (amount 0) are not all written off
    open_deals = test.assign(log_amount=0.0)
    p = model.predict_proba(open_deals)
    assert p.mean() > 0.3 and abs(p.mean() - test["label_won"].mean()) < 0.05


def test_falls_back_to_stage_rates_when_the_features_carry_nothing() -> None:
    rng = np.random.default_rng(13)
    frame = deals(6000, seed=13)
    for name in FEATURES:  # replace every feature by noise
        frame[name] = rng.normal(0, 1, len(frame))
    frame["type"] = "upsell"
    model = WinProbabilityModel(features=FEATURES, penalty=1.0).fit(frame)
    assert model.fallback_
    assert any("does not beat the baseline" in note for note in model.notes_)
    p = model.predict_proba(frame)
    # one probability per stage, increasing with the stage: the (calibrated) stage rates
    by_stage = p.groupby(frame["stage_as_of"]).agg(["min", "max", "mean"])
    assert np.allclose(by_stage["min"], by_stage["max"])
    assert by_stage["mean"].is_monotonic_increasing
