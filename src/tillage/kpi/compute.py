"""Compute the registered KPIs for periods and cuts into one tidy frame.

``compute_kpis(con, periods, by=...)`` returns the columns ``period``, ``cut``, ``cut_value``,
``kpi``, ``value``, ``numerator``, ``denominator``: one row per period × cut value × KPI. The cut
``all`` is the whole company; ``rep`` groups accounts by their owner, ``team`` by the owner's
team, ``segment`` by a column passed in (e.g. a snapshot's segment). Accounts without an owner,
team or segment fall in the cut value ``-``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.errors import DataValidationError
from tillage.features.engine import execute_arrow
from tillage.i18n import gettext_for
from tillage.kpi.behaviour import BEHAVIOUR_KPIS
from tillage.kpi.cadence import CADENCE_COLUMNS, CADENCE_KPIS, cadence_window
from tillage.kpi.compiled import answer, shape
from tillage.kpi.orders import ORDER_KPIS
from tillage.kpi.outcome import OUTCOME_KPIS
from tillage.kpi.period import Period
from tillage.kpi.registry import KPI, LAPSE_DAYS, MEETING_DAYS, KpiContext
from tillage.labels import label_column, unique_labels

#: Every KPI by key: outcome KPIs (subscription, then orders) first, then behaviour KPIs.
REGISTRY: dict[str, KPI] = {
    k.key: k for k in (*OUTCOME_KPIS, *ORDER_KPIS, *BEHAVIOUR_KPIS, *CADENCE_KPIS)
}


def _why_blank(code: str, lang: str) -> str:
    """The reason a KPI is blank, in ``lang``: ``code`` is the empty table it needs, or
    ``cadence`` (no cells to take the contact cadence from)."""
    _ = gettext_for(lang)
    reasons = {
        "contracts": _(
            "the store has no contracts: a subscription KPI needs them (a company that sells "
            "by order reads the order KPIs)"
        ),
        "orders": _(
            "the store has no orders: an order KPI needs them (a subscription company reads "
            "churn, GRR and NRR)"
        ),
        "activities": _("the store has no activities (meetings, calls, visits)"),
        "opportunities": _("the store has no opportunities"),
        "nps_responses": _("the store has no NPS answers"),
        "success_stories": _("the store has no success stories"),
        "cadence": _("no snapshot places the accounts in portfolio cells: run scoring first"),
        "customers": _(
            "the store has neither contracts nor orders: no account counts as a customer"
        ),
    }
    return reasons.get(code, _("the store has no {table}").format(table=code))


CUTS: tuple[str, ...] = ("all", "rep", "team", "segment")
COLUMNS: tuple[str, ...] = (
    "period",
    "cut",
    "cut_value",
    "kpi",
    "value",
    "numerator",
    "denominator",
)
NO_VALUE = "-"


def account_dims(con: BaseBackend) -> pd.DataFrame:
    """Each account's rep and team labels (names made unique: :mod:`tillage.labels`)."""
    accounts = execute_arrow(
        con, con.table("accounts").select(account_id="id", rep_id="owner_id")
    ).to_pandas()
    reps = execute_arrow(con, con.table("reps").select("id", "key", "name", "team_id")).to_pandas()
    teams = execute_arrow(con, con.table("teams").select("id", "key", "name")).to_pandas()
    reps = reps.assign(rep=label_column(reps, "id", "key", "name"))
    team_labels = unique_labels(teams.itertuples(index=False, name=None))
    reps["team"] = reps["team_id"].map(lambda t: team_labels.get(int(t)) if pd.notna(t) else None)
    joined = accounts.merge(
        reps[["id", "rep", "team"]], left_on="rep_id", right_on="id", how="left"
    )
    return joined[["account_id", "rep", "team"]]


def _check_frame(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"the {name} frame lacks the column(s) {', '.join(missing)}; "
            f"give it {', '.join(columns)}"
        )
    return frame.loc[:, list(columns)]


def _double(value: ibis.Value) -> ibis.Value:
    """``value`` as float64 in the SQL too: ibis drops a cast to the type it already infers,
    and PostgreSQL types a literal such as ``1.0`` as numeric, so a lone KPI's ``num`` would
    come back as Decimal. Through decimal(38, 9) the cast is kept (exact to 1e-9)."""
    return value.cast("decimal(38, 9)").cast("float64")


def blank_reasons(
    con: BaseBackend,
    kpis: Iterable[KPI],
    *,
    cadence: pd.DataFrame | None = None,
    lang: str = "en",
) -> dict[str, str]:
    """Why a KPI has no value on this store, by key, for each of ``kpis`` that cannot have one:
    a table it ``needs`` is empty (e.g. no contracts: the subscription KPIs), every table of its
    ``needs_any`` is (no contracts and no orders: no customers to contact), or — for the
    contact-within-cadence KPI — no cadence was given (no snapshot to place the accounts in
    cells), in ``lang``. KPIs that can be computed are not listed."""
    empty: dict[str, bool] = {}

    def is_empty(table: str) -> bool:
        if table not in empty:
            empty[table] = int(execute_arrow(con, con.table(table).limit(1).count())) == 0
        return empty[table]

    out: dict[str, str] = {}
    for kpi in kpis:
        lacking = next((t for t in kpi.needs if is_empty(t)), None)
        if lacking is not None:
            out[kpi.key] = _why_blank(lacking, lang)
        elif kpi.needs_any and all(is_empty(t) for t in kpi.needs_any):
            out[kpi.key] = _why_blank("customers", lang)
        if kpi.key not in out and kpi.key == "contact_within_cadence" and cadence is None:
            out[kpi.key] = _why_blank("cadence", lang)
    return out


