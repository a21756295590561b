"""The order piece: a failed BG/NBD on young data is named, never fatal; spend never negative."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.models.ltv.orders import (
    NO_DROPOUT_MEAN,
    BetaNodes,
    expected_spend,
    fit_orders,
    fit_purchases,
    order_inputs,
    order_paths,
)
from tillage.models.simulate import simulate_beta_geo


def test_a_history_without_drop_outs_keeps_bg_nbd_at_its_no_drop_out_edge() -> None:
    rng = np.random.default_rng(0)
    n = 60
    t = rng.uniform(4, 12, n)
    x = rng.poisson(3, n).astype(float)
    # everyone bought last on the last day: nobody was seen to drop out yet; the likelihood
    # is highest where the drop-out probability runs to 0 (the NBD limit), a forecast
    rfm = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, t, 0.0), "T": t})
    model, reason = fit_purchases(rfm)
    assert reason is None and model is not None
    a, b, r, alpha = (model.params_[k] for k in ("a", "b", "r", "alpha"))
    assert a / (a + b) < NO_DROPOUT_MEAN
    assert set(model.boundary_) >= {"a"}  # no standard error at the edge
    # every buyer alive, buying at the NBD rate (r + x) / (alpha + T) per period
    assert model.conditional_probability_alive(rfm).min() > 0.9999
    expected = model.conditional_expected_purchases(4.0, rfm).to_numpy()
    np.testing.assert_allclose(expected, (r + x) / (alpha + t) * 4.0, rtol=1e-4)
    buyers = rfm.assign(monetary_value=50.0)
    purchase, _spend, nodes, failure = fit_orders(buyers, 0.0, 20)
    assert failure is None and purchase is not None and nodes is not None


def test_a_history_without_repeat_purchases_leaves_the_purchase_model_out_with_its_reason() -> None:
    t = np.random.default_rng(0).uniform(4, 12, 60)
    # nobody bought twice: the maximum is not the no-drop-out edge (r -> 0), nothing to forecast
    rfm = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": t})
    model, reason = fit_purchases(rfm)
    assert model is None
    assert reason is not None and "no proper maximum" in reason


def test_fit_orders_fits_bg_nbd_and_gamma_gamma_on_enough_buyers() -> None:
    rfm = simulate_beta_geo(800, r=0.8, alpha=4.0, a=0.8, b=3.0, T=np.full(800, 52.0), seed=1)
    buyers = rfm.assign(monetary_value=np.where(rfm["frequency"] > 0, 100.0, 0.0))
    buyers["monetary_value"] *= np.random.default_rng(2).lognormal(0.0, 0.3, len(buyers))
    purchase, spend, nodes, failure = fit_orders(buyers, 0.0, 20)
    assert failure is None and purchase is not None and nodes is not None
    assert 0.4 < purchase.params_["r"] < 1.6
    assert spend is not None
    # too few buyers: nothing is fitted and nothing failed
    assert fit_orders(buyers.head(10), 0.0, 20) == (None, None, None, None)


def test_a_net_negative_repeat_history_is_worth_zero_a_future_order_not_less() -> None:
    frame = pd.DataFrame({"frequency": [3.0, 2.0, 0.0], "monetary_value": [40.0, -25.0, 0.0]})
    for params in (None, np.array([6.25, 3.74, 15.44])):  # own means; Gamma-Gamma (CDNOW)
        spend = expected_spend(frame, params)
        assert spend[1] == 0.0  # returns exceeded the repeat orders
        assert spend[0] > 0 and (spend >= 0).all()


def test_a_first_purchase_on_the_as_of_day_is_a_live_customer() -> None:
    frame = pd.DataFrame({"frequency": [0.0, 0.0], "recency": [0.0, 0.0], "T": [0.0, 20.0]})
    params = np.array([0.243, 4.414, 0.793, 2.426])  # BG/NBD on CDNOW, weeks (Fader et al. 2005)
    inputs = order_inputs(
        frame, BetaNodes(params[2], params[3]), horizon_months=12, period_days=7.0
    )
    paths = order_paths(inputs, params)
    assert paths.alive_now[0] == 1.0  # T = 0: no time to have dropped out
    # the newest customer is expected to buy more than one silent for 20 weeks
    assert paths.cumulative[0, -1] > paths.cumulative[1, -1] > 0


def test_buyers_sharing_frequency_and_age_get_the_paths_each_would_alone() -> None:
    """The paths are computed once per distinct (frequency, T): every buyer's are those it
    gets evaluated on its own, P(alive) (which reads the recency) included."""
    frame = pd.DataFrame(
        {
            "frequency": [3.0, 3.0, 0.0, 3.0, np.nan],
            "recency": [30.0, 12.0, 0.0, 30.0, np.nan],
            "T": [52.0, 52.0, 52.0, 40.0, np.nan],
        }
    )
    params = np.array([0.243, 4.414, 0.793, 2.426])
    nodes = BetaNodes(params[2], params[3])
    together = order_paths(order_inputs(frame, nodes, horizon_months=24, period_days=7.0), params)
    assert len(order_inputs(frame, nodes, horizon_months=24, period_days=7.0).unique) == 3
    for i in range(len(frame)):
        alone = order_paths(
            order_inputs(frame.iloc[[i]], nodes, horizon_months=24, period_days=7.0), params
        )
        np.testing.assert_allclose(together.cumulative[i], alone.cumulative[0], rtol=1e-14)
        np.testing.assert_allclose(together.alive[i], alone.alive[0], rtol=1e-14)
        assert together.alive_now[i] == alone.alive_now[0]
    assert together.alive_now[0] != together.alive_now[1]  # same x and T, other recency
