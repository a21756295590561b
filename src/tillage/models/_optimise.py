"""The optimisers of the maximum-likelihood fits, over the logarithms of the parameters.

* :func:`bfgs_minimize`: :func:`scipy.optimize.minimize` (BFGS) with the objective's gradient,
  optionally preconditioned by the Cholesky factor of the Hessian at the start
  (:func:`_hessian_factor`);
* :func:`newton_minimize`: Newton's method with a Levenberg-Marquardt shift and an Armijo line
  search, for models whose Hessian is in closed form.

Both minimise; the estimators hand them the mean negative log-likelihood (plus penalty).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tillage.errors import ConvergenceError
from tillage.models._linalg import _cholesky, _cholesky_rows, _cholesky_solve, _inverse_lower

if TYPE_CHECKING:
    from scipy.optimize import OptimizeResult

Vector = NDArray[np.float64]
#: ``objective(u) -> (value, gradient)``; ``1e300`` marks a point to refuse.
Objective = Callable[[Vector], tuple[float, Vector]]
#: ``evaluate(u, order) -> (value, gradient, Hessian, carried)``; see :func:`newton_minimize`.
Evaluate = Callable[[Vector, int], tuple[float, Any, Any, Any]]


def _hessian_factor(objective: Objective, u: Vector) -> Vector | None:
    """Cholesky factor ``L`` of the objective's Hessian at ``u`` (central differences of its
    gradient), if positive definite. BFGS run on ``w = L^T (u - u0)``, where the Hessian starts
    as the identity, takes Newton-like first steps instead of steepest-descent ones
    (Gamma-Gamma on CDNOW: 17 likelihoods instead of 55)."""
    k = u.size
    hess = np.empty((k, k))
    h = 1e-4
    for j in range(k):
        up = u.copy()
        dn = u.copy()
        up[j] += h
        dn[j] -= h
        f_up, g_up = objective(up)
        f_dn, g_dn = objective(dn)
        if f_up >= 1e300 or f_dn >= 1e300:
            return None
        hess[:, j] = (g_up - g_dn) / (2.0 * h)
    hess = (hess + hess.T) / 2.0
    if not np.all(np.isfinite(hess)):
        return None
    return _cholesky(hess)


def bfgs_minimize(
    objective: Objective, u0: Vector, *, max_iter: int, tol: float, hessian_start: bool
) -> tuple[Vector, OptimizeResult]:
    """Minimise ``objective`` from ``u0`` by BFGS, with gradient tolerance ``tol``; with
    ``hessian_start``, in the coordinates ``w = L^T (u - u0)`` of :func:`_hessian_factor` (when
    the Hessian there is positive definite). Returns the minimiser in ``u`` and SciPy's result
    (``message``, ``success``, ``nit``)."""
    # BFGS (pure NumPy) rather than L-BFGS-B: the latter's LAPACK calls wake OpenBLAS's
    # threads at every step, which costs milliseconds on a busy machine (more than a whole
    # fit on small data), and it needs 2-3 times fewer likelihoods than TNC. The box on the
    # log-parameters is kept by the objective, which refuses points outside it.
    # imported here: scipy.optimize (HiGHS, sparse) is 0.3-0.5 s of every command's start,
    # and only the BFGS fits need it
    from scipy.optimize import minimize

    options = {"maxiter": max_iter, "gtol": tol}
    low = _hessian_factor(objective, u0) if hessian_start else None
    if low is None:
        result = minimize(objective, u0, jac=True, method="BFGS", options=options)
        u_hat = result.x
    else:
        inv_low_t = _inverse_lower(low).T  # L^-T

        def preconditioned(w: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            f, g = objective(u0 + inv_low_t @ w)
            return f, inv_low_t.T @ g

        # In these coordinates the gradient's rounding noise is scaled by L^-1: a gradient
        # tolerance of 1e-8 can be out of reach (BFGS then burns likelihoods in failed line
        # searches). Stop at 1e-6; the caller's Newton step finishes the job (without a
        # penalizer; with one, the estimate stays at that tolerance).
        options["gtol"] = max(tol, 1e-6)
        result = minimize(
            preconditioned, np.zeros_like(u0), jac=True, method="BFGS", options=options
        )
        u_hat = u0 + inv_low_t @ result.x
    return u_hat, result


@dataclass(frozen=True)
class NewtonResult:
    """Where :func:`newton_minimize` stopped."""

    u: Vector  # the minimiser
    value: float  # the objective there
    carried: Any  # evaluate's fourth value at the last iteration
    n_iter: int
    converged: bool


def _chord(evaluate: Evaluate, u: Vector, hessian: Vector, max_steps: int = 12) -> Vector:
    """Newton-like steps with a fixed Hessian (a sample's, from :func:`warm_start`), each
    costing a likelihood with its gradient only: on large bases the Hessian costs several
    times the gradient (Pareto/NBD: 1.5 s against 0.27 s at a million customers), and a
    sample's Hessian, rescaled to the mean, is within a few percent of the full one, so the
    steps shrink by about that factor each (linear convergence). Stops where a step is tiny,
    does not shrink to half the last one, or does not lower the objective; returns the last
    point reached."""
    low = _cholesky_rows(hessian)
    if low is None:
        return u
    value, g_u, _, _ = evaluate(u, 1)
    if not math.isfinite(value):
        return u
    previous = 1.0
    for _ in range(max_steps):
        step = -_cholesky_solve(low, g_u)
        size = float(np.max(np.abs(step)))
        if size < 1e-8 or size > 0.5 * previous:
            break
        trial = u + step
        t_value, t_g, _, _ = evaluate(trial, 1)
        if not t_value <= value + 1e-4 * float(g_u @ step):
            break
        u, value, g_u, previous = trial, t_value, t_g, size
    return u


def newton_minimize(
    evaluate: Evaluate,
    u0: Vector,
    *,
    max_iter: int,
    tol: float,
    owner: str,
    hessian0: Vector | None = None,
) -> NewtonResult:
    """Minimise ``evaluate`` from ``u0`` by Newton's method; ``evaluate(u, order)`` returns the
    objective at ``u``, its gradient and Hessian in ``u`` (``None`` with ``order == 0``) and a
    fourth value carried along for the last accepted point (the caller's Hessian in its own
    parametrisation, for the standard errors). Raises :class:`~tillage.errors.ConvergenceError`
    naming ``owner`` if the objective is not finite at ``u0``.

    Each iteration costs one likelihood with its gradient and Hessian. Where the Hessian of
    the objective is not positive definite (far from the optimum) it is shifted by a
    multiple of the identity (Levenberg-Marquardt); steps change no parameter by more than a
    factor ``e`` and are halved until the objective decreases enough (Armijo). Once a step
    moves every log-parameter by less than 1e-5 the next one lands on the maximum to about
    machine precision (quadratic convergence): it is taken, the likelihood is evaluated
    there once more (without derivatives), and the fourth value is that of the last
    iteration (relative change of order 1e-5). It also stops, as BFGS does,
    where the gradient falls below ``tol``, or after three shifted steps in a row that gain
    less than 1e-7 of the objective (a plateau, or a ridge running off to infinity: the
    data do not identify the parameters, which the caller reports). With ``hessian0`` (a
    sample's Hessian, see :func:`warm_start`), :func:`_chord` steps come first.
    """
    k = u0.size
    u = u0 if hessian0 is None else _chord(evaluate, u0, hessian0)
    value, g_u, h_u, h_ll = evaluate(u, 2)
    if not np.isfinite(value):
        raise ConvergenceError(
            f"{owner}: the likelihood is not finite at the starting point; try initial_params=..."
        )
    converged = False
    n_iter = stalls = 0
    final_value = value
    while n_iter < max_iter:
        n_iter += 1
        low = _cholesky_rows(h_u)
        damped = low is None
        if low is None:
            shift = 1e-3 * max(float(np.max(np.abs(np.diag(h_u)))), 1e-12)
            while low is None:
                low = _cholesky_rows(h_u + shift * np.eye(k))
                shift *= 10.0
        step = -_cholesky_solve(low, g_u)
        size = float(np.max(np.abs(step)))
        flat = float(np.max(np.abs(g_u))) < tol
        if not damped and (size < 1e-5 or (flat and size < 1e-2)):
            candidate = u + step
            final_value = evaluate(candidate, 0)[0]
            if final_value <= value + 1e-14 * abs(value):
                u = candidate
            else:
                final_value = value
            converged = True
            break
        if flat:  # BFGS's criterion: on a ridge or a plateau, where Newton would crawl
            converged = True
            break
        scale = min(1.0, 1.0 / size)
        slope = float(g_u @ step)
        while True:
            trial = u + scale * step
            t_value, t_g, t_h, t_ll = evaluate(trial, 2)
            if t_value <= value + 1e-4 * scale * slope:
                break
            scale /= 2.0
            if scale < 1e-10:
                break
        if not t_value <= value + 1e-4 * scale * slope:
            # no decrease along a descent direction: the gradient is rounding noise
            converged = float(np.max(np.abs(g_u))) < 1e-4
            final_value = value
            break
        stalls = stalls + 1 if damped and value - t_value < 1e-7 * abs(value) else 0
        u, value, g_u, h_u, h_ll = trial, t_value, t_g, t_h, t_ll
        final_value = value
        if stalls >= 3:  # crawling along a ridge towards infinity: give up there
            converged = True
            break
    return NewtonResult(u=u, value=final_value, carried=h_ll, n_iter=n_iter, converged=converged)


def warm_start(model: Any, data: dict, weights: Vector, guess: Vector, *, rows: int) -> Vector:
    """``guess``, or with more than ``4 * rows`` distinct rows (and no ``initial_params``) the
    estimate of a copy of ``model`` fitted on every k-th of them (a systematic sample, weights
    kept), so that only the last few iterations run on all of them."""
    if weights.size <= 4 * rows or model.initial_params:
        return guess
    picked = np.arange(0, weights.size, weights.size // rows)
    sample = pd.DataFrame({c: data[c][picked] for c in model._columns}).assign(
        weight=weights[picked]
    )
    try:
        warm = type(model)(**model.get_params(deep=False)).fit(sample)
    except ConvergenceError:
        return guess
    if model._chord_start:
        # its Hessian of the mean objective in the log-parameters (free of the units of the
        # parameters) starts the fit on all the rows (newton_minimize's hessian0)
        model._start_hessian = getattr(warm, "_hessian_u", None)
    return np.array([warm.params_[name] for name in model._param_names])
