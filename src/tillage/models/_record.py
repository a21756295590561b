"""The fitted state of a maximum-likelihood model as a table and as JSON: ``summary``,
``to_dict`` / ``from_dict`` and ``save`` / ``load`` (a mixin of
:class:`~tillage.models.base.BaseModel`)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from tillage.errors import DataValidationError

__all__ = ["FittedRecord"]


class FittedRecord:
    """Reads ``params_``, ``standard_errors_``, ``log_likelihood_`` and ``n_customers_`` of a
    fitted model; the class it is mixed into gives ``_param_names``, ``_check_fitted`` and
    (from :class:`~tillage.models._settings.EstimatorSettings`) ``_setting_names`` and
    ``get_params``."""

    _param_names: ClassVar[tuple[str, ...]] = ()
    params_: dict[str, float]
    standard_errors_: dict[str, float]
    log_likelihood_: float
    n_customers_: float

    @property
    def covariance_(self) -> pd.DataFrame:
        """Inverse observed information: the estimates' asymptotic covariance (natural scale),
        indexed by parameter name."""
        found = self.__dict__.get("_covariance")
        if found is None:
            raise AttributeError(f"{type(self).__name__} has no covariance_ before fit")
        if not isinstance(found, pd.DataFrame):  # built when first read, not at every fit
            names = list(self._param_names)
            found = pd.DataFrame(found, index=names, columns=names)
            self._covariance = found
        return found

    @covariance_.setter
    def covariance_(self, value: pd.DataFrame | np.ndarray) -> None:
        self._covariance = value

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
            "settings": self.get_params(deep=False),
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
