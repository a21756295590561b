"""Expansion propensity and expected value on synthetic accounts with a known process."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from tillage.models.calibration import compare_probabilities
from tillage.models.expansion import ExpansionModel

FEATURES = ("activities_90d", "log_employees", "nps_latest")


def accounts(n: int, seed: int, as_of: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "as_of": pd.Timestamp(as_of),
            "activities_90d": rng.poisson(4, n).astype(float),
            "log_employees": rng.normal(5, 1.2, n),
            "nps_latest": np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 11, n)),
        }
    )
    p = expit(-2.5 + 0.25 * (frame["activities_90d"] - 4) + 0.5 * (frame["log_employees"] - 5))
    frame["true_p"] = p
    frame["label_expansion"] = (rng.random(n) < p).astype(float)
    mu = 13 + 0.7 * (frame["log_employees"] - 5)
    amount = np.exp(mu + rng.normal(0, 0.5, n))
    frame["true_amount"] = np.exp(mu + 0.125)
    frame["label_expansion_amount"] = np.where(frame["label_expansion"] == 1, amount, 0.0)
    return frame


def test_propensity_beats_base_rate_and_value_is_unbiased() -> None:
    train = pd.concat(
        [accounts(3000, s, d) for s, d in enumerate(["2024-03-31", "2024-06-30", "2024-09-30"])],
        ignore_index=True,
    )
    test = accounts(4000, 9, "2025-03-31")
    model = ExpansionModel(features=FEATURES).fit(train)
    out = model.predict(test)
    assert list(out.columns) == ["expansion_probability", "expected_amount", "expected_value"]
    scores = compare_probabilities(
        test["label_expansion"],
        {"model": out["expansion_probability"], "base": np.full(len(test), model.base_rate_)},
    )
    assert scores.loc["model", "brier"] < scores.loc["base", "brier"]
    assert scores.loc["model", "auc"] > 0.7
    ratio = out["expected_amount"] / test["true_amount"]
    assert abs(np.median(ratio) - 1) < 0.1
    total = test["true_p"] * test["true_amount"]
    assert abs(out["expected_value"].sum() / total.sum() - 1) < 0.1


def test_thin_data_uses_base_rate_and_mean_amount() -> None:
    frame = accounts(60, 3, "2024-03-31")
    model = ExpansionModel(features=FEATURES, min_positives=30).fit(frame)
    assert model.thin_data_ and "thin data" in model.notes_[0]
    out = model.predict(frame)
    assert np.allclose(out["expansion_probability"], frame["label_expansion"].mean())
