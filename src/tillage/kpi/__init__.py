"""tillage.kpi: KPI definitions computed one way for everyone (``docs/kpi.md``).

:data:`REGISTRY` holds every :class:`KPI`; :func:`compute_kpis` computes them over the canonical
store for periods (:func:`parse_period`) and cuts (company, rep, team, segment) into a tidy frame.

The names below are imported when first asked for (PEP 562): a module that needs only a light
part of the package (the periods, :mod:`tillage.kpi.units` for a table's formatting) does not
load ibis, DuckDB and the feature queries that :mod:`tillage.kpi.compute` brings (half a second
of every ``tillage`` command that prints a table).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tillage.kpi.compute import COLUMNS, CUTS, REGISTRY, compute_kpis, per_account
    from tillage.kpi.data import KPI_COLUMNS, kpi_backend
    from tillage.kpi.period import Period, parse_period, period_containing, trailing
    from tillage.kpi.registry import KPI, KpiContext

_WHERE = {
    "COLUMNS": "compute",
    "CUTS": "compute",
    "REGISTRY": "compute",
    "compute_kpis": "compute",
    "per_account": "compute",
    "KPI_COLUMNS": "data",
    "kpi_backend": "data",
    "Period": "period",
    "parse_period": "period",
    "period_containing": "period",
    "trailing": "period",
    "KPI": "registry",
    "KpiContext": "registry",
}

__all__ = [
    "COLUMNS",
    "CUTS",
    "KPI",
    "KPI_COLUMNS",
    "REGISTRY",
    "KpiContext",
    "Period",
    "compute_kpis",
    "kpi_backend",
    "parse_period",
    "per_account",
    "period_containing",
    "trailing",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tillage.kpi' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tillage.kpi.{module}"), name)
    globals()[name] = value
    return value
