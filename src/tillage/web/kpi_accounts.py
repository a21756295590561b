"""The KPI drill-down page: the accounts behind one figure of the KPI page (its company table
and its rep, team and segment rows link here), with each account's numerator and denominator.

The rows are :func:`tillage.services.kpi_accounts.kpi_accounts`' answer, the function behind
``/api/v1/kpis/{kpi}/accounts``, so the page lists exactly the accounts the API gives.
"""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.responses import Response

from tillage.i18n import format_money, format_number, gettext_for
from tillage.report.formatting import format_value
from tillage.services.kpi_accounts import PAGE_SIZE, KpiAccount, kpi_accounts
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.etag import SnapshotETag
from tillage.serving.scope import page_roles
from tillage.web.kpis import CUTS, EMPTY_OR_PERIOD, cut_label
from tillage.web.render import PageTable, data_links, data_response, page, table_response

router = protected_router(include_in_schema=False)
PATH = "/kpis/{kpi}/accounts"


def _parts(kpi: str, lang: str) -> tuple[str, str]:
    """What the numerator and denominator of ``kpi`` are, in ``lang``."""
    _ = gettext_for(lang)
    named = {
        "logo_churn_rate": (_("Churned"), _("In the start cohort")),
        "revenue_churn_rate": (_("MRR lost"), _("MRR at the start")),
        "grr": (_("MRR kept"), _("MRR at the start")),
        "nrr": (_("MRR at the close"), _("MRR at the start")),
        "arpu": (_("MRR on the last day"), _("Active accounts")),
        "renewal_rate": (_("Contracts renewed"), _("Contracts due")),
        "ltv_to_cac": (_("LTV"), _("Acquisition cost")),
        "cac_payback_months": (_("Acquisition cost"), _("MRR on the last day")),
    }
    return named.get(kpi, (_("Numerator"), _("Denominator")))


@router.get(PATH, response_class=Response, dependencies=[page_roles(PATH), SnapshotETag])
def kpi_accounts_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    kpi: Annotated[str, Path()],
    period: Annotated[str | None, Query(pattern=EMPTY_OR_PERIOD)] = None,
    by: Annotated[str | None, Query(pattern="^(" + "|".join(CUTS) + ")?$")] = None,
    value: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    format: PageTable = "html",
) -> Response:
    """The accounts behind one KPI figure (twin of /api/v1/kpis/{kpi}/accounts)."""
    answer = kpi_accounts(
        session,
        settings,
        lang,
        principal,
        visible,
        kpi,
        period=period or None,
        by=by or None,  # type: ignore[arg-type]
        value=value if by else None,
        offset=offset,
    )
    if format == "json":
        return data_response(answer)
    if format == "csv":
        return table_response(answer.items, KpiAccount, f"kpi-{kpi}-{answer.period}.csv")
    currency = settings.currency

    def amount(number: float | None, money: bool) -> str:
        if number is None or math.isnan(number):
            return "—"
        if money:
            return format_money(number, currency, lang)
        whole = float(number).is_integer()
        return format_number(number, lang, digits=0 if whole else 2)

    def contribution(number: float | None) -> str:
        if number is None:
            return "—"
        if answer.unit in ("currency", "count"):
            return format_value(number, answer.unit, currency, lang)
        return format_number(number, lang, digits=2) + ("%" if answer.unit == "percent" else "")

    def at(start: int) -> str:
        query = {k: v for k, v in request.query_params.items() if k != "offset"}
        return f"{request.url.path}?{urlencode({**query, 'offset': start})}"

    numerator, denominator = _parts(kpi, lang)
    return page(
        request,
        lang,
        "kpi_accounts.html",
        principal,
        answer=answer,
        cut=cut_label(answer.by or "all", answer.value_of or "all", lang),
        figure=format_value(answer.value, answer.unit, currency, lang),
        numerator_label=numerator,
        denominator_label=denominator,
        amount=amount,
        contribution=contribution,
        previous=at(max(0, offset - PAGE_SIZE)) if offset > 0 else None,
        next=at(offset + PAGE_SIZE) if offset + PAGE_SIZE < answer.count else None,
        back="/kpis?" + urlencode({"period": answer.period, "by": answer.by or ""}),
        data=data_links(request, table=True),
    )
