"""The shared machinery of tillage's estimators.

Each model is a small subclass of :class:`BaseModel` that declares its parameter names and input
columns and implements its per-customer log-likelihood (with its gradient when it has one in
closed form) and its predictions. The base class owns the rest, the way lifelines' fitters do:

* input validation with messages naming the column and what is wrong, and the rows a fit runs
  on: identical histories collapsed into weights (real summaries repeat the same
  ``(frequency, recency, T)`` rows many times; the likelihood is evaluated once per distinct
  row), in :mod:`tillage.models._rows`;
* maximum likelihood with :func:`scipy.optimize.minimize` (BFGS) over the logarithms of the
  parameters, which are all positive, using the analytic gradient when available and vectorized
  central differences otherwise, then one Newton step on the observed information; models
  whose Hessian is in closed form (BG/NBD, Pareto/NBD, Gamma-Gamma) are fitted by Newton's
  method instead (both optimisers in :mod:`tillage.models._optimise`, the small linear algebra
  they use in :mod:`tillage.models._linalg`);
* standard errors from the observed information: the inverse Hessian of the negative
  log-likelihood at the optimum, in the natural parametrisation;
* :meth:`BaseModel.summary`, and :meth:`BaseModel.save` / :meth:`BaseModel.load` (JSON),
  from :class:`~tillage.models._record.FittedRecord`.

Why written by hand rather than on lifetimes or pymc-marketing: speed and stability beyond
theirs. Scoring refits these models on every run, on bases of up to millions of customers, and
the fits measured side by side (``benchmarks/peers.py``) are 20 or more times faster than the
fastest of those libraries on every data set there; the likelihoods avoid the hypergeometric
functions whose evaluation fails for heavy buyers, Newton's method with closed-form Hessians
reaches the maximum to rounding precision, and a likelihood whose maximum is on the edge of the
parameter space is reported as such (``boundary``) instead of returned as an estimate.

The estimator contract follows scikit-learn: settings are keyword-only and stored unchanged by
``__init__``; ``fit`` validates, sets the learned attributes ending in ``_`` and returns ``self``;
anything that needs the learned parameters raises :class:`~tillage.errors.NotFittedError` before
``fit``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from tillage.errors import (
    BoundaryWarning,
    ConvergenceError,
    DataValidationError,
    NotFittedError,
)
from tillage.models._linalg import (
    _cholesky,
    _inverse_from_cholesky,
    _weighted_rows,
    _weighted_sum,
)
from tillage.models._optimise import bfgs_minimize, newton_minimize
from tillage.models._record import FittedRecord
from tillage.models._rows import FitRows
from tillage.models._settings import EstimatorSettings

__all__ = ["BaseModel"]

Data = dict[str, NDArray[Any]]

#: Bounds on the log of every parameter: keeps exp() finite when the data carry no information
#: about a parameter (e.g. nobody drops out) and the optimum runs off to infinity.
_LOG_BOUND = 30.0


class BaseModel(FitRows, FittedRecord, EstimatorSettings):
    """Base class of the maximum-likelihood estimators (not used directly).

    Parameters
    ----------
    penalizer:
        L2 penalty ``penalizer * sum(params**2)`` added to the mean negative log-likelihood, as in
        lifetimes; 0 (the default) gives the plain maximum-likelihood estimate.
    max_iter:
        Iteration limit of the optimiser.
    tol:
        Convergence tolerance on the projected gradient of the mean negative log-likelihood.
    initial_params:
        Starting values keyed by parameter name; missing ones default to the model's own guess.
    boundary:
        What to do when the likelihood has no interior maximum (a parameter runs off to the edge
        of its range, or the information matrix is singular): ``"raise"`` (the default) raises
        :class:`~tillage.errors.ConvergenceError`; ``"accept"`` keeps the estimates reached, as
        lifetimes does, lists the parameters concerned in ``boundary_`` (their standard errors
        are NaN) and warns with :class:`~tillage.errors.BoundaryWarning`.
    """

    #: Parameter names as in the paper, in the order of the internal vector.
    _param_names: ClassVar[tuple[str, ...]] = ()
    #: Input columns the likelihood reads.
    _columns: ClassVar[tuple[str, ...]] = ()
    #: Columns that must be integers >= 0.
    _count_columns: ClassVar[tuple[str, ...]] = ()
    #: Columns that must be >= 0.
    _nonnegative_columns: ClassVar[tuple[str, ...]] = ()
    #: Columns that must be > 0.
    _positive_columns: ClassVar[tuple[str, ...]] = ()
    #: Whether :meth:`_loglik` can return the gradient.
    _analytic_gradient: ClassVar[bool] = True
    #: Whether to start BFGS from the inverse Hessian at the initial guess (``2k`` gradients):
    #: worth it where steepest-descent first steps zigzag (strongly correlated parameters).
    _hessian_start: ClassVar[bool] = False
    #: Whether :meth:`_loglik_totals` gives the Hessian in closed form: the fit is then by
    #: Newton's method (a handful of iterations) instead of BFGS.
    _newton: ClassVar[bool] = False
    #: Whether a large Newton fit's first steps reuse its warm-start sample's Hessian (with
    #: gradients only; :func:`~tillage.models._optimise.warm_start`).
    _chord_start: ClassVar[bool] = False
    #: A column whose values are continuous in some data (times, amounts): see :meth:`_collapse`.
    _continuous_column: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        max_iter: int = 1000,
        tol: float = 1e-8,
        initial_params: Mapping[str, float] | None = None,
        boundary: str = "raise",
    ) -> None:
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol
        self.initial_params = initial_params
        self.boundary = boundary

    # ------------------------------------------------------------------ subclass hooks

    def _loglik(
        self, params: NDArray[np.float64], data: Data, *, grad: bool
    ) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-row log-likelihood; with ``grad``, also its gradient, shape ``(k, n)``."""
        raise NotImplementedError

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.ones(len(self._param_names))

    def _loglik_totals(
        self, params: NDArray[np.float64], data: Data, weights: NDArray[np.float64], *, order: int
    ) -> tuple[float, NDArray[np.float64] | None, NDArray[np.float64] | None]:
        """Weighted total log-likelihood, with its gradient (``order >= 1``) and Hessian
        (``order == 2``) in the natural parameters; only for models with ``_newton``."""
        raise NotImplementedError

    def _prepare(self, data: Data) -> Data:
        """Precompute what the likelihood reuses at every evaluation (e.g. unique counts)."""
        return data

    # ------------------------------------------------------------------ fitting

    def _objective_factory(self, data: Data, weights: NDArray[np.float64]):
        total = float(weights.sum())
        penalizer = float(self.penalizer)

        def total_loglik(theta: NDArray[np.float64]) -> float:
            ll = self._loglik(theta, data, grad=False)
            return _weighted_sum(ll, weights)  # type: ignore[arg-type]

        def objective(u: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            # The line search may probe parameters (e.g. 1e13) where the likelihood is not
            # representable in floating point; such points are detected just below and turned
            # into a rejected step, so their floating-point warnings are expected here only.
            with np.errstate(all="ignore"):
                return _objective(u)

        def _objective(u: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            if np.max(np.abs(u)) > _LOG_BOUND:
                return 1e300, np.zeros_like(u)
            theta = np.exp(u)
            if self._analytic_gradient:
                ll, g = self._loglik(theta, data, grad=True)  # type: ignore[misc]
                value = -_weighted_sum(ll, weights) / total
                grad_theta = -_weighted_rows(g, weights) / total
            else:
                value = -total_loglik(theta) / total
                grad_theta = self._fd_gradient(total_loglik, theta) * (-1.0 / total)
            value += penalizer * float(np.sum(theta**2))
            grad_theta = grad_theta + 2.0 * penalizer * theta
            if not (np.isfinite(value) and np.all(np.isfinite(grad_theta))):
                return 1e300, np.zeros_like(u)
            return value, grad_theta * theta

        return objective, total_loglik

    @staticmethod
    def _fd_gradient(f, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Central differences in log-parameters, returned as a gradient in natural parameters."""
        grad = np.empty_like(theta)
        for j in range(theta.size):  # one vectorized likelihood per parameter, not per customer
            h = 1e-6
            up = theta.copy()
            dn = theta.copy()
            up[j] *= math.exp(h)
            dn[j] *= math.exp(-h)
            grad[j] = (f(up) - f(dn)) / (2.0 * h) / theta[j]
        return grad

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit by maximum likelihood to a summary frame (one row per customer).

        An optional ``weight`` column gives the number of customers each row stands for.
        Returns ``self``.
        """
        if self.boundary not in ("raise", "accept"):
            raise DataValidationError(
                f"{type(self).__name__}: boundary must be 'raise' or 'accept', not "
                f"{self.boundary!r}"
            )
        arrays: Data = {}
        self._validate(frame, arrays=arrays)
        data, weights = self._fit_rows(frame, arrays)
        if weights.size == 0:
            raise DataValidationError(f"{type(self).__name__}: no rows to fit on")
        data = self._prepare(data)
        guess = np.asarray(self._initial_guess(data, weights), dtype=float)
        for i, name in enumerate(self._param_names):
            if self.initial_params and name in self.initial_params:
                guess[i] = float(self.initial_params[name])
        u0 = np.clip(np.log(guess), -_LOG_BOUND, _LOG_BOUND)
        if self._newton:
            return self._fit_newton(u0, data, weights)
        objective, total_loglik = self._objective_factory(data, weights)
        u_hat, result = bfgs_minimize(
            objective, u0, max_iter=self.max_iter, tol=self.tol, hessian_start=self._hessian_start
        )
        value, grad = objective(u_hat)
        if not (np.isfinite(value) and value < 1e300):
            raise ConvergenceError(
                f"{type(self).__name__}: the optimiser found no point with a finite likelihood "
                f"({result.message}); try initial_params=..."
            )
        theta = np.exp(u_hat)
        theta, standard_errors = self._polish(theta, data, weights, total_loglik)
        self._check_identified(theta, standard_errors)
        if not result.success and np.max(np.abs(grad)) >= 1e-4:
            raise ConvergenceError(
                f"{type(self).__name__}: the optimiser did not converge after {result.nit} "
                f"iterations ({result.message}); try initial_params=..., a larger max_iter, or "
                f"penalizer>0 if some parameters run off to infinity"
            )
        self._set_fitted(theta, standard_errors, total_loglik(theta), weights, int(result.nit))
        return self

    def _check_identified(self, theta: NDArray[np.float64], standard_errors: dict[str, float]):
        params = dict(zip(self._param_names, map(float, theta), strict=True))
        unidentified = [
            name
            for name, u in zip(self._param_names, np.log(theta), strict=True)
            if abs(u) > _LOG_BOUND - 1e-3 or not np.isfinite(standard_errors[name])
        ]
        self.boundary_: list[str] = unidentified
        if unidentified and self.boundary == "accept":
            estimates = ", ".join(f"{k}={v:.3g}" for k, v in params.items())
            warnings.warn(
                f"{type(self).__name__}: the likelihood is highest on the edge of the parameter "
                f"space ({', '.join(unidentified)} without a finite standard error); the "
                f"estimates there are reported: {estimates}",
                BoundaryWarning,
                stacklevel=4,
            )
            return
        if unidentified:
            estimates = ", ".join(f"{k}={v:.3g}" for k, v in params.items())
            raise ConvergenceError(
                f"{type(self).__name__}: no proper maximum of the likelihood (the information "
                f"matrix is singular or {', '.join(unidentified)} ran off to the edge of its "
                "range): the data carry too little information, e.g. too few customers, no "
                "repeat purchases or no drop-outs; fit on more data or set penalizer>0 "
                f"(e.g. 0.001). Estimates reached: {estimates}"
            )

    def _set_covariance(self, cov: NDArray[np.float64]) -> None:
        self.covariance_ = cov  # a DataFrame when first read

    def _set_fitted(
        self,
        theta: NDArray[np.float64],
        standard_errors: dict[str, float],
        log_likelihood: float,
        weights: NDArray[np.float64],
        n_iter: int,
    ) -> None:
        self.params_ = dict(zip(self._param_names, map(float, theta), strict=True))
        self.log_likelihood_ = float(log_likelihood)
        self.standard_errors_ = standard_errors
        self.n_customers_ = float(weights.sum())
        self.n_distinct_rows_ = int(weights.size)
        self.n_iter_ = n_iter

    def _fit_newton(
        self, u0: NDArray[np.float64], data: Data, weights: NDArray[np.float64]
    ) -> Self:
        """Maximum likelihood by Newton's method on the log-parameters
        (:func:`~tillage.models._optimise.newton_minimize`), with the model's closed-form
        Hessian (:meth:`_loglik_totals`); the standard errors come from the Hessian of the last
        iteration."""
        total = float(weights.sum())
        penalizer = float(self.penalizer)
        k = u0.size
        penalty_hessian = 2.0 * penalizer * np.eye(k)

        def evaluate(u: NDArray[np.float64], order: int):
            """Mean negative log-likelihood (+ penalty) in ``u``, gradient and Hessian in
            ``u``, and the Hessian of the total log-likelihood in the natural parameters."""
            if np.abs(u).max() > _LOG_BOUND:
                return math.inf, None, None, None
            theta = np.exp(u)
            with np.errstate(all="ignore"):
                ll, g, h = self._loglik_totals(theta, data, weights, order=order)
            value = -ll / total
            if penalizer:
                value += penalizer * float(np.sum(theta**2))
            if order == 0:
                return (value if np.isfinite(value) else math.inf), None, None, None
            g_u = (-g / total + 2.0 * penalizer * theta) * theta
            if order == 1:
                finite = math.isfinite(value) and np.isfinite(g_u).all()
                return (value, g_u, None, None) if finite else (math.inf, None, None, None)
            h_u = (-h / total + penalty_hessian) * np.outer(theta, theta) + np.diag(g_u)
            if not (math.isfinite(value) and np.isfinite(h_u).all()):  # g_u is on h_u's diagonal
                return math.inf, None, None, None
            return value, g_u, h_u, h

        result = newton_minimize(
            evaluate,
            u0,
            max_iter=self.max_iter,
            tol=self.tol,
            owner=type(self).__name__,
            hessian0=self.__dict__.pop("_start_hessian", None),  # from warm_start
        )
        u, final_value, h_ll, n_iter = result.u, result.value, result.carried, result.n_iter
        theta = np.exp(u)
        #: the mean objective's Hessian in the log-parameters (for a larger fit's warm start)
        self._hessian_u = -h_ll / total * np.outer(theta, theta)
        info = -h_ll
        se = np.full(k, np.nan)
        cov = np.full((k, k), np.nan)
        low = _cholesky(info) if np.all(np.isfinite(info)) else None
        if low is not None:
            cov = _inverse_from_cholesky(low)
            se = np.sqrt(np.diag(cov))
        self._set_covariance((cov + cov.T) / 2.0)
        standard_errors = dict(zip(self._param_names, map(float, se), strict=True))
        self._check_identified(theta, standard_errors)
        if not result.converged:
            raise ConvergenceError(
                f"{type(self).__name__}: Newton's method did not converge after {n_iter} "
                "iterations; try initial_params=..., a larger max_iter, or penalizer>0 if some "
                "parameters run off to infinity"
            )
        penalty = penalizer * float(np.sum(theta**2))
        self._set_fitted(theta, standard_errors, -(final_value - penalty) * total, weights, n_iter)
        return self

    def _hessian(
        self, theta: NDArray[np.float64], data: Data, weights: NDArray[np.float64], total_loglik
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """Hessian of the total log-likelihood (natural parameters) and, with an analytic
        gradient, the gradient at ``theta``: central differences of the analytic gradient
        (``2k`` gradients), else second differences of the likelihood."""
        k = theta.size
        hess = np.empty((k, k))
        if self._analytic_gradient:

            def grad(t: NDArray[np.float64]) -> NDArray[np.float64]:
                _, g = self._loglik(t, data, grad=True)  # type: ignore[misc]
                return _weighted_rows(g, weights)

            for j in range(k):
                h = 1e-5 * theta[j]
                up = theta.copy()
                dn = theta.copy()
                up[j] += h
                dn[j] -= h
                hess[:, j] = (grad(up) - grad(dn)) / (2.0 * h)
            return (hess + hess.T) / 2.0, grad(theta)
        steps = 1e-4 * theta
        for i in range(k):
            for j in range(i, k):
                vals = []
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    t = theta.copy()
                    t[i] += si * steps[i]
                    t[j] += sj * steps[j]
                    vals.append(total_loglik(t))
                hess[i, j] = hess[j, i] = (vals[0] - vals[1] - vals[2] + vals[3]) / (
                    4.0 * steps[i] * steps[j]
                )
        return hess, None

    def _polish(
        self, theta: NDArray[np.float64], data: Data, weights: NDArray[np.float64], total_loglik
    ) -> tuple[NDArray[np.float64], dict[str, float]]:
        """Standard errors from the observed information, after one Newton step on the
        analytic gradient and that information (kept only if it raises the likelihood): the
        optimiser stops within its tolerance, Newton's step reaches the maximum to about
        machine precision at the cost of one more likelihood."""
        k = theta.size
        with np.errstate(all="ignore"):
            hess, grad = self._hessian(theta, data, weights, total_loglik)
        info = -hess
        se = np.full(k, np.nan)
        low = _cholesky(info) if np.all(np.isfinite(info)) else None
        if low is None:
            self._set_covariance(np.full((k, k), np.nan))
            return theta, dict(zip(self._param_names, map(float, se), strict=True))
        cov = _inverse_from_cholesky(low)
        se = np.sqrt(np.diag(cov))
        self._set_covariance((cov + cov.T) / 2.0)
        if grad is not None and self.penalizer == 0 and np.all(np.isfinite(grad)):
            step = cov @ grad
            candidate = theta + step
            if np.all(candidate > 0) and np.all(np.abs(step) < 0.01 * theta):
                with np.errstate(all="ignore"):
                    better = total_loglik(candidate) >= total_loglik(theta)
                if better:
                    theta = candidate
        return theta, dict(zip(self._param_names, map(float, se), strict=True))

    # ------------------------------------------------------------------ fitted state

    def _check_fitted(self) -> NDArray[np.float64]:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(frame) or load(path) first"
            )
        return np.array([self.params_[n] for n in self._param_names])

    # ------------------------------------------------------------------ helpers for subclasses

    @staticmethod
    def _over_t(t: ArrayLike, values: NDArray[Any], name: str) -> float | pd.Series:
        """A float for a scalar horizon, else a Series indexed by the horizons."""
        if np.ndim(t) == 0:
            return float(values)
        index = pd.Index(np.asarray(t, dtype=float).ravel(), name="t")
        return pd.Series(np.asarray(values, dtype=float).ravel(), index=index, name=name)

    @staticmethod
    def _series(values: NDArray[Any], frame: pd.DataFrame, name: str) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=float), index=frame.index, name=name)

    def _arrays(self, frame: pd.DataFrame, columns: Sequence[str]) -> list[NDArray[np.float64]]:
        arrays: Data = {}
        self._validate(frame, columns, arrays)
        return [arrays[c] for c in columns]
