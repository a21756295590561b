"""Apply a table mapping to a source frame: canonical columns, parsed values, located problems.

The result keeps, for every canonical row, the spreadsheet row it came from and the source column
behind every canonical column, so later checks can report problems the way the user sees the
file. Foreign-key columns still hold the referenced rows' natural keys here; the store resolves
them to ids (:mod:`tillage.ingest.upsert`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tillage.errors import Problem
from tillage.ingest.mapping import ColumnSpec, Mapping, RowFilter, TableMapping
from tillage.ingest.rows import country_code, fill_down, filter_mask
from tillage.ingest.values import (
    as_text,
    fold,
    fold_series,
    parse_bool,
    parse_datetime,
    parse_number,
)
from tillage.store.schema import Base

Translate = Callable[[str], str]
MAX_ROWS_NAMED = 5  # rows listed in one summarising problem
MAX_PROBLEMS_PER_CHECK = 1000  # problems of one kind listed one by one; the rest counted
MAX_VALUES_NAMED = 8  # distinct values listed in one summarising problem
AS_OF = "{as_of}"  # a column default meaning the import's business date (the export date)
_EAST_ASIAN = r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]"  # kana, CJK, Hangul


@dataclass
class TableFrame:
    """Canonical rows of one table from one source file, with where each came from."""

    table: str
    file: str
    frame: pd.DataFrame
    rows: pd.Series
    sources: dict[str, str]
    credit: pd.Series
    on_unknown: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    rows_skipped: int = 0
    duplicates: str = "error"


def column_kind(table: str, column: str) -> str:
    """'ref', 'text', 'int', 'number', 'date', 'datetime' or 'bool' for a canonical column."""
    col = Base.metadata.tables[table].columns[column]
    if col.foreign_keys:
        return "ref"
    name = col.type.__class__.__name__.upper()
    return {
        "INTEGER": "int",
        "FLOAT": "number",
        "NUMERIC": "number",
        "DATE": "date",
        "DATETIME": "datetime",
        "BOOLEAN": "bool",
    }.get(name, "text")


def referenced_table(table: str, column: str) -> str:
    """The table a foreign-key column points at."""
    (fk,) = Base.metadata.tables[table].columns[column].foreign_keys
    return fk.column.table.name


def _rows_named(rows: pd.Series) -> str:
    shown = ", ".join(str(r) for r in rows.iloc[:MAX_ROWS_NAMED])
    return shown + (" …" if len(rows) > MAX_ROWS_NAMED else "")


class TableBuilder:
    """Turns one source frame into a :class:`TableFrame`, collecting problems."""

    def __init__(
        self,
        mapping: Mapping,
        table: TableMapping,
        *,
        timezone: str,
        translate: Translate,
        problems: list[Problem],
        as_of: dt.date | None = None,
    ) -> None:
        self.as_of = as_of
        self.mapping = mapping
        self.table = table
        self.timezone = timezone
        self._ = translate
        self.problems = problems

    def _problem(
        self,
        file: str,
        row: int | None,
        column: str | None,
        value: object,
        reason: str,
        severity: str = "error",
        rows: int = 1,
    ) -> None:
        self.problems.append(Problem(file, row, column, value, reason, severity, rows))

    def _report_bad(
        self,
        file: str,
        source: pd.DataFrame,
        rows: pd.Series,
        bad: pd.Series,
        column: str,
        raw: pd.Series,
        reason: str,
    ) -> None:
        found = bad[bad].index
        for index in found[:MAX_PROBLEMS_PER_CHECK]:
            value = raw.loc[index]
            self._problem(file, int(rows.loc[index]), column, value, reason)
        more = len(found) - MAX_PROBLEMS_PER_CHECK
        if more > 0:
            self._problem(
                file,
                None,
                column,
                None,
                self._("{count} more rows: {reason}").format(count=f"{more:,}", reason=reason),
                rows=more,
            )

    def build(self, file: str, source: pd.DataFrame) -> TableFrame:
        _ = self._
        tm = self.table
        rows_read = len(source)
        # spreadsheet rows from the reader's index (Excel keeps it across dropped blank rows)
        positions = source.index.to_numpy()
        source = source.reset_index(drop=True)
        rows = pd.Series(positions + 2, index=source.index)
        source = fill_down(source, tm.fill_down)
        source, rows, filtered = self._filter(file, source, rows)
        missing_columns = sorted(
            {c for c in [*tm.key, *tm.skip_if_empty] if c not in source.columns}
        )
        for name in missing_columns:
            self._problem(file, None, name, None, _("required column is missing from the file"))
        if missing_columns:
            empty = pd.DataFrame({"key": pd.Series(dtype="string")})
            return TableFrame(tm.table, file, empty, rows.iloc[:0], {}, rows.iloc[:0] > 0)
        skipped = filtered
        if tm.skip_if_empty:
            empty_mask = pd.concat(
                [as_text(source[c]).isna() for c in tm.skip_if_empty], axis=1
            ).any(axis=1)
            empty_count = int(empty_mask.sum())
            skipped += empty_count
            if empty_count:
                self._problem(
                    file,
                    None,
                    ", ".join(tm.skip_if_empty),
                    None,
                    _("{count} rows skipped because this is empty (rows {rows})").format(
                        count=f"{empty_count:,}", rows=_rows_named(rows[empty_mask])
                    ),
                    "warning",
                    rows=empty_count,
                )
                source = source[~empty_mask]
                rows = rows[~empty_mask]
        keys = [as_text(source[c]) for c in tm.key]
        key = keys[0]
        for part in keys[1:]:
            key = key + ":" + part
        blank_key = key.isna()
        self._report_bad(
            file, source, rows, blank_key, ", ".join(tm.key), key, _("the natural key is empty")
        )
        out = pd.DataFrame({"key": key}, index=source.index)
        sources: dict[str, str] = {"key": ", ".join(tm.key)}
        on_unknown: dict[str, str] = {}
        for name, spec in tm.specs().items():
            values = self._column(file, source, rows, name, spec)
            if values is None:
                continue
            out[name] = values
            sources[name] = spec.column or ", ".join(spec.columns or []) or "(constant)"
            if column_kind(tm.table, name) == "ref":
                on_unknown[name] = spec.on_unknown
        has_currency = "currency" in Base.metadata.tables[tm.table].columns
        if has_currency and "currency" not in out and self.mapping.currency:
            out["currency"] = self.mapping.currency
        credit = pd.Series(False, index=out.index)
        if tm.credit is not None and tm.credit.column in source.columns:
            text = as_text(source[tm.credit.column])
            if tm.credit.startswith is not None:
                credit = text.str.startswith(tm.credit.startswith).fillna(False).astype(bool)
            if tm.credit.equals is not None:
                credit = credit | text.isin(tm.credit.equals).fillna(False).astype(bool)
        out = out[~blank_key]
        rows = rows[~blank_key]
        credit = credit[~blank_key]
        out, rows, credit = self._deduplicate(out, rows, credit)
        return TableFrame(
            tm.table,
            file,
            out,
            rows,
            sources,
            credit,
            on_unknown,
            rows_read,
            skipped,
            tm.duplicates,
        )

    def _filter(
        self, file: str, source: pd.DataFrame, rows: pd.Series
    ) -> tuple[pd.DataFrame, pd.Series, int]:
        """Drop the rows ``skip_if`` matches and those ``only_if`` does not; count them."""
        _ = self._
        tm = self.table
        drop = pd.Series(False, index=source.index)
        tests: list[tuple[RowFilter, bool]] = [(f, True) for f in tm.skip_if]
        tests += [(f, False) for f in tm.only_if]
        for condition, skip in tests:
            mask = filter_mask(source, condition)
            if mask is None:
                if not skip:  # only_if on a missing column: nothing can be told apart
                    self._problem(
                        file,
                        None,
                        condition.column,
                        None,
                        _("required column is missing from the file"),
                    )
                    drop[:] = True
                continue
            hit = (mask if skip else ~mask) & ~drop
            if hit.any():
                values = sorted(as_text(source.loc[hit, condition.column]).fillna("").unique())
                reason = (
                    _("{count} rows skipped by the mapping's skip_if (rows {rows})")
                    if skip
                    else _("{count} rows skipped: not kept by the mapping's only_if (rows {rows})")
                )
                self._problem(
                    file,
                    None,
                    condition.column,
                    ", ".join(v or "(empty)" for v in values[:MAX_VALUES_NAMED]),
                    reason.format(count=f"{int(hit.sum()):,}", rows=_rows_named(rows[hit])),
                    "warning",
                    rows=int(hit.sum()),
                )
            drop |= hit
        return source[~drop], rows[~drop], int(drop.sum())

    def _deduplicate(
        self, out: pd.DataFrame, rows: pd.Series, credit: pd.Series
    ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        mode = self.table.duplicates
        if mode == "error":
            return out, rows, credit
        if mode == "number":
            n = out.groupby("key", sort=False).cumcount()
            suffix = ("#" + (n + 1).astype(str)).where(n > 0, "")
            out = out.assign(key=out["key"] + suffix)
            return out, rows, credit
        keep = out["key"].duplicated(keep="first" if mode == "first" else "last")
        return out[~keep], rows[~keep], credit[~keep]

    def _raw(
        self, file: str, source: pd.DataFrame, spec: ColumnSpec, name: str
    ) -> pd.Series | None:
        if spec.value is not None:
            return pd.Series([spec.value] * len(source), index=source.index, dtype=object)
        wanted = [spec.column] if spec.column is not None else list(spec.columns or [])
        absent = [c for c in wanted if c not in source.columns]
        fallbacks = [c for c in spec.fallbacks() if c in source.columns]
        if fallbacks:
            chain = fallbacks if absent else [spec.column, *fallbacks]
            value = source[chain[0]].astype(object)
            for other in chain[1:]:
                value = value.where(as_text(value).notna(), source[other])
            return value
        if absent and spec.default is not None:  # the mapping says what an absent column means
            return pd.Series([None] * len(source), index=source.index, dtype=object)
        if absent:
            required = self._required(name)
            self._problem(
                file,
                None,
                absent[0],
                None,
                self._("required column is missing from the file")
                if required
                else self._("column not in the file; {column} left empty").format(column=name),
                "error" if required else "warning",
            )
            return None
        if spec.column is not None:
            return source[spec.column]
        parts = [as_text(source[c]).fillna("") for c in wanted]
        if spec.transform == "person_name":  # [given, family]: East Asian names family first
            given, family = parts
            east_asian = (given + family).str.contains(_EAST_ASIAN, regex=True)
            east_asian = east_asian.fillna(False).astype(bool)
            parts = [given.where(~east_asian, family), family.where(~east_asian, given)]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + spec.separator + part
        joined = joined.str.strip(spec.separator + " ")
        return joined.mask(joined == "")

    def _required(self, name: str) -> bool:
        col = Base.metadata.tables[self.table.table].columns[name]
        return not col.nullable and col.server_default is None

    def _translate(self, file: str, label: str, series: pd.Series, spec: ColumnSpec) -> pd.Series:
        """Apply ``map`` (exact, then folded), then ``keywords``; unmatched values take the
        default (with a warning listing them) or stay as they are when there is none."""
        assert spec.map is not None
        exact = series.isin(list(spec.map)).fillna(False).astype(bool)
        loose_map = {fold(k): v for k, v in spec.map.items()}
        folded = fold_series(series)
        loose = folded.isin(list(loose_map)).fillna(False).astype(bool)
        value = series.astype(object).map(spec.map).where(exact, folded.map(loose_map))
        known = exact | loose
        if spec.keywords:
            lowered = series.str.normalize("NFKC").str.casefold()
            for word, meaning in spec.keywords.items():
                hit = ~known & lowered.str.contains(fold(word), regex=False).fillna(False)
                value = value.where(~hit, meaning)
                known = known | hit.astype(bool)
        unmapped = (series.notna() & ~known).astype(bool)
        if spec.default is None:
            return value.where(known, series.astype(object).where(series.notna(), None))
        if spec.warn_unmapped and unmapped.any():
            counts = series[unmapped].value_counts()
            shown = ", ".join(f"{v} ({n})" for v, n in counts.iloc[:MAX_VALUES_NAMED].items())
            self._problem(
                file,
                None,
                label,
                shown + (" …" if len(counts) > MAX_VALUES_NAMED else ""),
                self._(
                    "{count} rows have values the mapping does not list; they are read as {default}"
                ).format(count=f"{int(unmapped.sum()):,}", default=self._value_word(spec.default)),
                "warning",
                rows=int(unmapped.sum()),
            )
        return value.where(known, None)

    def _value_word(self, value: object) -> str:
        """A mapped value as the reader reads it: true / false as yes / no in the report's
        language (not Python's ``True`` / ``False``), anything else as written."""
        if isinstance(value, bool | np.bool_):
            return self._("yes") if value else self._("no")
        return str(value)

    def _where(self, source: pd.DataFrame, spec: ColumnSpec) -> pd.Series | None:
        """Rows ``only_where`` holds for (all rows when it is not given)."""
        if spec.only_where is None:
            return None
        mask = filter_mask(source, spec.only_where)
        return mask if mask is not None else pd.Series(False, index=source.index)

    def _column(
        self, file: str, source: pd.DataFrame, rows: pd.Series, name: str, spec: ColumnSpec
    ) -> pd.Series | None:
        values = self._parsed(file, source, rows, name, spec)
        where = self._where(source, spec)
        if values is None or where is None:
            return values
        return values.where(where)

    def _parsed(
        self, file: str, source: pd.DataFrame, rows: pd.Series, name: str, spec: ColumnSpec
    ) -> pd.Series | None:
        _ = self._
        raw = self._raw(file, source, spec, name)
        if raw is None:
            return None
        label = spec.column or ", ".join(spec.columns or []) or name
        if spec.fallback is not None:
            label = " / ".join([label, *spec.fallbacks()])
        kind = column_kind(self.table.table, name)
        series = raw
        if spec.split is not None or spec.map is not None or spec.transform is not None:
            series = as_text(series)
            if spec.split is not None:
                series = series.str.split(spec.split, regex=False).str[0].str.strip()
            if spec.transform in ("upper", "lower", "strip"):
                series = getattr(series.str, spec.transform)()
            elif spec.transform == "country_code":
                series, unknown = country_code(series, self.mapping.countries)
                for value in pd.unique(raw[unknown].astype("string")):
                    self._problem(
                        file, None, label, value, _("not a known country; left empty"), "warning"
                    )
            if spec.map is not None:
                series = self._translate(file, label, series, spec)
        default = spec.default
        if default == AS_OF and self.as_of is not None:
            default = self.as_of.isoformat()
        if default is not None:
            empty = series.isna() | (series.astype("string").str.strip() == "").fillna(False)
            empty = empty.astype(bool)
            if spec.default == AS_OF and self.as_of is not None:
                where = self._where(source, spec)
                used = empty & (where if where is not None else True)
                if used.any():
                    self._problem(
                        file,
                        None,
                        label,
                        default,
                        _(
                            "{count} rows have no {column}; the export date is used (rows {rows})"
                        ).format(
                            count=f"{int(used.sum()):,}", column=label, rows=_rows_named(rows[used])
                        ),
                        "warning",
                        rows=int(used.sum()),
                    )
            series = series.astype(object).where(~empty, default)
        if kind in ("ref", "text"):
            return as_text(series)
        if kind == "bool":
            values, bad = parse_bool(series)
            self._report_bad(file, source, rows, bad, label, raw, _("not a yes/no value"))
            return values
        if kind in ("date", "datetime"):
            fmt = spec.format or self.mapping.date_format
            values, bad = parse_datetime(
                series, self.timezone, fmt=fmt, source_timezone=self.mapping.source_timezone
            )
            self._report_bad(file, source, rows, bad, label, raw, _("not a date"))
            if spec.add_days:
                values = values + pd.Timedelta(days=spec.add_days)
            return values.dt.normalize() if kind == "date" else values
        values, bad = parse_number(series)
        if spec.times is not None:
            if spec.times not in source.columns:
                self._problem(
                    file, None, spec.times, None, _("required column is missing from the file")
                )
                return None
            factor, bad_factor = parse_number(source[spec.times])
            self._report_bad(
                file, source, rows, bad_factor, spec.times, source[spec.times], _("not a number")
            )
            values = values * factor
        if spec.scale is not None:
            values = values * spec.scale
        self._report_bad(file, source, rows, bad, label, raw, _("not a number"))
        if kind == "int":
            fractional = values.notna() & (values != np.round(values))
            self._report_bad(file, source, rows, fractional, label, raw, _("not a whole number"))
        return values
