"""The small dense linear algebra the fits use instead of LAPACK."""

from __future__ import annotations

import numpy as np
import pytest

from tillage.models._linalg import _cholesky, _inverse_from_cholesky, _weighted_rows, _weighted_sum


def test_cholesky_and_inverse_match_numpy() -> None:
    rng = np.random.default_rng(0)
    for k in (1, 2, 3, 4):
        a = rng.normal(size=(k, k))
        mat = a @ a.T + 0.1 * np.eye(k)
        low = _cholesky(mat)
        assert low is not None
        np.testing.assert_allclose(low, np.linalg.cholesky(mat), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(_inverse_from_cholesky(low), np.linalg.inv(mat), rtol=1e-10)


def test_cholesky_refuses_matrices_that_are_not_positive_definite() -> None:
    assert _cholesky(-np.eye(3)) is None
    assert _cholesky(np.array([[1.0, 2.0], [2.0, 1.0]])) is None  # indefinite
    assert _cholesky(np.array([[1.0, 1.0], [1.0, 1.0]])) is None  # singular


def test_weighted_sums_match_matrix_products() -> None:
    rng = np.random.default_rng(1)
    rows, weights = rng.normal(size=(4, 50)), rng.uniform(0, 3, 50)
    assert _weighted_sum(rows[0], weights) == pytest.approx(float(rows[0] @ weights), rel=1e-14)
    np.testing.assert_allclose(_weighted_rows(rows, weights), rows @ weights, rtol=1e-14)
