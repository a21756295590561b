"""tillage: LTV-based account strategy for B2B sales.

The package follows the data flow ``ingest → store → features → models → strategy → kpi``, with
one application layer (:mod:`tillage.services`) answering every question a user asks and the
surfaces ``cli``, ``api``, ``web`` and ``report`` on top; a stage imports only from stages
before it.

The Python API (``docs/python.md``) is importable from here — loaded on first use, so that
``import tillage`` stays light::

    import tillage
    store = tillage.open_store()
    scores = store.latest_scores()
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_FACADE = {
    "open_store": "tillage.python",
    "Store": "tillage.python",
    "fit_clv": "tillage.python",
    "rfm_summary": "tillage.features.rfm",
    "BetaGeoModel": "tillage.models",
    "ParetoNBDModel": "tillage.models",
    "GammaGammaModel": "tillage.models",
    "ShiftedBetaGeoModel": "tillage.models",
    "RenewalChurnModel": "tillage.models",
    "load_strategy": "tillage.strategy.config",
}

__all__ = ["__version__", *_FACADE]


def __getattr__(name: str) -> Any:
    """The façade's names, imported on first use."""
    if name in _FACADE:
        return getattr(import_module(_FACADE[name]), name)
    raise AttributeError(f"module 'tillage' has no attribute {name!r}")
