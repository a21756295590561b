"""The shared machinery of tillage's estimators.

Each model is a small subclass of :class:`BaseModel` that declares its parameter names and input
columns and implements its per-customer log-likelihood (with its gradient when it has one in
closed form) and its predictions. The base class owns the rest, the way lifelines' fitters do:

* input validation with messages naming the column and what is wrong;
* collapsing identical histories into weights before fitting (real summaries repeat the same
  ``(frequency, recency, T)`` rows many times; the likelihood is evaluated once per distinct row);
* maximum likelihood with :func:`scipy.optimize.minimize` (L-BFGS-B) over the logarithms of the
  parameters, which are all positive, using the analytic gradient when available and vectorized
  central differences otherwise;
* standard errors from the observed information: the inverse Hessian of the negative
  log-likelihood at the optimum, in the natural parametrisation;
* :meth:`BaseModel.summary`, and :meth:`BaseModel.save` / :meth:`BaseModel.load` (JSON).

The estimator contract follows scikit-learn: settings are keyword-only and stored unchanged by
``__init__``; ``fit`` validates, sets the learned attributes ending in ``_`` and returns ``self``;
anything that needs the learned parameters raises :class:`~tillage.errors.NotFittedError` before
``fit``.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

from tillage.errors import ConvergenceError, DataValidationError, NotFittedError
from tillage.models._checks import check_frame, first_bad

__all__ = ["BaseModel"]

Data = dict[str, NDArray[Any]]

#: Bounds on the log of every parameter: keeps exp() finite when the data carry no information
#: about a parameter (e.g. nobody drops out) and the optimum runs off to infinity.
_LOG_BOUND = 30.0


class BaseModel:
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

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        max_iter: int = 1000,
        tol: float = 1e-8,
        initial_params: Mapping[str, float] | None = None,
    ) -> None:
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol
        self.initial_params = initial_params

    # ------------------------------------------------------------------ subclass hooks

    def _loglik(
        self, params: NDArray[np.float64], data: Data, *, grad: bool
    ) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-row log-likelihood; with ``grad``, also its gradient, shape ``(k, n)``."""
        raise NotImplementedError

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.ones(len(self._param_names))

    def _prepare(self, data: Data) -> Data:
        """Precompute what the likelihood reuses at every evaluation (e.g. unique counts)."""
        return data

    def _rows_for_fit(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows the likelihood is defined on (all, unless a model says otherwise)."""
        return frame

    # ------------------------------------------------------------------ settings

    @classmethod
    def _setting_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            name
            for name, p in signature.parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]

    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__`` (scikit-learn's ``get_params``)."""
        return {name: getattr(self, name) for name in self._setting_names()}

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({settings})"

    # ------------------------------------------------------------------ validation

    def _validate(self, frame: object, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Check a summary frame and return it; raise DataValidationError naming each problem."""
        return check_frame(
            frame,
            owner=type(self).__name__,
            columns=self._columns if columns is None else columns,
            count_columns=self._count_columns,
            nonnegative_columns=self._nonnegative_columns,
            positive_columns=self._positive_columns,
        )

    _first_bad = staticmethod(first_bad)

    # ------------------------------------------------------------------ fitting

    def _collapse(self, frame: pd.DataFrame) -> tuple[Data, NDArray[np.float64]]:
        """Distinct rows of the likelihood's columns, with summed weights."""
        cols = list(self._columns)
        work = pd.DataFrame({c: np.asarray(frame[c], dtype=float) for c in cols})
        if "weight" in frame.columns:
            work["_w"] = np.asarray(frame["weight"], dtype=float)
        else:
            work["_w"] = 1.0
        grouped = work.groupby(cols, sort=False, as_index=False)["_w"].sum()
        grouped = grouped[grouped["_w"] > 0]
        data = {c: grouped[c].to_numpy() for c in cols}
        return data, grouped["_w"].to_numpy()

    def _objective_factory(self, data: Data, weights: NDArray[np.float64]):
        total = float(weights.sum())
        penalizer = float(self.penalizer)

        def total_loglik(theta: NDArray[np.float64]) -> float:
            ll = self._loglik(theta, data, grad=False)
            return float(np.dot(weights, ll))  # type: ignore[arg-type]

        def objective(u: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            # The line search may probe parameters (e.g. 1e13) where the likelihood is not
            # representable in floating point; such points are detected just below and turned
            # into a rejected step, so their floating-point warnings are expected here only.
            with np.errstate(all="ignore"):
                return _objective(u)

        def _objective(u: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            theta = np.exp(u)
            if self._analytic_gradient:
                ll, g = self._loglik(theta, data, grad=True)  # type: ignore[misc]
                value = -float(np.dot(weights, ll)) / total
                grad_theta = -(g @ weights) / total
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
        self._validate(frame)
        data, weights = self._collapse(self._rows_for_fit(frame))
        if weights.size == 0:
            raise DataValidationError(f"{type(self).__name__}: no rows to fit on")
        data = self._prepare(data)
        guess = np.asarray(self._initial_guess(data, weights), dtype=float)
        for i, name in enumerate(self._param_names):
            if self.initial_params and name in self.initial_params:
                guess[i] = float(self.initial_params[name])
        objective, total_loglik = self._objective_factory(data, weights)
        k = len(self._param_names)
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * k
        u0 = np.clip(np.log(guess), -_LOG_BOUND, _LOG_BOUND)
        result = minimize(
            objective,
            u0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 1e-15},
        )
        value, grad = objective(result.x)
        if not result.success and not (np.isfinite(value) and np.max(np.abs(grad)) < 1e-4):
            raise ConvergenceError(
                f"{type(self).__name__}: L-BFGS-B did not converge after {result.nit} iterations "
                f"({result.message}); try initial_params=..., a larger max_iter, or "
                f"penalizer>0 if some parameters run off to infinity"
            )
        theta = np.exp(result.x)
        params = dict(zip(self._param_names, map(float, theta), strict=True))
        standard_errors = self._standard_errors(theta, data, weights, total_loglik)
        unidentified = [
            name
            for name, u in zip(self._param_names, result.x, strict=True)
            if abs(u) > _LOG_BOUND - 1e-3 or not np.isfinite(standard_errors[name])
        ]
        if unidentified:
            estimates = ", ".join(f"{k}={v:.3g}" for k, v in params.items())
            raise ConvergenceError(
                f"{type(self).__name__}: no proper maximum of the likelihood (the information "
                f"matrix is singular or {', '.join(unidentified)} ran off to the edge of its "
                "range): the data carry too little information, e.g. too few customers, no "
                "repeat purchases or no drop-outs; fit on more data or set penalizer>0 "
                f"(e.g. 0.001). Estimates reached: {estimates}"
            )
        self.params_ = params
        self.log_likelihood_ = total_loglik(theta)
        self.standard_errors_ = standard_errors
        self.n_customers_ = float(weights.sum())
        self.n_distinct_rows_ = int(weights.size)
        self.n_iter_ = int(result.nit)
        return self

    def _standard_errors(
        self, theta: NDArray[np.float64], data: Data, weights: NDArray[np.float64], total_loglik
    ) -> dict[str, float]:
        """Square roots of the diagonal of the inverse observed information."""
        k = theta.size
        hess = np.empty((k, k))
        if self._analytic_gradient:

            def grad(t: NDArray[np.float64]) -> NDArray[np.float64]:
                _, g = self._loglik(t, data, grad=True)  # type: ignore[misc]
                return g @ weights

            for j in range(k):
                h = 1e-5 * theta[j]
                up = theta.copy()
                dn = theta.copy()
                up[j] += h
                dn[j] -= h
                hess[:, j] = (grad(up) - grad(dn)) / (2.0 * h)
        else:
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
        info = -(hess + hess.T) / 2.0
        se = np.full(k, np.nan)
        cov = np.full((k, k), np.nan)
        if np.all(np.isfinite(info)):
            eigen = np.linalg.eigvalsh(info)
            if eigen.min() > 0:
                cov = np.linalg.inv(info)
                se = np.sqrt(np.diag(cov))
        names = list(self._param_names)
        #: inverse observed information: the estimates' asymptotic covariance (natural scale)
        self.covariance_ = pd.DataFrame((cov + cov.T) / 2.0, index=names, columns=names)
        return dict(zip(self._param_names, map(float, se), strict=True))

    # ------------------------------------------------------------------ fitted state

    def _check_fitted(self) -> NDArray[np.float64]:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(frame) or load(path) first"
            )
        return np.array([self.params_[n] for n in self._param_names])

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% intervals (computed on the log scale)."""
        self._check_fitted()
        rows = []
        for name in self._param_names:
            coef = self.params_[name]
            se = self.standard_errors_.get(name, math.nan)
            half = 1.959963984540054 * se / coef if np.isfinite(se) else math.nan
            rows.append(
                {
                    "coef": coef,
                    "se": se,
                    "lower_95": coef * math.exp(-half) if np.isfinite(half) else math.nan,
                    "upper_95": coef * math.exp(half) if np.isfinite(half) else math.nan,
                }
            )
        out = pd.DataFrame(rows, index=pd.Index(self._param_names, name="param"))
        out.attrs["log_likelihood"] = self.log_likelihood_
        out.attrs["n_customers"] = self.n_customers_
        return out

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain JSON-able data."""
        self._check_fitted()

        def clean(x: float) -> float | None:
            return x if np.isfinite(x) else None

        return {
            "model": type(self).__name__,
            "settings": self.get_params(),
            "params": dict(self.params_),
            "standard_errors": {k: clean(v) for k, v in self.standard_errors_.items()},
            "log_likelihood": self.log_likelihood_,
            "n_customers": self.n_customers_,
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Self:
        """Rebuild a fitted model from :meth:`to_dict` output."""
        if payload.get("model") != cls.__name__:
            raise DataValidationError(
                f"{cls.__name__}.from_dict: the payload is a {payload.get('model')!r} model"
            )
        settings = {
            k: v for k, v in payload.get("settings", {}).items() if k in cls._setting_names()
        }
        model = cls(**settings)
        params = payload["params"]
        missing = [n for n in cls._param_names if n not in params]
        if missing:
            raise DataValidationError(f"{cls.__name__}.from_dict: parameters {missing} missing")
        model.params_ = {n: float(params[n]) for n in cls._param_names}
        ses = payload.get("standard_errors") or {}
        model.standard_errors_ = {
            n: math.nan if ses.get(n) is None else float(ses[n]) for n in cls._param_names
        }
        model.log_likelihood_ = float(payload.get("log_likelihood", math.nan))
        model.n_customers_ = float(payload.get("n_customers", math.nan))
        return model

    def save(self, path: str | Path) -> None:
        """Write the fitted parameters (and settings) as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

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
        self._validate(frame, columns)
        return [np.asarray(frame[c], dtype=float) for c in columns]