_SHARED: dict[int, tuple[BaseBackend, dict[tuple[object, ...], pd.DataFrame]]] = {}
"""The answers :func:`per_account` keeps per backend inside :func:`shared_results`."""


@contextmanager
def shared_results(con: BaseBackend) -> Iterator[BaseBackend]:
    """Within the block, :func:`per_account` on ``con`` answers a question it was asked
    before (the same period, KPIs and inputs) from memory: for a run that asks the same
    questions for several pages (the KPI trend and the review of the same quarter) on a
    backend whose tables do not change meanwhile."""
    _SHARED[id(con)] = (con, {})
    try:
        yield con
    finally:
        _SHARED.pop(id(con), None)


def _digest(frame: pd.DataFrame | None) -> str | None:
    """The SHA-256 of ``frame``'s columns, dtypes and rows, whatever their order (a frame is
    one row per account: each account's KPIs do not depend on the others'; ``None``: none)."""
    if frame is None:
        return None
    text = hashlib.sha256(repr((list(frame.columns), list(map(str, frame.dtypes)))).encode())
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    text.update(np.sort(rows).tobytes())
    return text.hexdigest()


def per_account(
    con: BaseBackend,
    period: Period,
    kpis: Iterable[KPI],
    *,
    ltv: pd.DataFrame | None = None,
    priority_accounts: Iterable[int] | None = None,
    meeting_days: int = MEETING_DAYS,
    cadence: pd.DataFrame | None = None,
    lapse_days: int = LAPSE_DAYS,
) -> pd.DataFrame:
    """Each account's ``num`` and ``den`` of each KPI in ``period`` (columns ``account_id``,
    ``kpi``, ``num``, ``den``); ``cadence`` (:data:`~tillage.kpi.cadence.CADENCE_COLUMNS`)
    each account's contact cadence; ``lapse_days`` the order KPIs' lapse window (days).
    Inside :func:`shared_results` a question asked before on ``con`` is answered from memory."""
    kpis = list(kpis)
    if priority_accounts is not None:
        priority_accounts = list(priority_accounts)
    shared = _SHARED.get(id(con))
    if shared is None or shared[0] is not con:
        return _per_account(
            con, period, kpis, ltv, priority_accounts, meeting_days, cadence, lapse_days
        )
    priority = None if priority_accounts is None else pd.DataFrame({"id": list(priority_accounts)})
    key = (
        period,
        tuple(k.key for k in kpis),
        _digest(ltv),
        _digest(priority),
        meeting_days,
        _digest(cadence),
        lapse_days,
    )
    if key not in shared[1]:
        shared[1][key] = _per_account(
            con, period, kpis, ltv, priority_accounts, meeting_days, cadence, lapse_days
        )
    return shared[1][key].copy()


def _per_account(
    con: BaseBackend,
    period: Period,
    kpis: list[KPI],
    ltv: pd.DataFrame | None,
    priority_accounts: Iterable[int] | None,
    meeting_days: int,
    cadence: pd.DataFrame | None,
    lapse_days: int,
) -> pd.DataFrame:
    if not kpis:
        return pd.DataFrame({"account_id": [], "kpi": [], "num": [], "den": []}).astype(
            {"account_id": "int64", "kpi": "object", "num": "float64", "den": "float64"}
        )
    ltv_frame = None
    if ltv is not None:
        ltv_frame = _check_frame(ltv, "ltv", ("account_id", "ltv"))
        ltv_frame = ltv_frame.astype({"account_id": "int64", "ltv": "float64"})
    priority_frame = None
    if priority_accounts is not None:
        ids = pd.Series(list(priority_accounts), dtype="int64")
        priority_frame = pd.DataFrame({"account_id": ids})
    cadence_frame = None
    if cadence is not None:
        frame = _check_frame(cadence, "cadence", CADENCE_COLUMNS)
        cadence_frame = cadence_window(frame, period)
    inputs = [
        None if f is None else ibis.memtable(f) for f in (ltv_frame, priority_frame, cadence_frame)
    ]
    ctx = KpiContext(con, period, meeting_days=meeting_days, lapse_days=lapse_days)

    def build() -> ibis.Table:
        ctx.ltv, ctx.priority_accounts, ctx.cadence = inputs
        parts = []
        for kpi in kpis:
            t = kpi.implementation(ctx)
            parts.append(
                t.select(
                    account_id=t.account_id.cast("int64"),
                    kpi=ibis.literal(kpi.key),
                    num=_double(t.num),
                    den=_double(t.den),
                )
            )
        return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]

    question = (
        con.name,
        period,
        tuple((k.key, k.implementation) for k in kpis),
        shape(inputs),
        meeting_days,
        lapse_days,
    )
    return answer(con, question, ctx, inputs, build).to_pandas()


