"""The estimator settings contract shared by every model family (scikit-learn's
``get_params`` / ``set_params``, so :func:`sklearn.base.clone` works on any tillage model).

The contract, checked for every family in ``tests/models/test_contract.py``:

* settings are the keyword-only ``__init__`` arguments, stored unchanged, validated at ``fit``;
* ``fit(frame, ...)`` validates, sets the learned attributes ending in ``_`` and returns
  ``self``; ``params_`` is the dict of fitted parameters;
* ``get_params(deep=True)`` / ``set_params(**settings)`` as in scikit-learn (nested settings
  as ``name__setting`` when a setting is itself an estimator);
* predictions are methods returning a Series or DataFrame indexed like the input frame, and
  raise :class:`~tillage.errors.NotFittedError` before ``fit``.
"""

from __future__ import annotations

import inspect
from typing import Any, Self

from tillage.errors import ConfigurationError

__all__ = ["EstimatorSettings"]


class EstimatorSettings:
    """Mixin: the keyword-only ``__init__`` arguments are the settings, stored unchanged.

    Gives ``get_params(deep=True)`` (settings in signature order), ``set_params`` and a
    ``repr`` that shows the settings.
    """

    @classmethod
    def _setting_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            name
            for name, p in signature.parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings given to ``__init__`` (scikit-learn's ``get_params``); with ``deep``,
        also the settings of settings that are estimators themselves, as ``name__setting``."""
        out: dict[str, Any] = {}
        for name in self._setting_names():
            value = getattr(self, name)
            out[name] = value
            if deep and isinstance(value, EstimatorSettings):
                out.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
        return out

    def set_params(self, **params: Any) -> Self:
        """Change settings (scikit-learn's ``set_params``); ``name__setting`` reaches into a
        setting that is an estimator. Returns ``self``; a fitted model keeps its fitted state
        until the next ``fit``. An unknown name is refused, naming the valid ones."""
        names = self._setting_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in names:
                raise ConfigurationError(
                    f"{type(self).__name__} has no setting {name!r}; its settings are "
                    f"{', '.join(names)}",
                    [(key, "unknown setting")],
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            inner = getattr(self, name)
            if not isinstance(inner, EstimatorSettings):
                raise ConfigurationError(
                    f"{type(self).__name__}.{name} is not an estimator: it has no settings "
                    f"{', '.join(sub_params)}",
                    [(f"{name}__{k}", "not an estimator setting") for k in sub_params],
                )
            inner.set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({settings})"
