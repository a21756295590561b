"""/api/v1/kpis: the KPIs of a period, as :func:`tillage.services.kpis.kpi_table` answers them
(which rows a caller gets: see :mod:`tillage.services.kpis`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from tillage.services.kpi_accounts import MAX_LIMIT, PAGE_SIZE, KpiAccounts, kpi_accounts
from tillage.services.kpis import Cut, KpiTable, kpi_table
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.errors import ErrorResponse
from tillage.serving.etag import SnapshotETag
from tillage.serving.params import PERIOD_PATTERN
from tillage.serving.scope import page_roles

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


@router.get(
    "/kpis/{kpi}/accounts",
    responses={404: {"model": ErrorResponse}},
    dependencies=[page_roles("/kpis/{kpi}/accounts"), SnapshotETag],
)
def get_kpi_accounts(
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    kpi: Annotated[str, Path(description="KPI key, e.g. nrr")],
    period: Annotated[
        str | None,
        Query(pattern=PERIOD_PATTERN, description="Period, as for /api/v1/kpis"),
    ] = None,
    by: Annotated[Cut | None, Query(description="Cut (with value)")] = None,
    value: Annotated[
        str | None, Query(max_length=200, description="The rep, team or segment (with by)")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = PAGE_SIZE,
) -> KpiAccounts:
    """The accounts behind one KPI figure (the company's, or one rep's, team's or segment's)
    with each account's numerator and denominator, sorted by contribution: Σ numerator /
    Σ denominator of the rows is the figure (see :mod:`tillage.services.kpi_accounts`)."""
    return kpi_accounts(
        session,
        settings,
        lang,
        principal,
        visible,
        kpi,
        period=period,
        by=by,
        value=value,
        offset=offset,
        limit=limit,
    )
