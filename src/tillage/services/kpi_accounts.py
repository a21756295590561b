"""The accounts behind a KPI figure (``/kpis/{kpi}/accounts``, ``/api/v1/kpis/{kpi}/accounts``).

Every KPI is ``scale × Σ num / Σ den`` over account rows (:mod:`tillage.kpi.registry`); the
drill-down lists those rows for one KPI, one period and one cut value (the company, a rep, a
team, a segment), each with its *contribution* ``scale × num / Σ den`` (for a count KPI
``scale × num``), so that the contributions add up to the figure. Rows are sorted by the size of
their contribution.

Who may ask is who may read the KPI page and its cut (:func:`tillage.services.kpis.allowed_cuts`);
the rows are the accounts the caller may see (:func:`tillage.store.access.account_filter`): a
rep's own row or team's row is all theirs, a rep or team outside the caller's reach is not found
(404). For a caller who does not see every account, the company figure also counts accounts left
out of the list (``hidden`` says how many).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from ibis.backends import BaseBackend
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import DataValidationError, NotFoundError
from tillage.kpi import KPI, REGISTRY, Period, kpi_backend
from tillage.kpi.cadence import account_cadence
from tillage.kpi.compute import NO_VALUE, account_dims, blank_reasons, per_account
from tillage.services.kpis import Cut, check_cut_allowed, chosen_period, snapshot_scores
from tillage.services.page_cache import PageCache, bytes_frame, frame_bytes
from tillage.services.strategy import strategy_in_force
from tillage.store.access import AccountFilter, Principal, lets_everything, reach_names
from tillage.store.page_cache import store_version
from tillage.store.schema import Account
from tillage.strategy.config import Strategy

MONEY_PARTS: dict[str, tuple[bool, bool]] = {
    "revenue_churn_rate": (True, True),
    "grr": (True, True),
    "nrr": (True, True),
    "arpu": (True, False),
    "ltv_to_cac": (True, True),
    "cac_payback_months": (True, True),
}
"""Whether a KPI's numerator and denominator are amounts (the others are counts: accounts,
contracts, deals, answers, months)."""
PAGE_SIZE = 200
MAX_LIMIT = 5000


class KpiAccount(BaseModel):
    """One account's share of a KPI figure: ``numerator`` and ``denominator`` in the KPI's parts
    (amounts or counts), ``contribution`` its part of the value (``scale × num / Σ den``)."""

    account_id: int
    name: str
    rep: str | None
    team: str | None
    numerator: float
    denominator: float
    contribution: float | None


class KpiAccounts(BaseModel):
    """The accounts behind one KPI figure; ``numerator`` and ``denominator`` are the sums over
    every listed account (all pages), ``value`` the figure they give; ``count`` the accounts
    listed (``items`` one page of them); ``hidden`` the accounts of the figure the caller may
    not see (only the company figure of a caller with a limited view has any)."""

    kpi: str
    name: str
    unit: str
    kind: str
    scale: float
    money_numerator: bool
    money_denominator: bool
    period: str
    by: str | None
    value_of: str | None
    value: float | None
    numerator: float
    denominator: float | None
    count: int
    hidden: int
    offset: int
    limit: int
    blank_reason: str | None = None
    items: list[KpiAccount]


EMPTY_COLUMNS = ["account_id", "num", "den", "rep", "team"]


def _rows_params(definition: KPI, chosen: Period, lang: str) -> dict[str, object]:
    """The page-cache key of one KPI's rows in one period: one place, so that
    :func:`warm_kpi_accounts` keeps them where a request reads them."""
    return {"kpi": definition.key, "period": chosen.label, "lang": lang}


def _computed_rows(
    con: BaseBackend,
    strategy: Strategy,
    scores: tuple[dt.date, pd.DataFrame] | None,
    definition: KPI,
    chosen: Period,
    lang: str,
) -> tuple[pd.DataFrame, str | None]:
    """Every account's ``num`` and ``den`` of ``definition`` in ``chosen`` with its ``rep`` and
    ``team``, computed on ``con``, and why the KPI is blank (``None`` when it has a value)."""
    cadence = account_cadence(scores[1], strategy) if scores is not None else None
    blank = blank_reasons(con, [definition], cadence=cadence, lang=lang).get(definition.key)
    if blank is not None:
        return pd.DataFrame(columns=EMPTY_COLUMNS), blank
    rows = per_account(
        con,
        chosen,
        [definition],
        ltv=scores[1][["account_id", "ltv"]] if scores is not None else None,
        meeting_days=strategy.kpi.meeting_days,
        cadence=cadence,
        lapse_days=strategy.kpi.lapse_days,
    )
    rows = rows.merge(account_dims(con), on="account_id", how="left")
    return rows[EMPTY_COLUMNS], None


def _keep(
    cache: PageCache, params: dict[str, object], rows: pd.DataFrame, blank: str | None
) -> None:
    """Keep one KPI's rows (or why it is blank) under ``params``."""
    if blank is not None:
        cache.put("kpi_accounts", params, frame_bytes(pd.DataFrame({"blank": [blank]})))
    else:
        cache.put("kpi_accounts", params, frame_bytes(rows))


