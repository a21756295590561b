"""Small dense linear algebra for the fits, in plain Python and NumPy without BLAS or LAPACK.

The models have at most four parameters: NumPy's LAPACK (and BLAS products) would wake
OpenBLAS's threads, which costs milliseconds per call on a busy machine, more than the
arithmetic of a 4 x 4 Cholesky factorisation in Python.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def _weighted_sum(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """``weights @ values`` without BLAS (whose threads are slow on a busy machine)."""
    return float(np.einsum("i,i->", weights, values))


def _weighted_rows(rows: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """``rows @ weights`` for a ``(k, n)`` array, without BLAS."""
    return np.einsum("ki,i->k", rows, weights)


def _cholesky(mat: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Lower Cholesky factor of a small symmetric matrix, or None unless it is safely positive
    definite. Plain Python floats on k <= 4 parameters: NumPy's LAPACK would wake OpenBLAS's
    threads, which costs milliseconds on a busy machine, and NumPy scalars cost more than the
    arithmetic."""
    low = _cholesky_rows(mat)
    if low is None:
        return None
    return np.array([row + [0.0] * (len(low) - len(row)) for row in low])


def _cholesky_rows(mat: NDArray[np.float64]) -> list[list[float]] | None:
    """:func:`_cholesky` as nested lists of floats (row ``i`` holds ``i + 1`` entries)."""
    rows = mat.tolist()
    k = len(rows)
    scale = max(max(abs(rows[i][i]) for i in range(k)), 1e-300)
    low: list[list[float]] = []
    for i in range(k):
        row: list[float] = []
        for j in range(i + 1):
            acc = rows[i][j]
            lj = low[j] if j < i else row
            for m in range(j):
                acc -= row[m] * lj[m]
            if i == j:
                if not acc > 1e-12 * scale:  # also refuses NaN
                    return None
                row.append(math.sqrt(acc))
            else:
                row.append(acc / low[j][j])
        low.append(row)
    return low


def _cholesky_solve(low: list[list[float]], rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    """``x`` with ``L L^T x = rhs``, from :func:`_cholesky_rows` (two substitutions)."""
    b = rhs.tolist()
    k = len(b)
    y = [0.0] * k
    for i in range(k):
        acc = b[i]
        for m in range(i):
            acc -= low[i][m] * y[m]
        y[i] = acc / low[i][i]
    x = [0.0] * k
    for i in reversed(range(k)):
        acc = y[i]
        for m in range(i + 1, k):
            acc -= low[m][i] * x[m]
        x[i] = acc / low[i][i]
    return np.array(x)


def _inverse_lower(low: NDArray[np.float64]) -> NDArray[np.float64]:
    """``L^-1`` of a lower-triangular matrix (forward substitution, plain Python)."""
    k = low.shape[0]
    rows = low.tolist()
    inv = [[0.0] * k for _ in range(k)]
    for i in range(k):
        inv[i][i] = 1.0 / rows[i][i]
        for j in range(i):
            acc = sum(rows[i][m] * inv[m][j] for m in range(j, i))
            inv[i][j] = -acc / rows[i][i]
    return np.array(inv)


def _inverse_from_cholesky(low: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(L L^T)^-1`` from the lower factor ``L``."""
    inv_low = _inverse_lower(low)
    return inv_low.T @ inv_low
