"""Accounts: the one listing (``/api/v1/accounts``, its CSV, the ``/accounts`` page, the demo's
top ten), one account's detail and history, and the portfolio's zone totals — as far as the
caller may see.

A listing reads the newest snapshot (or ``snapshot``), keeps what the filters ask for
(:class:`~tillage.services.listing.ScoreFilter`: ``risk`` is a churn band *or* a risk flag, the same
everywhere), sorts by a whitelisted column (missing values last, ties by account id in the same
direction) and pages either by ``offset`` or, fast however deep, by the ``cursor`` the previous
page returned (keyset pagination). The CSV export takes the same query and streams every
matching row.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tillage.errors import ParameterError
from tillage.inert import csv_row
from tillage.services.account_views import segment_cells as store_segment_cells
from tillage.services.listing import (
    DESCENDING_BY_DEFAULT,
    NULLABLE_SORTS,
    Cursor,
    Order,
    ScoreFilter,
    ScoreRow,
    SortKey,
    cursor_of,
    list_scores,
    listing_order,
    rows_by_id,
)
from tillage.services.page_cache import PageCache, cached_model, filter_key
from tillage.services.snapshot_frames import deal_zone_totals
from tillage.services.snapshots import SnapshotOut, snapshot_out
from tillage.store.access import AccountFilter
from tillage.store.groups import hierarchy_frame
from tillage.store.page_cache import store_version
from tillage.store.snapshots import (
    AccountDetail,
    ScorePoint,
    account_detail,
    get_snapshot,
    latest_snapshot,
    zone_totals,
)
from tillage.strategy.groups import group_rollup

EXPORT_BATCH = 2000
SEARCH_MAX = 100
"""The longest search text (characters) a listing takes, on every surface."""
MAX_ID = 2**31 - 1
CSV_COLUMNS = (
    "account_id",
    "key",
    "name",
    "owner",
    "zone",
    "ltv",
    "revenue_12m",
    "tenure_months",
    "team",
    "segment",
    "churn_risk",
    "priority",
    "borderline",
)
"""The CSV export's columns, in order (the listing's row without the priority's reasons)."""


class AccountPage(BaseModel):
    """A page of accounts: ``total`` accounts match, worth ``total_ltv`` (company currency).
    ``next_cursor``: pass it as ``cursor`` for the next page (``null`` on the last page)."""

    snapshot: SnapshotOut
    total: int
    total_ltv: float
    limit: int
    offset: int
    next_cursor: str | None
    items: list[ScoreRow]


class CellOut(BaseModel):
    """One value × growth cell (``deepen``, ``maintain``, ``nurture``, ``reduce``, or ``-``:
    scored accounts without a known cell): its accounts, their total LTV (company currency) and
    how many of them are borderline."""

    key: str
    accounts: int
    total_ltv: float
    borderline: int


class ZoneOut(BaseModel):
    """One portfolio zone: number of accounts and their total LTV (company currency)."""

    zone: str
    accounts: int
    total_ltv: float


class DealZoneOut(BaseModel):
    """One deal zone: the open deals scored in it, their total amount and expected value
    (Σ amount × win probability), company currency, and how many are borderline (their zone is
    uncertain). ``zone`` is ``null`` for deals the snapshot could not zone."""

    zone: str | None
    deals: int
    amount: float
    expected_value: float
    borderline: int


class GroupOut(BaseModel):
    """A corporate group (企業グループ): ``group_id`` and ``name`` of its top company, its member
    accounts, their total LTV (company currency) and how many of them are unscored."""

    group_id: int
    name: str
    accounts: int
    ltv: float
    unscored: int


class PortfolioOut(BaseModel):
    """The portfolio of the latest snapshot: account zones, deal zones, and the corporate groups
    of two or more (visible) accounts, highest group LTV first."""

    snapshot: SnapshotOut
    zones: list[ZoneOut]
    deal_zones: list[DealZoneOut]
    cells: list[CellOut] = []
    groups: list[GroupOut] = []


