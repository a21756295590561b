"""The KPIs of a period (``/api/v1/kpis``, the ``/kpis`` page, ``tillage kpi``), computed by
:func:`tillage.kpi.compute_kpis`.

Which rows a caller gets:

- the company row (``cut = all``) — everyone: company totals name no account;
- ``by=rep`` — an admin every rep; a manager the reps they manage (their reach, as for
  accounts); a rep their own row;
- ``by=team`` — an admin every team; others the teams of the reps in their reach;
- ``by=segment`` — an admin over every account; others over the accounts they may see only.

KPIs by rep are coaching data: customer success, marketing and finance may not cut by rep
(:class:`~tillage.errors.PermissionDenied`); finance / executive may cut by team and segment,
customer success and marketing by segment only (:data:`ROLE_CUTS`, :func:`allowed_cuts`).

Periods are read in the fiscal calendar of the strategy in force (``fiscal_year_start_month``,
:mod:`tillage.kpi.period`): the default is the fiscal quarter of the newest snapshot. A KPI the
store cannot give (no contracts for the subscription KPIs, no orders for the order KPIs, …) is
blank, its ``blank_reason`` saying why (:func:`tillage.kpi.compute.blank_reasons`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Literal

import pandas as pd
from ibis.backends import BaseBackend
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import DataValidationError, NotFoundError, PermissionDenied
from tillage.kpi import (
    REGISTRY,
    Period,
    compute_kpis,
    kpi_backend,
    parse_period,
    period_containing,
    trailing,
)
from tillage.kpi.cadence import account_cadence
from tillage.kpi.compute import blank_reasons
from tillage.services.page_cache import PageCache, bytes_frame, frame_bytes, reach_key
from tillage.services.strategy import strategy_in_force
from tillage.store.access import AccountFilter, Principal, everything, reach_names
from tillage.store.page_cache import store_version
from tillage.store.schema import Account, AccountScore
from tillage.store.snapshots import latest_snapshot
from tillage.strategy.config import Strategy

Cut = Literal["rep", "team", "segment"]
ROLE_CUTS: dict[str, tuple[str, ...]] = {
    "success": ("segment",),
    "marketing": ("segment",),
    "finance": ("team", "segment"),
}
"""The cuts a role outside sales may ask for; the sales roles may ask for every cut."""


def allowed_cuts(role: str) -> tuple[str, ...]:
    """The cuts (``rep``, ``team``, ``segment``) ``role`` may ask for."""
    return ROLE_CUTS.get(role, ("rep", "team", "segment"))


def check_cut_allowed(principal: Principal, by: str | None) -> None:
    """Refuse (:class:`~tillage.errors.PermissionDenied`) a cut ``by`` that ``principal``'s
    role may not ask for (:func:`allowed_cuts`); the company figure (``None``) is everyone's."""
    if by is not None and by not in allowed_cuts(principal.role):
        raise PermissionDenied(
            f"a {principal.role} user may see KPIs by {' or '.join(allowed_cuts(principal.role))}"
            f" only, not by {by}"
        )


HIDDEN = "\x00hidden"  # segment label of accounts the caller may not see (rows dropped)


class KpiRow(BaseModel):
    """One KPI for one period and cut value: ``value = scale × numerator / denominator``
    (``denominator`` null for counts; ``value`` null when the denominator is 0), in ``unit``."""

    period: str
    cut: str
    cut_value: str
    kpi: str
    name: str
    unit: str
    value: float | None
    numerator: float
    denominator: float | None
    blank_reason: str | None = None


class KpiTable(BaseModel):
    """The KPIs of a period: the company row, and rows of the cut the caller may see."""

    period: str
    by: str | None
    rows: list[KpiRow]


