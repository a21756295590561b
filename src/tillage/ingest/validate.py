"""Validation of canonical rows with pandera schemas derived from the store's tables.

One schema per table is built from the SQLAlchemy model (required columns, text lengths) plus
the rules below; pandera runs every check lazily and its failure cases become
:class:`~tillage.errors.Problem` s located in the source file (file, spreadsheet row, source
column, value). Errors block an import; warnings are reported and the import goes on.

Rules besides the model's types: plausible values (:mod:`tillage.ingest.plausible`: finite,
within what the column can store, no outliers beyond 1,000× the data's own 99.9th percentile,
no NUL or control characters); natural keys unique within the import; amounts and quantities
non-negative except on rows recognised as credit notes or cancellations; known ranges
(probability 0–1, NPS 0–10, severity 1–4, satisfaction 1–5); event dates not after ``as_of``;
references resolvable to a row in the import or already in the store; ISO 4217 currencies, one
per account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from babel.numbers import list_currencies
from sqlalchemy import Column, String

from tillage.errors import Problem
from tillage.ingest import plausible
from tillage.ingest.transform import (
    MAX_PROBLEMS_PER_CHECK,
    TableFrame,
    Translate,
    column_kind,
    referenced_table,
)
from tillage.store.schema import Base

if TYPE_CHECKING:  # imported where validation runs (0.2 s): not for every command's start
    import pandera.pandas as pa

NON_NEGATIVE = {
    "orders": ("amount", "quantity"),
    "contracts": ("recurring_amount", "term_months"),
    "opportunities": ("amount",),
    "products": ("list_price",),
    "reps": ("capacity_hours", "hourly_cost"),
    "accounts": ("employees", "acquisition_cost"),
    "activities": ("duration_minutes",),
}
RANGES = {
    ("opportunities", "probability"): (0.0, 1.0),
    ("nps_responses", "score"): (0, 10),
    ("tickets", "severity"): (1, 4),
    ("tickets", "satisfaction"): (1, 5),
}
# Dates of things that have happened: after as_of is an error (or a warning where the future is
# plausible, e.g. a meeting already in the calendar).
FUTURE_ERROR = {
    ("orders", "order_date"),
    ("opportunities", "created_date"),
    ("tickets", "opened_at"),
    ("nps_responses", "responded_on"),
    ("success_stories", "published_on"),
}
# A contract's start_date may lie ahead: renewals are signed before the term they open.
FUTURE_WARNING = {
    ("activities", "occurred_at"),
    ("tickets", "closed_at"),
    ("accounts", "customer_since"),
    ("reps", "hired_on"),
}


@dataclass
class Combined:
    """All frames of one table in this import, concatenated, with where each row came from."""

    table: str
    frame: pd.DataFrame
    part: pd.Series  # index into ``parts``
    parts: list[TableFrame]
    credit: pd.Series

    @classmethod
    def of(cls, table: str, parts: list[TableFrame]) -> Combined:
        frames = [p.frame for p in parts]
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        frame = frame.reset_index(drop=True)
        part = pd.Series(
            [i for i, p in enumerate(parts) for _ in range(len(p.frame))], dtype="int64"
        )
        credit = pd.concat([p.credit for p in parts], ignore_index=True).astype(bool)
        return cls(table, frame, part, parts, credit)

    def locate(self, index: int) -> tuple[str, int | None]:
        number = int(self.part.iloc[index])
        part = self.parts[number]
        position = index - sum(len(p.frame) for p in self.parts[:number])
        return part.file, int(part.rows.iloc[position])

    def source_column(self, index: int | None, column: str | None) -> str | None:
        if column is None:
            return None
        part = self.parts[int(self.part.iloc[index])] if index is not None else self.parts[0]
        return part.sources.get(column, column)


def _schemas(
    combined: Combined,
    *,
    as_of: dt.date,
    known: Mapping[str, set[str]],
    stored_currencies: Mapping[str, set[str]],
    _: Translate,
    outlier_factor: float = plausible.DEFAULT_OUTLIER_FACTOR,
) -> tuple[pa.DataFrameSchema, pa.DataFrameSchema]:
    import pandera.pandas as pa

    table = combined.table
    frame = combined.frame
    sa_table = Base.metadata.tables[table]
    credit = combined.credit
    end_of_day = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    errors: dict[str, pa.Column] = {}
    warnings: dict[str, pa.Column] = {}
    for name in frame.columns:
        col = sa_table.columns[name]
        kind = column_kind(table, name) if name != "key" else "text"
        checks: list[pa.Check] = []
        warn_checks: list[pa.Check] = []
        if isinstance(col.type, String) and col.type.length:
            checks.append(
                pa.Check.str_length(
                    max_value=col.type.length,
                    error=_("longer than {n} characters").format(n=col.type.length),
                )
            )
        checks.extend(_plausibility(col, kind, frame[name], outlier_factor, _))
        if name in NON_NEGATIVE.get(table, ()):
            checks.append(
                pa.Check(
                    lambda s: s.isna() | (s >= 0) | credit.reindex(s.index, fill_value=False),
                    error=_("negative, and the row is not a credit note or cancellation"),
                )
            )
        if (table, name) in RANGES:
            low, high = RANGES[(table, name)]
            checks.append(
                pa.Check(
                    lambda s, lo=low, hi=high: s.isna() | s.between(lo, hi),
                    error=_("outside the range {low}–{high}").format(low=low, high=high),
                )
            )
        if (table, name) in FUTURE_ERROR | FUTURE_WARNING:
            future = pa.Check(
                lambda s: s.isna() | (s < end_of_day),
                error=_("in the future (after {as_of})").format(as_of=as_of.isoformat()),
            )
            (checks if (table, name) in FUTURE_ERROR else warn_checks).append(future)
        if kind == "ref":
            target = referenced_table(table, name)
            keys = known.get(target, set())
            check = pa.Check(
                lambda s, k=keys: s.isna() | s.isin(k),
                error=_("refers to an unknown {table} row").format(table=target),
            )
            if all(p.on_unknown.get(name) == "warn" for p in combined.parts):
                warn_checks.append(check)
            else:
                checks.append(check)
        if name == "currency":
            checks.append(
                pa.Check.isin(list_currencies(), error=_("not an ISO 4217 currency code"))
            )
        required = name == "key" or (not col.nullable and col.server_default is None)
        errors[name] = pa.Column(
            nullable=not required, unique=name == "key", checks=checks, required=False
        )
        warnings[name] = pa.Column(nullable=True, checks=warn_checks, required=False)
    frame_checks = []
    if {"currency", "account_id"} <= set(frame.columns):
        frame_checks.append(
            pa.Check(
                lambda df: df.groupby("account_id")["currency"].transform("nunique").fillna(1) <= 1,
                error=_("the account's rows are in more than one currency"),
            )
        )
    warning_checks = []
    if stored_currencies and {"currency", "account_id"} <= set(frame.columns):
        accounts = list(stored_currencies)
        pairs = [f"{a}\x00{c}" for a, codes in stored_currencies.items() for c in codes]

        def same_as_stored(df: pd.DataFrame) -> pd.Series:
            account = df["account_id"].astype("string")
            pair = account + "\x00" + df["currency"].astype("string")
            return (
                ~account.isin(accounts).fillna(False)
                | pair.isin(pairs).fillna(False)
                | df["currency"].isna()
            ).astype(bool)

        warning_checks.append(
            pa.Check(
                same_as_stored,
                error=_("the store has this account's rows in another currency"),
            )
        )
    return (
        pa.DataFrameSchema(errors, checks=frame_checks),
        pa.DataFrameSchema(warnings, checks=warning_checks),
    )


def _plausibility(
    col: Column, kind: str, values: pd.Series, outlier_factor: float, _: Translate
) -> list[pa.Check]:
    """Checks of :mod:`tillage.ingest.plausible` for one column."""
    import pandera.pandas as pa

    if kind in ("text", "ref"):
        return [
            pa.Check(
                plausible.no_control_characters,
                error=_("contains a NUL or control character"),
            )
        ]
    if kind not in ("number", "int"):
        return []
    checks = [pa.Check(plausible.finite, error=_("not a finite number"))]
    limit = plausible.capacity(col)
    if limit is not None:
        checks.append(
            pa.Check(
                lambda s, lim=limit: plausible.within(s, lim),
                error=_("too large to store (the limit is {limit})").format(limit=f"{limit:,.0f}"),
            )
        )
    if outlier_factor > 0 and plausible.is_money(col):
        reference = plausible.outlier_reference(values)
        if reference is not None:
            bound = outlier_factor * reference
            checks.append(
                pa.Check(
                    lambda s, b=bound: plausible.within(s, b),
                    error=_(
                        "implausible: more than {factor}× the column's 99.9th percentile "
                        "({reference})"
                    ).format(factor=f"{outlier_factor:,.0f}", reference=f"{reference:,.2f}"),
                )
            )
    return checks


def _to_problems(
    combined: Combined, error: pa.errors.SchemaErrors, severity: str, _: Translate
) -> list[Problem]:
    cases = error.failure_cases
    # a frame-level check reports every cell of a failing row; the currency is the one at fault
    frame_level = cases["schema_context"] == "DataFrameSchema"
    cases = cases[~frame_level | (cases["column"] == "currency")]
    problems: list[Problem] = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        builtin = {
            "field_uniqueness": _("the natural key appears more than once"),
            "not_nullable": _("required value is empty"),
        }
        reason = builtin.get(str(check), str(check))
        column_name = None if pd.isna(column) else str(column)
        shown = group.iloc[:MAX_PROBLEMS_PER_CHECK]
        for index, value in zip(shown["index"], shown["failure_case"], strict=True):
            if pd.isna(index):
                problems.append(
                    Problem(combined.parts[0].file, None, column_name, None, reason, severity)
                )
                continue
            file, row = combined.locate(int(index))
            source = combined.source_column(int(index), column_name)
            value = None if pd.api.types.is_scalar(value) and pd.isna(value) else value
            if (
                isinstance(value, str)
                and not plausible.no_control_characters(pd.Series([value])).iloc[0]
            ):
                value = value.encode("unicode_escape").decode("ascii")  # show, not send, NUL
            problems.append(Problem(file, row, source, value, reason, severity))
        more = len(group) - len(shown)
        if more > 0:
            problems.append(
                Problem(
                    combined.parts[0].file,
                    None,
                    column_name,
                    None,
                    _("{count} more rows: {reason}").format(count=f"{more:,}", reason=reason),
                    severity,
                    more,
                )
            )
    return problems


def validate(
    tables: Mapping[str, list[TableFrame]],
    *,
    as_of: dt.date,
    store_keys: Callable[[str], set[str]],
    company_currency: str,
    translate: Translate,
    store_currencies: Callable[[str], dict[str, set[str]]] | None = None,
    outlier_factor: float = plausible.DEFAULT_OUTLIER_FACTOR,
) -> list[Problem]:
    """Check every table of an import; returns the problems found (errors and warnings).

    ``store_keys(table)`` gives the natural keys already in the store; ``store_currencies(table)``
    the currencies of the table's stored rows per account key.
    """
    import pandera.pandas as pa

    _ = translate
    known: dict[str, set[str]] = {}

    def keys_of(table: str) -> set[str]:
        if table not in known:
            own: set[str] = set()
            for part in tables.get(table, []):
                own.update(part.frame["key"].dropna().tolist())
            known[table] = own | store_keys(table)
        return known[table]

    problems: list[Problem] = []
    for table, parts in tables.items():
        parts = [p for p in parts if len(p.frame)]
        if not parts:
            continue
        combined = Combined.of(table, parts)
        for name in combined.frame.columns:
            if column_kind(table, name) == "ref" and name != "key":
                keys_of(referenced_table(table, name))
        sa_table = Base.metadata.tables[table]
        for col in sa_table.columns:
            if col.name in ("id",) or col.name in combined.frame:
                continue
            if not col.nullable and col.server_default is None:
                problems.append(
                    Problem(
                        parts[0].file,
                        None,
                        col.name,
                        None,
                        _("the mapping gives no source for this required column"),
                    )
                )
        stored: dict[str, set[str]] = {}
        if store_currencies is not None and {"currency", "account_id"} <= set(combined.frame):
            stored = store_currencies(table)
        errors, warnings = _schemas(
            combined,
            as_of=as_of,
            known=known,
            stored_currencies=stored,
            _=_,
            outlier_factor=outlier_factor,
        )
        for schema, severity in ((errors, "error"), (warnings, "warning")):
            try:
                schema.validate(combined.frame, lazy=True)
            except pa.errors.SchemaErrors as exc:
                problems.extend(_to_problems(combined, exc, severity, _))
    return problems