def encode_cursor(sort: str, descending: bool, cursor: Cursor, position: int | None = None) -> str:
    """An opaque, URL-safe form of a keyset cursor of a listing sorted by ``sort``; with the
    row's ``position`` in the listing, the next page is a slice of the kept order."""
    parts = [sort, descending, *cursor] + ([] if position is None else [position])
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def decode_cursor(text: str, sort: str, descending: bool) -> tuple[Cursor, int | None]:
    """The cursor :func:`encode_cursor` made for this sort and the row's position in the
    listing (``None`` when it has none); anything else is refused (422)."""
    try:
        made_for, made_desc, value, account_id, *rest = json.loads(
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        )
        position = rest[0] if len(rest) == 1 else None
        kind = str if sort in ("name", "key") else (int, float)
        valid = (
            made_for == sort
            and made_desc == descending
            and isinstance(account_id, int)
            and 0 < account_id <= MAX_ID
            and (not isinstance(value, float | int) or abs(value) < 1e300)
            and not isinstance(value, bool)
            and (isinstance(value, kind) or (value is None and sort in NULLABLE_SORTS))
            and len(rest) <= 1
            and (position is None or (type(position) is int and 0 <= position <= MAX_ID))
        )
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        valid = False
    if not valid:
        raise ParameterError(
            "the cursor is not one this API returned for this sort order: pass next_cursor "
            "unchanged, with the same sort and order"
        )
    return (value, account_id), position


@dataclass(frozen=True)
class Listing:
    """The query of a listing or an export: which snapshot (``None``: the newest), filters and
    sort (``descending`` ``None``: numbers highest first, names A to Z)."""

    snapshot: int | None = None
    where: ScoreFilter = field(default_factory=ScoreFilter)
    sort: SortKey = "ltv"
    descending: bool | None = None

    @property
    def desc(self) -> bool:
        """Whether the listing runs highest (or Z) first."""
        return self.sort in DESCENDING_BY_DEFAULT if self.descending is None else self.descending


def search_text(text: str | None) -> str | None:
    """A search as every surface applies it: surrounding blanks dropped, empty means none."""
    text = (text or "").strip()
    return text or None


def snapshot_of(session: Session, snapshot_id: int | None = None) -> SnapshotOut:
    """The snapshot ``snapshot_id`` (default: the newest complete one) as answers name it; the
    newest is the store version's (:func:`store_version`: read with it, once a request)."""
    if snapshot_id is not None:
        return snapshot_out(get_snapshot(session, snapshot_id))
    version = store_version(session)
    if version is None:  # no complete snapshot: raises the error that says what to run
        return snapshot_out(latest_snapshot(session))
    return SnapshotOut(id=version.snapshot_id, as_of=version.as_of, label=version.label)


def account_page(
    session: Session,
    visible: AccountFilter,
    listing: Listing | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
    cursor: str | None = None,
) -> AccountPage:
    """A page of the ``visible`` accounts of ``listing``: rows ``offset … offset + limit`` or,
    with ``cursor`` (a ``next_cursor``), the ``limit`` rows after it; with the number and total
    LTV of every matching account. The one listing behind the API, the page and the demo.

    The listing's order (every matching id, :func:`listing_order`) and its totals are computed
    once per snapshot, filter, sort and reach and kept in the page cache; a page then reads
    its slice of the ids and joins those rows alone, however deep it is."""
    listing = listing or Listing()
    snapshot = snapshot_of(session, listing.snapshot)
    desc = listing.desc
    after, position = (None, None) if cursor is None else decode_cursor(cursor, listing.sort, desc)
    cache = PageCache(session)
    totals_params, order_params = _order_keys(snapshot.id, visible, listing)
    kept = cache.get("list-total", totals_params)
    start = offset
    ids: np.ndarray | None = None
    if after is not None:
        start, ids = _after_cursor(cache, order_params, after[1], position, limit)
    elif kept is not None:
        ids = _ids(cache.slice("list-order", order_params, start * ID_BYTES, limit * ID_BYTES))
    if kept is None or ids is None or start is None:
        order = _order(session, cache, snapshot.id, visible, listing, totals_params, order_params)
        total, total_ltv = order.total, order.total_ltv
        if after is not None:
            start = _position_after(order.ids, after[1])
        if start is None:  # the cursor's row is not in this listing: continue by its value
            return _keyset_page(session, snapshot, visible, listing, limit, after, total, total_ltv)
        ids = order.ids[start : start + limit]
    else:
        total, total_ltv = json.loads(kept)
    rows = rows_by_id(session, snapshot.id, ids)
    last = start + len(rows) - 1
    more = len(rows) == limit and last + 1 < total
    return AccountPage(
        snapshot=snapshot,
        total=total,
        total_ltv=total_ltv,
        limit=limit,
        offset=offset,
        next_cursor=(
            encode_cursor(listing.sort, desc, cursor_of(rows[-1], listing.sort), last)
            if more
            else None
        ),
        items=rows,
    )