def _number(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def snapshot_scores(session: Session) -> tuple[dt.date, pd.DataFrame] | None:
    """The newest complete snapshot's as-of date and scores ``(account_id, ltv, segment)``;
    ``None`` when there is no snapshot yet (LTV/CAC then has no value)."""
    try:
        snapshot = latest_snapshot(session)
    except NotFoundError:
        return None
    rows = session.execute(
        select(AccountScore.account_id, AccountScore.ltv, AccountScore.segment).where(
            AccountScore.snapshot_id == snapshot.id
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["account_id", "ltv", "segment"])
    return snapshot.as_of, frame.astype({"account_id": "int64", "ltv": "float64"})


def chosen_period(strategy: Strategy, as_of: dt.date | None, period: str | None) -> Period:
    """``period`` read in ``strategy``'s fiscal calendar; without one, the fiscal quarter of
    ``as_of`` (the newest snapshot's date; :class:`~tillage.errors.DataValidationError` when
    there is none)."""
    fiscal = strategy.fiscal_year_start_month
    if period is not None:
        return parse_period(period, fiscal)
    if as_of is not None:
        return period_containing(as_of, "quarter", fiscal)
    raise DataValidationError(
        "give a period (--period or ?period=, e.g. 2026-Q3): there is no snapshot to date it"
    )


def kpi_rows(
    session: Session,
    settings: Settings,
    principal: Principal,
    visible: AccountFilter,
    *,
    period: str | None = None,
    by: Cut | None = None,
    periods: int = 1,
    backend: str = "duckdb",
    lang: str = "en",
) -> tuple[list[Period], pd.DataFrame]:
    """The KPIs of ``period`` (default: the quarter of the newest snapshot) and of the
    ``periods - 1`` periods before it, for the company and, with ``by``, per rep, team or
    segment, restricted to what ``principal`` may see (see the module doc).

    Returns the periods (oldest first) and :func:`~tillage.kpi.compute_kpis`' frame, computed
    on ``backend`` (duckdb, postgres or spark), with a column ``blank_reason`` (in ``lang``; null
    where the KPI can have a value). The service behind ``/api/v1/kpis`` (one period), the
    ``/kpis`` page (a trend) and ``tillage kpi``."""
    check_cut_allowed(principal, by)
    strategy = strategy_in_force(session)
    version = store_version(session)
    chosen = chosen_period(strategy, version.as_of if version is not None else None, period)
    if by == "segment" and version is None:
        raise DataValidationError(
            "by segment (--by or ?by=) needs a snapshot: run `tillage score` first"
        )
    reach = reach_names(session, principal)
    chosen_periods = trailing(chosen, periods)

    # only the segment cut depends on who asks (their accounts by segment, others hidden)
    params = _rows_key(
        by, backend, lang, reach_key(session, principal) if by == "segment" and reach else "all"
    )
    # each period is cached on its own (a period's rows do not depend on the others): the
    # page's trend and the API's one period share them
    cache = PageCache(session)
    found = {}
    for each in chosen_periods:
        payload = cache.get("kpis", {**params, "period": each.label})
        if payload is not None:
            found[each.label] = bytes_frame(payload)
    missing = [each for each in chosen_periods if each.label not in found]
    if missing:
        computed = _computed_rows(
            session, settings, strategy, visible, missing, (by,), backend, (lang,), reach
        )[lang]
        found.update(_keep_rows(cache, params, computed, missing))
    frame = pd.concat([found[each.label] for each in chosen_periods], ignore_index=True)
    return chosen_periods, _visible_rows(frame, reach)


def _rows_key(by: Cut | None, backend: str, lang: str, reach: str) -> dict[str, object]:
    """The page-cache key of :func:`kpi_rows`' rows (a period added per period): one place,
    so that :func:`warm_kpi_rows` keeps them where a request reads them."""
    return {"by": by, "backend": backend, "lang": lang, "reach": reach}


def _keep_rows(
    cache: PageCache, params: dict[str, object], computed: pd.DataFrame, periods: list[Period]
) -> dict[str, pd.DataFrame]:
    """Each period's rows of ``computed`` kept under ``params``; the frames as read back."""
    found = {}
    for each in periods:
        payload = frame_bytes(computed[computed.period == each.label].reset_index(drop=True))
        cache.put("kpis", {**params, "period": each.label}, payload)
        found[each.label] = bytes_frame(payload)
    return found


WARM_CUTS: tuple[Cut | None, ...] = (None, "rep", "team", "segment")
"""The cuts :func:`warm_kpi_rows` computes: the company alone and each cut."""


def warm_kpi_rows(
    session: Session,
    settings: Settings,
    period: str,
    periods: int,
    *,
    langs: Sequence[str],
    con: BaseBackend | None = None,
) -> list[str]:
    """Compute (and keep) the rows :func:`kpi_rows` answers for each of :data:`WARM_CUTS`
    over ``period`` and the ``periods - 1`` before it, as every caller reads them (reach is
    applied after reading), with one pass over each period's accounts for all the cuts
    together (on ``con`` when given: a backend the caller holds open), in each of ``langs``:
    the figures are computed once, only the reasons for a blank are written per language; the
    cuts computed."""
    strategy = strategy_in_force(session)
    version = store_version(session)
    if version is None:
        return []
    chosen_periods = trailing(chosen_period(strategy, version.as_of, period), periods)
    cuts = tuple(c for c in WARM_CUTS if c is not None)
    computed = _computed_rows(
        session,
        settings,
        strategy,
        everything(),
        chosen_periods,
        cuts,
        "duckdb",
        tuple(langs),
        None,
        con=con,
    )
    cache = PageCache(session)
    for lang, frame in computed.items():
        for by in WARM_CUTS:
            params = _rows_key(by, "duckdb", lang, "all")
            rows = frame[frame.cut.isin(["all", by])]
            _keep_rows(cache, params, rows, chosen_periods)
    return [by or "all" for by in WARM_CUTS]


def _computed_rows(
    session: Session,
    settings: Settings,
    strategy: Strategy,
    visible: AccountFilter,
    chosen_periods: list[Period],
    cuts: tuple[Cut | None, ...],
    backend: str,
    langs: tuple[str, ...],
    reach: tuple[set[str], set[str]] | None,
    *,
    con: BaseBackend | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`~tillage.kpi.compute_kpis`' frame of ``chosen_periods`` for the company and the
    ``cuts`` with ``blank_reason``, every rep and team row kept (:func:`_visible_rows` drops
    the others); the segment cut over the accounts ``visible`` lets through, the others'
    segment hidden. On ``con`` when given, else on a ``backend`` opened for the call. One
    frame per language of ``langs`` (the figures computed once, the reasons in each)."""
    scores = snapshot_scores(session)
    segments = None
    if scores is not None:
        segments = scores[1][["account_id", "segment"]]
        if reach is not None:  # every account: the caller's by segment, the others hidden
            accounts = pd.DataFrame(
                session.execute(select(Account.id, visible)).all(), columns=["account_id", "seen"]
            )
            segments = accounts.merge(segments, on="account_id", how="left")
            shown = segments.segment.astype("object").where(segments.segment.notna(), "-")
            segments = segments.assign(segment=shown.where(segments.seen.astype(bool), HIDDEN))
    cadence = account_cadence(scores[1], strategy) if scores is not None else None
    with (
        nullcontext(con)
        if con is not None
        else kpi_backend(settings.resolved_database_url, backend) as held
    ):
        frame = compute_kpis(
            held,
            chosen_periods,
            by=("all", *(c for c in cuts if c)),
            ltv=scores[1][["account_id", "ltv"]] if scores is not None else None,
            segments=segments,
            meeting_days=strategy.kpi.meeting_days,
            cadence=cadence,
            lapse_days=strategy.kpi.lapse_days,
        )
        blanks = {
            lang: blank_reasons(held, REGISTRY.values(), cadence=cadence, lang=lang)
            for lang in langs
        }
    return {lang: frame.assign(blank_reason=frame.kpi.map(blank)) for lang, blank in blanks.items()}


def _visible_rows(frame: pd.DataFrame, reach: tuple[set[str], set[str]] | None) -> pd.DataFrame:
    """Keep the company rows and the cut values the caller may see."""
    keep = (frame.cut == "all") | (frame.cut == "segment") & (frame.cut_value != HIDDEN)
    if reach is None:
        return frame[keep | frame.cut.isin(["rep", "team"])]
    reps, teams = reach
    keep |= (frame.cut == "rep") & frame.cut_value.isin(reps)
    keep |= (frame.cut == "team") & frame.cut_value.isin(teams)
    return frame[keep]


def kpi_table(
    session: Session,
    settings: Settings,
    lang: str,
    principal: Principal,
    visible: AccountFilter,
    *,
    period: str | None = None,
    by: Cut | None = None,
) -> KpiTable:
    """The KPIs of one ``period`` (default: the quarter of the newest snapshot) as
    ``principal`` may see them (:func:`kpi_rows`), each named in ``lang``: the answer of
    ``/api/v1/kpis`` and ``tillage kpi --format json``."""
    (chosen,), frame = kpi_rows(
        session, settings, principal, visible, period=period, by=by, lang=lang
    )
    return KpiTable(
        period=chosen.label,
        by=by,
        rows=[
            KpiRow(
                period=row.period,
                cut=row.cut,
                cut_value=row.cut_value,
                kpi=row.kpi,
                name=REGISTRY[row.kpi].name(lang),
                unit=REGISTRY[row.kpi].unit,
                value=_number(row.value),
                numerator=float(row.numerator),
                denominator=_number(row.denominator),
                blank_reason=row.blank_reason if isinstance(row.blank_reason, str) else None,
            )
            for row in frame.itertuples(index=False)
        ],
    )
