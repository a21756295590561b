r"""Gamma-Gamma: spend per transaction.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis. *Journal of Marketing Research* 42(4), 415–430 (and the note "The
Gamma-Gamma Model of Monetary Value", Fader & Hardie 2013).

Notation: a customer with ``x`` repeat transactions of mean value :math:`\bar z` (``frequency``
and ``monetary_value``). Each transaction value is :math:`\mathrm{Gamma}(p, \nu)` (shape ``p``,
rate :math:`\nu`), and :math:`\nu \sim \mathrm{Gamma}(q, v)` across customers, so a customer's
mean spend is :math:`p/\nu`. The density of the observed mean is

.. math::

    f(\bar z \mid x) = \frac{\Gamma(p x + q)}{\Gamma(p x)\Gamma(q)}
        \frac{v^q\, \bar z^{p x - 1} x^{p x}}{(v + x \bar z)^{p x + q}},

and the expected mean spend of a customer given their history is

.. math:: E[Z \mid x, \bar z] = \frac{p (v + x \bar z)}{p x + q - 1}
          = \frac{q - 1}{p x + q - 1}\frac{p v}{q - 1} + \frac{p x}{p x + q - 1}\bar z.

The model assumes spend is independent of purchase frequency;
:meth:`GammaGammaModel.frequency_monetary_correlation` reports the correlation in the data so the
assumption can be checked. Only customers with ``x > 0`` carry information about spend: rows with
``frequency == 0`` are ignored when fitting. Units: ``monetary_value`` in currency per transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import digamma, gammaln, polygamma

from tillage.models.base import BaseModel, Data, _weighted_sum

__all__ = ["GammaGammaModel", "IndependenceCheck"]


@dataclass(frozen=True)
class IndependenceCheck:
    """Pearson correlation between frequency and mean spend among repeat buyers."""

    correlation: float
    n: int
    threshold: float

    @property
    def warning(self) -> bool:
        """True when |correlation| exceeds the threshold: the Gamma-Gamma assumption is doubtful."""
        return bool(np.isfinite(self.correlation) and abs(self.correlation) > self.threshold)


class GammaGammaModel(BaseModel):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005) with parameters ``p, q, v``.

    Fit on ``frequency`` and ``monetary_value`` (mean value of the repeat transactions),
    optionally ``weight``; rows with ``frequency == 0`` are ignored.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")
    _columns: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")
    _count_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    # Newton's method on the closed-form Hessian of :meth:`_loglik_totals`; q and v are
    # strongly correlated (the mean spend is about p v / (q - 1)), which BFGS found slow.
    _newton: ClassVar[bool] = True
    _continuous_column: ClassVar[str | None] = "monetary_value"

    def _unusable(self, frame: pd.DataFrame) -> tuple[NDArray[np.bool_], str]:
        """Repeat buyers whose mean repeat spend is zero or negative (free items, or returns
        netted into their orders): the Gamma density needs a positive spend."""
        bad = (np.asarray(frame["frequency"], float) > 0) & (
            np.asarray(frame["monetary_value"], float) <= 0
        )
        return bad, "their mean repeat spend (monetary_value) is zero or negative"

    def _rows_for_fit(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[np.asarray(frame["frequency"], dtype=float) > 0]

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit on spend measured in units of its median, then restate ``v`` in the currency.

        ``v`` scales with the currency unit (spend ``z / c`` has ``v / c``), and yen amounts put
        it near 1e5-1e6 next to ``p`` and ``q`` near 1: the observed information is then too
        badly conditioned for its Cholesky factor. Fitting on ``z / median`` and multiplying
        ``v`` (its standard error and covariance) back by the median gives the same maximum
        likelihood estimate; the log-likelihood is restated for the original unit (each
        customer's density of mean spend gains ``-log c``).
        """
        frame = self._validate(frame)
        repeat = np.asarray(self._rows_for_fit(frame)["monetary_value"], dtype=float)
        positive = repeat[repeat > 0]
        fixed_v = bool(self.initial_params and "v" in self.initial_params)
        scale = 1.0 if fixed_v or positive.size == 0 else float(np.median(positive))
        super().fit(frame.assign(monetary_value=frame["monetary_value"] / scale))
        if scale != 1.0:
            self.params_["v"] *= scale
            self.standard_errors_["v"] *= scale
            factor = pd.Series(1.0, index=self.covariance_.index)
            factor["v"] = scale
            self.covariance_ = self.covariance_.mul(factor, axis=0).mul(factor, axis=1)
            self.log_likelihood_ -= self.n_customers_ * np.log(scale)
        self.monetary_scale_ = scale
        return self

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        mean_spend = float(np.dot(weights, data["monetary_value"]) / weights.sum())
        return np.array([1.0, 2.0, max(mean_spend, 1e-6)])

    def _prepare(self, data: Data) -> Data:
        x, m = data["frequency"], data["monetary_value"]
        if x.size and x.max() < 1_000_000:  # counts: the count is its own index
            xi = x.astype(np.intp)
            xu = np.arange(int(xi.max()) + 1, dtype=float)
        else:
            xu, xi = np.unique(x, return_inverse=True)
        return {
            **data,
            "_xu": xu,
            "_xi": xi.reshape(-1),
            "_xm": x * m,
            "_log_m": np.log(m),
            "_log_xm": np.log(x) + np.log(m),
        }

    def _loglik_totals(self, params, data, weights, *, order):
        r"""Weighted total log-likelihood; with ``order`` 1 its gradient, with 2 also its
        Hessian, in ``(p, q, v)``. The gamma functions depend on x alone (per distinct x,
        weights gathered with ``bincount``); per customer only :math:`\ln(v + x \bar z)` and
        its reciprocal enter, the rest are sums fixed for the fit."""
        p, q, v = (float(t) for t in params)
        cache = data.setdefault("_weights", {})
        if cache.get("id") is not weights:
            x = data["frequency"]
            wx = weights * x
            cache.update(
                id=weights,
                W=float(weights.sum()),
                Wu=np.bincount(data["_xi"], weights, minlength=data["_xu"].size),
                wx=wx,
                c1=_weighted_sum(data["_log_xm"], wx),
                c2=_weighted_sum(data["_log_m"], weights),
            )
            nz = cache["Wu"] > 0  # only the counts present (Γ(p·0) is infinite)
            cache.update(Wu=cache["Wu"][nz], xu=data["_xu"][nz])
        xu, W, Wu, wx = cache["xu"], cache["W"], cache["Wu"], cache["wx"]
        pu = p * xu
        log_xm_v = np.log(data["_xm"] + v)
        s_l, s_lx = _weighted_sum(log_xm_v, weights), _weighted_sum(log_xm_v, wx)
        total = (
            _weighted_sum(gammaln(pu + q) - gammaln(pu), Wu)
            + (q * np.log(v) - gammaln(q)) * W
            + p * cache["c1"]
            - cache["c2"]
            - p * s_lx
            - q * s_l
        )
        if order == 0:
            return total, None, None
        inv = 1.0 / (data["_xm"] + v)
        s_i, s_ix = _weighted_sum(inv, weights), _weighted_sum(inv, wx)
        psi = digamma(pu + q)
        grad = np.array(
            [
                _weighted_sum(xu * (psi - digamma(pu)), Wu) + cache["c1"] - s_lx,
                _weighted_sum(psi, Wu) + (np.log(v) - digamma(q)) * W - s_l,
                q * W / v - p * s_ix - q * s_i,
            ]
        )
        if order == 1:
            return total, grad, None
        tri = polygamma(1, pu + q)
        inv2 = inv * inv
        hess = np.empty((3, 3))
        hess[0, 0] = _weighted_sum(xu * xu * (tri - polygamma(1, pu)), Wu)
        hess[0, 1] = hess[1, 0] = _weighted_sum(xu * tri, Wu)
        hess[1, 1] = _weighted_sum(tri, Wu) - polygamma(1, q) * W
        hess[0, 2] = hess[2, 0] = -s_ix
        hess[1, 2] = hess[2, 1] = W / v - s_i
        hess[2, 2] = -q * W / v**2 + p * _weighted_sum(inv2, wx) + q * _weighted_sum(inv2, weights)
        return total, grad, hess

    def _loglik(self, params, data, *, grad):
        p, q, v = params
        if "_xu" not in data:
            data = self._prepare(data)
        x, xu, xi = data["frequency"], data["_xu"], data["_xi"]
        # the Gamma functions depend on x only: once per distinct x
        pxu = p * xu
        log_xm_v = np.log(data["_xm"] + v)
        ll = (
            (gammaln(pxu + q) - gammaln(pxu))[xi]
            - gammaln(q)
            + q * np.log(v)
            - data["_log_m"]
            + p * x * (data["_log_xm"] - log_xm_v)
            - q * log_xm_v
        )
        if not grad:
            return ll
        psi = digamma(pxu + q)
        d_p = x * ((psi - digamma(pxu))[xi] + data["_log_xm"] - log_xm_v)
        d_q = psi[xi] - digamma(q) + np.log(v) - log_xm_v
        d_v = q / v - (p * x + q) / (data["_xm"] + v)
        return ll, np.vstack([d_p, d_q, d_v])

    def log_likelihood(self, frame: pd.DataFrame) -> pd.Series:
        """Per-customer log-likelihood (NaN for customers without repeat purchases or with a mean
        spend that is not positive)."""
        params = self._check_fitted()
        x, m = self._arrays(frame, self._columns)
        pos = (x > 0) & (m > 0)
        ll = np.full(x.shape, np.nan)
        ll[pos] = self._loglik(params, {"frequency": x[pos], "monetary_value": m[pos]}, grad=False)
        return self._series(ll, frame, "log_likelihood")

    def conditional_expected_average_profit(self, frame: pd.DataFrame) -> pd.Series:
        r"""E[Z | x, z̄] = p (v + x z̄) / (p x + q - 1) per customer; for ``x = 0`` the
        population mean p v / (q - 1). Infinite when q <= 1 (the mean spend does not exist); NaN for
        a repeat buyer whose mean spend is zero or negative (outside the model)."""
        self._check_fitted()
        x, m = self._arrays(frame, self._columns)
        p, q, v = self.params_["p"], self.params_["q"], self.params_["v"]
        denominator = p * x + q - 1.0
        safe = np.where(denominator > 0, denominator, 1.0)
        values = np.where(denominator > 0, p * (v + x * m) / safe, np.inf)
        values = np.where(self._unusable(frame)[0], np.nan, values)
        return self._series(values, frame, "expected_average_value")

    def frequency_monetary_correlation(
        self, frame: pd.DataFrame, *, threshold: float = 0.3
    ) -> IndependenceCheck:
        """Pearson correlation of frequency and monetary value among repeat buyers.

        The Gamma-Gamma model assumes the two are independent; ``warning`` is set when the
        absolute correlation exceeds ``threshold`` (0.3 by default). Needs no fitted model.
        """
        x, m = self._arrays(frame, self._columns)
        pos = x > 0
        n = int(pos.sum())
        if n < 3 or np.std(x[pos]) == 0 or np.std(m[pos]) == 0:
            return IndependenceCheck(correlation=float("nan"), n=n, threshold=threshold)
        corr = float(np.corrcoef(x[pos], m[pos])[0, 1])
        return IndependenceCheck(correlation=corr, n=n, threshold=threshold)
