"""/api/v1/kpis: the KPIs of a period, as :func:`tillage.services.kpis.kpi_table` answers them
(which rows a caller gets: see :mod:`tillage.services.kpis`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from tillage.services.kpis import Cut, KpiTable, kpi_table
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.errors import ErrorResponse
from tillage.serving.etag import SnapshotETag
from tillage.serving.params import PERIOD_PATTERN

router = protected_router(prefix="/api/v1", tags=["kpis"])


@router.get("/kpis", responses={404: {"model": ErrorResponse}}, dependencies=[SnapshotETag])
def get_kpis(
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    period: Annotated[
        str | None,
        Query(
            pattern=PERIOD_PATTERN,
            description="Month (2026-09), quarter (2026-Q3), year (2026), fiscal quarter "
            "(FY2026-Q1) or fiscal year (FY2026); default: the fiscal quarter of the newest "
            "snapshot",
        ),
    ] = None,
    by: Annotated[Cut | None, Query(description="Cut")] = None,
) -> KpiTable:
    """The KPIs of a period for the company and, with ``by``, per rep, team or segment,
    restricted to what the caller may see (see the module doc)."""
    return kpi_table(session, settings, lang, principal, visible, period=period, by=by)
