"""The Pareto/NBD tail integral's machinery: the power series of 2F1(1, B; C; z) and their
derivatives against mpmath, the two Horner paths against each other, and the distinct
``(x, t)`` pairs against a pandas group-by."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.models import ParetoNBDModel, _pareto_series
from tillage.models._pareto_series import _Pairs, _scipy_terms, _series


def test_series_paths_agree(monkeypatch: pytest.MonkeyPatch, cdnow_summary: pd.DataFrame) -> None:
    # Small groups of (x, t) pairs are summed together, large ones one by one: same numbers.
    model = ParetoNBDModel()
    data = model._prepare({c: cdnow_summary[c].to_numpy(float) for c in model._columns})
    theta = np.array([0.55, 10.58, 0.61, 11.66])
    ll, grad = model._loglik(theta, data, grad=True)
    monkeypatch.setattr(_pareto_series, "_BIG_GROUP", 1)
    ll_big, grad_big = model._loglik(theta, data, grad=True)
    np.testing.assert_allclose(ll_big, ll, rtol=1e-13)
    np.testing.assert_allclose(grad_big, grad, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize(
    ("B", "C", "z"),
    [(1.6, 2.2, 0.05), (30.5, 31.2, 0.4), (1.3, 49.6, 0.59), (0.05, 6.05, 0.6), (48.0, 49.5, 0.3)],
)
def test_series_derivatives_against_mpmath(B: float, C: float, z: float) -> None:
    # S = 2F1(1, B; C; z) and its first and second derivatives in C, in B and C together
    # ("BC") and in z, from the series and from scipy (the path for z > 0.6), against mpmath.
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40

    def s_at(dc, dbc, dz):
        return mpmath.hyp2f1(1, B + dbc, C + dc + dbc, z + dz)

    def d(order_c: int, order_bc: int, order_z: int) -> float:
        def f(c, bc, zz):
            return s_at(c, bc, zz)

        return float(mpmath.diff(f, (0, 0, 0), (order_c, order_bc, order_z)))

    expected = np.array(
        [
            d(0, 0, 0),
            d(1, 0, 0),
            d(0, 1, 0),
            d(0, 0, 1),
            d(2, 0, 0),
            d(0, 2, 0),
            d(1, 1, 0),
            d(1, 0, 1),
            d(0, 1, 1),
            d(0, 0, 2),
        ]
    )
    series = _series(B, C, C - B, np.array([z]), hess=True)[:, 0]
    np.testing.assert_allclose(series, expected, rtol=1e-12, atol=1e-14)
    scipy = _scipy_terms(np.array([B]), np.array([C]), np.array([z]), hess=True)[:, 0]
    np.testing.assert_allclose(scipy[:4], expected[:4], rtol=1e-8)
    np.testing.assert_allclose(scipy[4:], expected[4:], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [500, 100_000])  # 100,000: the hash-table path of the collapse
def test_collapse_matches_group_by(n: int) -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 8, n).astype(float)
    T = rng.integers(20, 40, n).astype(float)
    tx = np.where(x > 0, np.floor(T * rng.uniform(0, 1, n)), 0.0)
    w = rng.integers(0, 3, n).astype(float)  # some rows of weight 0
    pairs, weights = _Pairs.collapse(x, tx, T, w)
    frame = pd.DataFrame({"x": x, "tx": tx, "T": T, "w": w})
    expected = frame.groupby(["x", "tx", "T"])["w"].sum()
    expected = expected[expected > 0]
    got = pd.Series(
        weights,
        index=pd.MultiIndex.from_arrays([pairs.x, pairs.pt[pairs.i_tx], pairs.T]),
    ).sort_index()
    np.testing.assert_array_equal(got.index.to_numpy(), expected.index.to_numpy())
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert np.all(np.diff(pairs.i_T) >= 0)  # rows in the order of their (x, T) pair
    np.testing.assert_array_equal(pairs.px[pairs.i_tx], pairs.x)
    np.testing.assert_array_equal(pairs.px, pairs.xu[pairs.group])
    assert np.all(np.diff(pairs.group) >= 0)