ID_BYTES = 4
"""Bytes per account id in a kept listing order (little-endian int32)."""


def _order_keys(
    snapshot_id: int, visible: AccountFilter, listing: Listing
) -> tuple[dict[str, object], dict[str, object]]:
    """The page-cache parameters of a listing's totals and of its order."""
    where = (listing.where or ScoreFilter()).active()
    totals = {"snapshot": snapshot_id, "where": where, "visible": filter_key(visible)}
    return totals, {**totals, "sort": listing.sort, "desc": listing.desc}


def visible_ids(session: Session, visible: AccountFilter, snapshot_id: int) -> np.ndarray:
    """The ids of every account scored in snapshot ``snapshot_id`` that the caller may see: the
    kept order of the default listing (the API's first page keeps it; the warm step keeps the
    admin's and each manager's), else computed and kept. For a page that needs the reach of
    many accounts: 20,000 of 100,000 read in a few milliseconds, not filtered again."""
    cache = PageCache(session)
    listing = Listing()
    totals_params, order_params = _order_keys(snapshot_id, visible, listing)
    found = _ids(cache.get("list-order", order_params))
    if found is not None:
        return found
    return _order(session, cache, snapshot_id, visible, listing, totals_params, order_params).ids


def _ids(payload: bytes | None) -> np.ndarray | None:
    return None if payload is None else np.frombuffer(payload, dtype="<i4")


def _order(
    session: Session,
    cache: PageCache,
    snapshot_id: int,
    visible: AccountFilter,
    listing: Listing,
    totals_params: dict[str, object],
    order_params: dict[str, object],
) -> Order:
    """The listing's order, computed and kept (with its totals) in the page cache."""
    order = listing_order(
        session,
        snapshot_id,
        visible=visible,
        sort=listing.sort,
        descending=listing.desc,
        where=listing.where,
    )
    cache.put("list-order", order_params, order.ids.astype("<i4").tobytes())
    cache.put("list-total", totals_params, json.dumps([order.total, order.total_ltv]).encode())
    return order


def _after_cursor(
    cache: PageCache,
    params: dict[str, object],
    account_id: int,
    position: int | None,
    limit: int,
) -> tuple[int | None, np.ndarray | None]:
    """Where the page after the cursor's row starts and its ids, read from the kept order
    when the cursor's position still holds that row; ``(None, None)`` otherwise."""
    if position is None:
        return None, None
    found = _ids(cache.slice("list-order", params, position * ID_BYTES, (limit + 1) * ID_BYTES))
    if found is None or not len(found) or int(found[0]) != account_id:
        return None, None
    return position + 1, found[1:]


def _position_after(ids: np.ndarray, account_id: int) -> int | None:
    """The position after ``account_id`` in ``ids``; ``None`` when it is not there."""
    at = np.flatnonzero(ids == account_id)
    return int(at[0]) + 1 if len(at) else None


def _keyset_page(
    session: Session,
    snapshot: SnapshotOut,
    visible: AccountFilter,
    listing: Listing,
    limit: int,
    after: Cursor | None,
    total: int,
    total_ltv: float,
) -> AccountPage:
    """The rows after a cursor whose row is not in the listing (a cursor of another
    snapshot): those that sort after its value, by keyset."""
    rows = list_scores(
        session,
        snapshot.id,
        visible=visible,
        limit=limit,
        sort=listing.sort,
        descending=listing.desc,
        where=listing.where,
        after=after,
        count=False,
    ).rows
    more = len(rows) == limit
    return AccountPage(
        snapshot=snapshot,
        total=total,
        total_ltv=total_ltv,
        limit=limit,
        offset=0,
        next_cursor=(
            encode_cursor(listing.sort, listing.desc, cursor_of(rows[-1], listing.sort))
            if more
            else None
        ),
        items=rows,
    )


