"""The estimator settings contract shared by every model (scikit-learn's ``get_params``)."""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["EstimatorSettings"]


class EstimatorSettings:
    """Mixin: the keyword-only ``__init__`` arguments are the settings, stored unchanged.

    Gives ``get_params()`` (settings in signature order) and a ``repr`` that shows them.
    """

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