def _account_rows(
    session: Session,
    settings: Settings,
    strategy: Strategy,
    definition: KPI,
    chosen: Period,
    lang: str,
) -> tuple[pd.DataFrame, str | None]:
    """Every account's ``num`` and ``den`` of ``definition`` in ``chosen`` with its ``rep`` and
    ``team`` (every account: the caller's view is applied after), computed as
    :func:`~tillage.services.kpis.kpi_rows` computes the KPI page's figures, and why the KPI
    is blank (``None`` when it has a value); kept in the page cache per state of the store
    (the scores and the KPI backend are read only when the cache has not got them)."""
    cache = PageCache(session)
    params = _rows_params(definition, chosen, lang)
    payload = cache.get("kpi_accounts", params)
    if payload is not None:
        frame = bytes_frame(payload)
        if "blank" in frame.columns:
            return pd.DataFrame(columns=EMPTY_COLUMNS), str(frame.blank.iloc[0])
        return frame, None
    scores = snapshot_scores(session)
    with kpi_backend(settings.resolved_database_url) as con:
        rows, blank = _computed_rows(con, strategy, scores, definition, chosen, lang)
    _keep(cache, params, rows, blank)
    return rows, blank


def warm_kpi_accounts(
    session: Session, settings: Settings, period: str, *, lang: str, con: BaseBackend
) -> list[str]:
    """Compute (and keep) every KPI's drill-down rows of ``period`` for the company, as every
    caller reads them (reach is applied after reading), on ``con`` (a backend the caller holds
    open); the KPIs computed (none without a snapshot)."""
    version = store_version(session)
    if version is None:
        return []
    strategy = strategy_in_force(session)
    chosen = chosen_period(strategy, version.as_of, period)
    scores = snapshot_scores(session)
    cache = PageCache(session)
    for definition in REGISTRY.values():
        rows, blank = _computed_rows(con, strategy, scores, definition, chosen, lang)
        _keep(cache, _rows_params(definition, chosen, lang), rows, blank)
    return list(REGISTRY)


def _check_cut(
    session: Session, principal: Principal, by: Cut | None, value: str | None
) -> tuple[Cut | None, str | None]:
    if (by is None) != (value is None):
        raise DataValidationError("give both by= and value= (a rep, team or segment), or neither")
    if by is None:
        return None, None
    check_cut_allowed(principal, by)
    reach = reach_names(session, principal)
    if reach is not None and by in ("rep", "team") and value not in reach[0 if by == "rep" else 1]:
        raise NotFoundError(f"no {by} {value!r} among the ones you may see")
    return by, value


def kpi_accounts(
    session: Session,
    settings: Settings,
    lang: str,
    principal: Principal,
    visible: AccountFilter,
    kpi: str,
    *,
    period: str | None = None,
    by: Cut | None = None,
    value: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> KpiAccounts:
    """The accounts behind ``kpi`` in ``period`` (default: the quarter of the newest snapshot)
    for the company or the cut value ``by`` = ``value``, as ``principal`` may see them (see the
    module doc), sorted by contribution; ``offset`` and ``limit`` pick a page of them."""
    if kpi not in REGISTRY:
        raise NotFoundError(f"no KPI {kpi!r}: choose from {', '.join(REGISTRY)}")
    definition = REGISTRY[kpi]
    by, value = _check_cut(session, principal, by, value)
    strategy = strategy_in_force(session)
    version = store_version(session)
    chosen = chosen_period(strategy, version.as_of if version is not None else None, period)
    scores = snapshot_scores(session) if by == "segment" else None  # read only for the cut
    if by == "segment" and scores is None:
        raise DataValidationError("by segment needs a snapshot: run `tillage score` first")
    rows, blank = _account_rows(session, settings, strategy, definition, chosen, lang)
    rows = rows.astype({"account_id": "int64"})
    if by == "segment" and scores is not None:
        rows = rows.merge(scores[1][["account_id", "segment"]], on="account_id", how="left")
    if by is not None:
        labels = rows[by].astype("object").where(rows[by].notna(), NO_VALUE).astype(str)
        rows = rows[labels == value]
    if lets_everything(visible):  # an admin: no need to read 100,000 ids to keep them all
        shown = rows
    else:
        shown = rows[rows.account_id.isin(set(session.scalars(select(Account.id).where(visible))))]
    num, den = float(shown.num.sum()), float(shown.den.sum())
    count_kind = definition.kind == "count"
    figure = (
        None
        if blank is not None
        else num * definition.scale
        if count_kind
        else (definition.scale * num / den if den else None)
    )
    if count_kind:
        contribution = shown.num * definition.scale
    elif den:
        contribution = shown.num * definition.scale / den
    else:
        contribution = pd.Series(math.nan, index=shown.index)
    shown = shown.assign(contribution=contribution, size=contribution.abs().fillna(0.0))
    shown = shown.sort_values(["size", "den", "account_id"], ascending=[False, False, True])
    limit = max(1, min(limit, MAX_LIMIT))
    page = shown.iloc[offset : offset + limit]
    names = dict(
        session.execute(
            select(Account.id, Account.name).where(Account.id.in_(page.account_id.tolist()))
        ).all()
    )
    money_num, money_den = MONEY_PARTS.get(kpi, (False, False))
    return KpiAccounts(
        kpi=kpi,
        name=definition.name(lang),
        unit=definition.unit,
        kind=definition.kind,
        scale=definition.scale,
        money_numerator=money_num,
        money_denominator=money_den,
        period=chosen.label,
        by=by,
        value_of=value,
        value=figure,
        numerator=num,
        denominator=None if count_kind else den,
        count=len(shown),
        hidden=len(rows) - len(shown),
        offset=offset,
        limit=limit,
        blank_reason=blank,
        items=[
            KpiAccount(
                account_id=int(r.account_id),
                name=names.get(int(r.account_id), ""),
                rep=r.rep if isinstance(r.rep, str) else None,
                team=r.team if isinstance(r.team, str) else None,
                numerator=float(r.num),
                denominator=float(r.den),
                contribution=None if math.isnan(r.contribution) else float(r.contribution),
            )
            for r in page.itertuples(index=False)
        ],
    )