def compute_kpis(
    con: BaseBackend,
    periods: Period | Sequence[Period],
    *,
    by: str | Sequence[str] = ("all",),
    keys: Sequence[str] | None = None,
    segments: pd.DataFrame | None = None,
    ltv: pd.DataFrame | None = None,
    priority_accounts: Iterable[int] | None = None,
    meeting_days: int = MEETING_DAYS,
    cadence: pd.DataFrame | None = None,
    lapse_days: int = LAPSE_DAYS,
) -> pd.DataFrame:
    """The KPIs (``keys``, default: all registered) for each period and cut, as a tidy frame.

    ``by``: any of ``all``, ``rep``, ``team``, ``segment`` (``segment`` needs ``segments``, a
    frame ``(account_id, segment)``). ``ltv``: a frame ``(account_id, ltv)`` for LTV/CAC.
    ``priority_accounts``: the account ids the regular-meeting rate watches. ``cadence``: each
    account's contact cadence (:func:`tillage.kpi.cadence.account_cadence`). ``lapse_days``:
    the order KPIs' lapse window (the strategy file's ``kpi.lapse_days``). A KPI that cannot
    have a value on this store (:func:`blank_reasons`) is not computed: its company row has no
    value (NaN).
    """
    period_list = [periods] if isinstance(periods, Period) else list(periods)
    cuts = [by] if isinstance(by, str) else list(by)
    for cut in cuts:
        if cut not in CUTS:
            raise DataValidationError(f"unknown cut {cut!r}: choose from {', '.join(CUTS)}")
    if "segment" in cuts and segments is None:
        raise DataValidationError("the segment cut needs a segments frame (account_id, segment)")
    unknown = [k for k in keys or () if k not in REGISTRY]
    if unknown:
        raise DataValidationError(
            f"unknown KPI(s) {', '.join(unknown)}: choose from {', '.join(REGISTRY)}"
        )
    chosen = [REGISTRY[k] for k in keys] if keys else list(REGISTRY.values())
    priority = list(priority_accounts) if priority_accounts is not None else None
    blank = blank_reasons(con, chosen, cadence=cadence)
    computed = [k for k in chosen if k.key not in blank]

    dims = account_dims(con)
    if segments is not None:
        seg = _check_frame(segments, "segments", ("account_id", "segment"))
        dims = dims.merge(seg.astype({"account_id": "int64"}), on="account_id", how="left")
    frames = []
    for period in period_list:
        rows = per_account(
            con,
            period,
            computed,
            ltv=ltv,
            priority_accounts=priority,
            meeting_days=meeting_days,
            cadence=cadence,
            lapse_days=lapse_days,
        )
        rows = rows.merge(dims, on="account_id", how="left")
        for cut in cuts:
            if cut == "all":
                key = pd.Series("all", index=rows.index)
            else:
                key = rows[cut].astype("object").where(rows[cut].notna(), NO_VALUE).astype(str)
            sums = (
                rows.assign(cut_value=key)
                .groupby(["cut_value", "kpi"], sort=True)[["num", "den"]]
                .sum()
                .reset_index()
            )
            sums.insert(0, "cut", cut)
            sums.insert(0, "period", period.label)
            frames.append(
                _complete(sums, chosen, period.label, cut, cut_all=cut == "all", blank=set(blank))
            )
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    return out.loc[:, list(COLUMNS)]


def _complete(
    sums: pd.DataFrame,
    kpis: Sequence[KPI],
    label: str,
    cut: str,
    *,
    cut_all: bool,
    blank: set[str] = frozenset(),  # type: ignore[assignment]
) -> pd.DataFrame:
    """Values from the sums; every KPI present for the company cut even without data, the
    ``blank`` ones (no data can give them a value) without a value."""
    if cut_all:
        present = set(sums["kpi"])
        missing = [
            {"period": label, "cut": cut, "cut_value": "all", "kpi": k.key, "num": 0.0, "den": 0.0}
            for k in kpis
            if k.key not in present
        ]
        if missing:
            sums = pd.concat([sums, pd.DataFrame(missing)], ignore_index=True)
    order = {k.key: i for i, k in enumerate(kpis)}
    by_key = {k.key: k for k in kpis}
    values, dens = [], []
    for kpi_key, num, den in zip(sums["kpi"], sums["num"], sums["den"], strict=True):
        kpi = by_key[kpi_key]
        if kpi_key in blank:
            values.append(np.nan)
            dens.append(np.nan)
        elif kpi.kind == "count":
            values.append(num * kpi.scale)
            dens.append(np.nan)
        else:
            values.append(kpi.scale * num / den if den else np.nan)
            dens.append(den)
    sums = sums.assign(value=values, numerator=sums["num"], denominator=dens)
    sums = sums.assign(_order=sums["kpi"].map(order))
    return sums.sort_values(["cut_value", "_order"], kind="stable").drop(columns="_order")
