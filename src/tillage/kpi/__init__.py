"""tillage.kpi: KPI definitions computed one way for everyone (``docs/kpi.md``).

:data:`REGISTRY` holds every :class:`KPI`; :func:`compute_kpis` computes them over the canonical
store for periods (:func:`parse_period`) and cuts (company, rep, team, segment) into a tidy frame.
"""

from tillage.kpi.compute import COLUMNS, CUTS, REGISTRY, compute_kpis, per_account
from tillage.kpi.data import KPI_COLUMNS, kpi_backend
from tillage.kpi.period import Period, parse_period, period_containing, trailing
from tillage.kpi.registry import KPI, KpiContext

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