def export_csv(session: Session, visible: AccountFilter, listing: Listing) -> Iterator[str]:
    """Every account of ``listing`` as UTF-8 CSV text (:data:`CSV_COLUMNS`, a header row
    first), in chunks of :data:`EXPORT_BATCH` rows read by keyset pages."""
    snapshot = snapshot_of(session, listing.snapshot)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    after: Cursor | None = None
    while True:
        rows = list_scores(
            session,
            snapshot.id,
            visible=visible,
            limit=EXPORT_BATCH,
            sort=listing.sort,
            descending=listing.desc,
            where=listing.where,
            after=after,
            count=False,
        ).rows
        # no live formulas in a spreadsheet (OWASP CSV injection)
        writer.writerows(csv_row([getattr(row, c) for c in CSV_COLUMNS]) for row in rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < EXPORT_BATCH:
            return
        after = cursor_of(rows[-1], listing.sort)


def portfolio(
    session: Session, visible: AccountFilter, snapshot_id: int | None = None
) -> PortfolioOut:
    """Accounts and total LTV per zone, and the open deals per deal zone, in the snapshot
    ``snapshot_id`` (default: the latest), over the ``visible`` accounts."""
    snapshot = snapshot_of(session, snapshot_id)
    # one computation per snapshot and reach (the caller's filter): every later request,
    # from any server process, reads the answer back
    params = {"snapshot": snapshot.id, "visible": filter_key(visible)}
    return cached_model(
        session, "portfolio", params, PortfolioOut, lambda: _portfolio(session, visible, snapshot)
    )


def _portfolio(session: Session, visible: AccountFilter, snapshot: SnapshotOut) -> PortfolioOut:
    zones = [
        ZoneOut(zone=z, accounts=n, total_ltv=t)
        for z, n, t in zone_totals(session, snapshot.id, visible=visible)
    ]
    deal_zones = [
        DealZoneOut(zone=z, deals=n, amount=a, expected_value=e, borderline=b)
        for z, n, a, e, b in deal_zone_totals(session, snapshot.id, visible=visible)
    ]
    cells = segment_cells(session, visible, snapshot.id)
    groups = [
        GroupOut(group_id=g, name=n, accounts=a, ltv=v, unscored=u)
        for g, n, a, v, u in group_rollup(
            hierarchy_frame(session, snapshot.id, visible=visible)
        ).itertuples(index=False)
    ]
    return PortfolioOut(
        snapshot=snapshot, zones=zones, deal_zones=deal_zones, cells=cells, groups=groups
    )


def segment_cells(
    session: Session, visible: AccountFilter, snapshot_id: int | None = None
) -> list[CellOut]:
    """The value × growth cells of the snapshot ``snapshot_id`` (default: the latest) over the
    ``visible`` accounts, in the order deepen, maintain, nurture, reduce (each even when empty),
    then ``-`` for the scored accounts without a known cell when there are any: the one count
    behind the page, the API, the CLI table and the workbook, so the cells sum to the scored
    accounts everywhere."""
    snapshot = snapshot_of(session, snapshot_id)
    return [
        CellOut(key=c.key, accounts=c.accounts, total_ltv=c.total_ltv, borderline=c.borderline)
        for c in store_segment_cells(session, snapshot.id, visible=visible)
    ]


def account(session: Session, visible: AccountFilter, account_id: int) -> AccountDetail:
    """One account with its latest scores and its history across snapshots (newest first);
    :class:`~tillage.errors.NotFoundError` when it does not exist *or* is not visible."""
    return account_detail(session, account_id, visible=visible)


def history_by_date(history: list[ScorePoint]) -> list[ScorePoint]:
    """An account's history (newest first, as in :class:`AccountDetail`) as a time series:
    oldest first, one point per as-of date (that date's newest snapshot)."""
    by_date: dict[object, ScorePoint] = {}
    for point in history:
        by_date.setdefault(point.as_of, point)
    return list(reversed(by_date.values()))
