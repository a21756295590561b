"""The stable special functions against direct evaluations (and mpmath where installed)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import hyp2f1

from tillage.models.special import (
    central_z,
    hyp2f1_one,
    log1mexp,
    log_hyp2f1_a_plus_one,
    logdiffexp,
)


def test_log1mexp() -> None:
    x = np.array([-1e-12, -0.1, -0.7, -5.0, -50.0])
    expected = np.log(-np.expm1(x))
    expected[-1] = -np.exp(-50.0)  # log(1 - e^-50) ~ -e^-50; the direct form rounds to 0
    np.testing.assert_allclose(log1mexp(x), expected, rtol=1e-12)
    assert log1mexp(np.array([0.0]))[0] == -np.inf


def test_logdiffexp() -> None:
    np.testing.assert_allclose(logdiffexp(np.log(5.0), np.log(3.0)), np.log(2.0))
    assert logdiffexp(1.0, 1.0) == -np.inf


def test_log_hyp2f1_matches_scipy_where_scipy_is_fine() -> None:
    a = np.array([1.5, 3.0, 20.0])
    b = np.array([1.2, 2.5, 0.7])
    z = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(
        log_hyp2f1_a_plus_one(a, b, z), np.log(hyp2f1(a, b, a + 1, z)), rtol=1e-10
    )


def test_log_hyp2f1_heavy_buyer_does_not_overflow() -> None:
    # a = r + s + x with x = 10,000 and b = r + x: the naive value overflows a float.
    a, b, z = 10_001.2, 10_000.5, 0.999
    assert not np.isfinite(hyp2f1(a, b, a + 1, z))
    value = log_hyp2f1_a_plus_one(a, b, z)
    assert np.isfinite(value)
    mpmath = pytest.importorskip("mpmath")
    reference = float(mpmath.log(mpmath.hyp2f1(a, b, a + 1, z)))
    assert value == pytest.approx(reference, rel=1e-10)


def test_hyp2f1_one() -> None:
    b = np.array([0.5, 2.0, 94.0])
    c = np.array([1.7, 3.0, 144.0])
    z = 1 / 1.1
    values = hyp2f1_one(b, c, z)
    np.testing.assert_allclose(values[:2], hyp2f1(1.0, b[:2], c[:2], z), rtol=1e-12)
    assert np.isfinite(values[2])  # scipy returns inf here
    k = np.arange(20_000)
    terms = np.exp(np.cumsum(np.log(b[2] + k) - np.log(c[2] + k)) + (k + 1) * np.log(z))
    assert values[2] == pytest.approx(1.0 + terms.sum(), rel=1e-12)


def test_central_z_is_the_half_width_of_a_central_interval() -> None:
    assert central_z(0.95) == pytest.approx(1.959963984540054, rel=1e-15)
    assert central_z(0.8) == pytest.approx(1.2815515655446004, rel=1e-15)
    assert central_z(0.0) == 0.0
