"""The KPI definition: one dataclass, one implementation per KPI, documented in ``docs/kpi.md``.

Every KPI is computed the same way: its implementation returns an ibis table with one row per
account and the account's share of the **numerator** (``num``) and **denominator** (``den``).
:func:`tillage.kpi.compute.compute_kpis` sums both over each cut (the whole company, a rep, a
team, a segment) and divides: ``value = scale × Σ num / Σ den``. A *count* KPI has no
denominator (``value = Σ num``). Because cuts only sum account rows, the company figure is the
sum of its reps' numerators over the sum of their denominators, never an average of ratios.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import ibis
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features.contracts import contract_features
from tillage.features.engine import execute_arrow
from tillage.kpi.period import Period
from tillage.kpi.units import Unit

Direction = Literal["higher", "lower"]
Kind = Literal["ratio", "count"]

#: Default look-back of the regular-meeting rate, in days before the period's last day.
MEETING_DAYS = 90
#: Default lapse window of the order KPIs (``kpi.lapse_days`` of the strategy file), in days.
LAPSE_DAYS = 180


@dataclass(frozen=True)
class KPI:
    """A key performance indicator with its formula written out.

    ``implementation(ctx)`` returns one row per account: ``account_id``, ``num``, ``den``
    (float64). ``scale`` multiplies the ratio (100 for percentages). ``needs`` names the
    canonical tables without whose rows the KPI means nothing (``contracts`` for the
    subscription KPIs, ``orders`` for the order KPIs): on a store where one is empty the KPI is
    blank, with the reason :func:`tillage.kpi.compute.blank_reasons` gives. ``needs_any``: tables
    of which at least one must have rows (the contact KPIs watch contract holders or, without
    contracts, buyers).
    """

    key: str
    name_ja: str
    name_en: str
    family: Literal["outcome", "behaviour"]
    unit: Unit
    direction: Direction
    definition: str
    implementation: Callable[[KpiContext], Table] = field(repr=False, compare=False)
    kind: Kind = "ratio"
    scale: float = 1.0
    needs: tuple[str, ...] = ()
    needs_any: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        """The KPI's name in ``lang`` (``ja`` or ``en``)."""
        return self.name_ja if lang == "ja" else self.name_en


@dataclass
class KpiContext:
    """What every implementation reads: the backend, the period and optional inputs.

    ``ltv`` is an ibis table ``(account_id, ltv)`` (e.g. a snapshot's scores) or ``None``;
    ``priority_accounts`` an ibis table ``(account_id)`` of the accounts the regular-meeting rate
    watches (default: every active account); ``meeting_days`` that rate's look-back;
    ``cadence`` an ibis table ``(account_id, activity, every_days, since)`` of the accounts with
    a contact cadence (:mod:`tillage.kpi.cadence`) or ``None``; ``lapse_days`` the order KPIs'
    lapse window (:mod:`tillage.kpi.orders`).
    """

    con: BaseBackend
    period: Period
    ltv: Table | None = None
    priority_accounts: Table | None = None
    meeting_days: int = MEETING_DAYS
    cadence: Table | None = None
    lapse_days: int = LAPSE_DAYS
    _filled: dict[str, bool] = field(default_factory=dict, repr=False)

    def table(self, name: str) -> Table:
        """A canonical table of the store."""
        return self.con.table(name)

    def has_rows(self, name: str) -> bool:
        """Whether the canonical table ``name`` has at least one row (asked once per context).

        The only question about the store's data an implementation may ask while it builds
        its expression: :mod:`tillage.kpi.compiled` reuses a compiled KPI query on another
        store only where the answers are the same (:attr:`asked`)."""
        if name not in self._filled:
            self._filled[name] = int(execute_arrow(self.con, self.table(name).limit(1).count())) > 0
        return self._filled[name]

    @property
    def asked(self) -> tuple[tuple[str, bool], ...]:
        """The answers :meth:`has_rows` gave so far, by table name."""
        return tuple(sorted(self._filled.items()))

    def _mrr_on(self, day: dt.date, name: str) -> Table:
        feats = contract_features(self.con, day)
        return feats.select("account_id", **{name: feats.mrr})

    @cached_property
    def mrr_first(self) -> Table:
        """``(account_id, mrr_first)``: MRR of the contracts active on the period's first day."""
        return self._mrr_on(self.period.first, "mrr_first")

    @cached_property
    def mrr_close(self) -> Table:
        """``(account_id, mrr_close)``: MRR at the close of the period (active the next day)."""
        return self._mrr_on(self.period.close, "mrr_close")

    @cached_property
    def mrr_last(self) -> Table:
        """``(account_id, mrr_last)``: MRR of the contracts active on the period's last day."""
        return self._mrr_on(self.period.last, "mrr_last")

    @cached_property
    def cohort(self) -> Table:
        """The start cohort: accounts with MRR on the first day, with their MRR at the close."""
        start = self.mrr_first.filter(self.mrr_first.mrr_first > 0)
        joined = start.left_join(self.mrr_close, "account_id").drop("account_id_right")
        return joined.mutate(mrr_close=joined.mrr_close.fill_null(0.0))

    @cached_property
    def active(self) -> Table:
        """``(account_id, mrr_last)``: accounts with an active contract on the last day."""
        return self.mrr_last.filter(self.mrr_last.mrr_last > 0)


def rows(table: Table, num: ibis.Value, den: ibis.Value | float) -> Table:
    """``table`` reduced to ``(account_id, num, den)`` as float64."""
    den_value = ibis.literal(float(den)) if isinstance(den, int | float) else den
    return table.select("account_id", num=num.cast("float64"), den=den_value.cast("float64"))
