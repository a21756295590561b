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
    definite. Plain Python on k <= 4 parameters: NumPy's LAPACK would wake OpenBLAS's threads,
    which costs milliseconds on a busy machine."""
    k = mat.shape[0]
    low = np.zeros((k, k))
    scale = max(float(np.max(np.abs(np.diag(mat)))), 1e-300)
    for i in range(k):
        for j in range(i + 1):
            acc = float(mat[i, j]) - sum(float(low[i, m] * low[j, m]) for m in range(j))
            if i == j:
                if not acc > 1e-12 * scale:
                    return None
                low[i, i] = math.sqrt(acc)
            else:
                low[i, j] = acc / low[j, j]
    return low


def _inverse_lower(low: NDArray[np.float64]) -> NDArray[np.float64]:
    """``L^-1`` of a lower-triangular matrix (forward substitution, plain Python)."""
    k = low.shape[0]
    inv_low = np.zeros((k, k))
    for i in range(k):
        inv_low[i, i] = 1.0 / low[i, i]
        for j in range(i):
            acc = sum(float(low[i, m] * inv_low[m, j]) for m in range(j, i))
            inv_low[i, j] = -acc / low[i, i]
    return inv_low


def _inverse_from_cholesky(low: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(L L^T)^-1`` from the lower factor ``L``."""
    inv_low = _inverse_lower(low)
    return inv_low.T @ inv_low
