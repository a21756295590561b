"""The two optimisers on functions with a known minimum (the models' own tests check them on
the published data sets)."""

from __future__ import annotations

import numpy as np
import pytest

from tillage.errors import ConvergenceError
from tillage.models._optimise import bfgs_minimize, newton_minimize

#: A badly scaled, correlated convex function with its minimum at CENTRE:
#: f(u) = (u - c)^T A (u - c) / 2 + sum(exp(u - c) - (u - c)).
A = np.array([[400.0, 30.0, 0.0], [30.0, 4.0, 0.5], [0.0, 0.5, 0.02]])
CENTRE = np.array([0.3, -1.2, 2.0])


def _value_grad_hess(u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    d = u - CENTRE
    value = 0.5 * d @ A @ d + float(np.sum(np.exp(d) - d))
    return value, A @ d + np.exp(d) - 1.0, A + np.diag(np.exp(d))


@pytest.mark.parametrize("hessian_start", [False, True])
def test_bfgs_finds_the_minimum(hessian_start: bool) -> None:
    points = []

    def objective(u: np.ndarray) -> tuple[float, np.ndarray]:
        points.append(u.copy())
        value, grad, _ = _value_grad_hess(u)
        return value, grad

    u, result = bfgs_minimize(
        objective, np.zeros(3), max_iter=1000, tol=1e-9, hessian_start=hessian_start
    )
    assert result.success
    np.testing.assert_allclose(u, CENTRE, atol=1e-5)
    # with hessian_start, the Hessian at the start comes first: central differences of the
    # gradient, 1e-4 either side of u0 along each axis
    probes = np.concatenate([h * np.eye(3)[j : j + 1] for j in range(3) for h in (1e-4, -1e-4)])
    assert np.array_equal(np.array(points[:6]), probes) == hessian_start


def test_newton_converges_quadratically_and_carries_the_last_value() -> None:
    def evaluate(u: np.ndarray, order: int):
        value, grad, hess = _value_grad_hess(u)
        if order == 0:
            return value, None, None, None
        return value, grad, hess, u.copy()

    result = newton_minimize(evaluate, np.full(3, 2.0), max_iter=100, tol=1e-12, owner="Test")
    assert result.converged
    np.testing.assert_allclose(result.u, CENTRE, rtol=0, atol=1e-12)
    assert result.value == pytest.approx(3.0, abs=1e-14)  # sum(exp(0) - 0) at the minimum
    assert result.n_iter < 15
    np.testing.assert_allclose(result.carried, CENTRE, atol=1e-5)  # the last iterate's


def test_newton_refuses_a_start_where_the_objective_is_not_finite() -> None:
    def evaluate(u: np.ndarray, order: int):
        return np.inf, None, None, None

    with pytest.raises(ConvergenceError, match="Test: the likelihood is not finite"):
        newton_minimize(evaluate, np.zeros(2), max_iter=10, tol=1e-8, owner="Test")
