"""Currencies: every amount of an import converted into the reporting currency, the rate kept.

Conversion happens at import, before anything is stored, so nothing downstream can ever sum
amounts of different currencies: the store holds every amount in the reporting currency
(``Settings.currency``), and beside it the currency the source gave (``source_currency``) and
the rate applied (``fx_rate``). For a row in currency :math:`c` on date :math:`d`

.. math:: \\text{amount}_{\\text{reporting}} = \\text{amount}_c \\times r_c(d)

where :math:`r_c(d)` is the rate (reporting-currency units per one unit of :math:`c`) of the
latest dated rate of :math:`c` that is valid on :math:`d` (``valid_from`` on or before it), else
the undated rate of :math:`c`. A row whose currency has no rate refuses the import; the problem
names the currencies and the rows. Rows that give no currency are in the reporting currency.

Rates come from a rates file: a CSV with the columns ``currency``, ``rate`` and optionally
``valid_from`` (``YYYY-MM-DD``), or a TOML file with ``[[exchange_rates]]`` entries of the same
keys (the strategy file's section, so a strategy file is a rates file too).
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from babel.numbers import list_currencies

from tillage.errors import ConfigurationError, Problem
from tillage.ingest.transform import MAX_ROWS_NAMED, TableFrame

Translate = Callable[[str], str]

AMOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("acquisition_cost",),
    "contracts": ("recurring_amount",),
    "orders": ("amount", "margin"),
    "opportunities": ("amount",),
}
"""The amount columns of each table that carries a currency."""

DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "contracts": ("start_date",),
    "orders": ("order_date",),
    "opportunities": ("close_date", "created_date"),
}
"""The date a row's amount is converted at (the first one given); other rows use ``as_of``."""


@dataclass(frozen=True)
class Rate:
    """``rate`` units of the reporting currency buy one unit of ``currency`` from ``valid_from``
    on (until the next dated rate of the currency); an undated rate applies where no dated one
    does."""

    currency: str
    rate: float
    valid_from: dt.date | None = None


def _rate(entry: Mapping[str, object], where: str) -> Rate:
    code = str(entry.get("currency") or "").strip().upper()
    if code not in list_currencies():
        raise ConfigurationError(f"{where}: currency {code!r} is not an ISO 4217 code")
    try:
        rate = float(str(entry.get("rate")).replace(",", ""))
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise ConfigurationError(f"{where}: rate {entry.get('rate')!r} is not a positive number")
    raw = entry.get("valid_from")
    valid_from: dt.date | None = None
    if isinstance(raw, dt.date):
        valid_from = raw
    elif raw is not None and str(raw).strip() not in ("", "nan"):
        try:
            valid_from = dt.date.fromisoformat(str(raw).strip())
        except ValueError as exc:
            raise ConfigurationError(
                f"{where}: valid_from {raw!r} is not a date like 2024-04-01"
            ) from exc
    return Rate(code, rate, valid_from)


def parse_rates(entries: Iterable[Mapping[str, object]], source: str = "rates") -> list[Rate]:
    """Rates from mappings with ``currency``, ``rate`` and optionally ``valid_from``."""
    return [_rate(entry, f"{source}, entry {n}") for n, entry in enumerate(entries, start=1)]


def load_rates(path: Path) -> list[Rate]:
    """Rates from a CSV (``currency,rate[,valid_from]``) or a TOML file (``[[exchange_rates]]``)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"{path.name}: no such rates file")
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path.name}: not valid TOML: {exc}") from exc
        entries = data.get("exchange_rates", [])
        if not isinstance(entries, list):
            raise ConfigurationError(f"{path.name}: exchange_rates must be a list of tables")
        return parse_rates(entries, path.name)
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    missing = {"currency", "rate"} - set(frame.columns)
    if missing:
        raise ConfigurationError(
            f"{path.name}: needs the columns currency and rate (missing: {', '.join(missing)})"
        )
    return [
        _rate(row, f"{path.name}, row {n}")
        for n, row in enumerate(frame.to_dict("records"), start=2)
    ]


class Rates:
    """The rates into one reporting currency, looked up by currency and date."""

    def __init__(self, reporting: str, rates: Sequence[Rate] = ()) -> None:
        self.reporting = reporting
        self.undated = {r.currency: r.rate for r in rates if r.valid_from is None}
        dated = [r for r in rates if r.valid_from is not None]
        self.dated = pd.DataFrame(
            {
                "currency": pd.Series([r.currency for r in dated], dtype="string"),
                "valid_from": pd.to_datetime(pd.Series([r.valid_from for r in dated])).astype(
                    "datetime64[ns]"
                ),
                "rate": [r.rate for r in dated],
            }
        ).sort_values("valid_from")

    def lookup(self, currency: pd.Series, dates: pd.Series) -> pd.Series:
        """The rate of each row (NaN where the currency has none on that date); 1 for the
        reporting currency."""
        out = currency.map(self.undated).astype("float64")
        if len(self.dated):
            left = pd.DataFrame(
                {
                    "currency": currency.astype("string").to_numpy(),
                    "date": pd.to_datetime(dates).astype("datetime64[ns]").to_numpy(),
                    "n": range(len(currency)),
                }
            )
            left["currency"] = left["currency"].astype("string")
            usable = left.dropna(subset=["currency", "date"]).sort_values("date")
            found = pd.merge_asof(
                usable,
                self.dated,
                left_on="date",
                right_on="valid_from",
                by="currency",
                direction="backward",
            ).set_index("n")["rate"]
            dated = pd.Series(found.reindex(range(len(currency))).to_numpy(), index=currency.index)
            out = dated.where(dated.notna(), out)
        return out.where((currency != self.reporting).fillna(True).astype(bool), 1.0)


def _row_dates(table: str, frame: pd.DataFrame, as_of: dt.date) -> pd.Series:
    dates = pd.Series(pd.Timestamp(as_of), index=frame.index)
    for column in reversed(DATE_COLUMNS.get(table, ())):
        if column in frame:
            given = pd.to_datetime(frame[column])
            dates = given.where(given.notna(), dates)
    return dates


def _rows_named(rows: pd.Series) -> str:
    shown = ", ".join(str(r) for r in rows.iloc[:MAX_ROWS_NAMED])
    return shown + (" …" if len(rows) > MAX_ROWS_NAMED else "")


def convert_tables(
    tables: Mapping[str, list[TableFrame]],
    rates: Rates,
    *,
    as_of: dt.date,
    translate: Translate,
) -> list[Problem]:
    """Convert the amounts of every part in place into ``rates.reporting``.

    Rows with a currency get ``source_currency`` (as given), ``fx_rate`` and ``currency`` (the
    reporting one); their amounts are multiplied by the rate. Returns the errors: an unknown
    currency code, or a currency without a rate (one problem per file and currency, naming the
    rows); on an error nothing is converted in that part, and the import is refused.
    """
    _ = translate
    problems: list[Problem] = []
    known = set(list_currencies())
    for table, columns in AMOUNT_COLUMNS.items():
        for part in tables.get(table, []):
            frame = part.frame
            if "currency" not in frame or not len(frame):
                continue
            code = frame["currency"].astype("string").str.strip().str.upper()
            given = code.notna() & (code != "")
            column = part.sources.get("currency", "currency")
            found: list[Problem] = []

            def located(rows: pd.Series, value: str, reason: str) -> Problem:
                row = int(rows.iloc[0]) if len(rows) == 1 else None
                # one line for these rows: it counts them (Problem.rows)
                return Problem(part.file, row, column, value, reason, "error", len(rows))  # noqa: B023

            for value in sorted(set(code[given]) - known):
                rows = part.rows[given & (code == value)]
                reason = _("not an ISO 4217 currency code (rows {rows})")
                found.append(located(rows, value, reason.format(rows=_rows_named(rows))))
            rate = rates.lookup(code.where(given), _row_dates(table, frame, as_of))
            amounts = [c for c in columns if c in frame]
            priced = (
                frame[amounts].notna().any(axis=1)
                if amounts
                else pd.Series(False, index=frame.index)
            )
            lacking = given & priced & code.isin(known) & rate.isna()
            for value in sorted(set(code[lacking])):
                rows = part.rows[lacking & (code == value)]
                reason = _(
                    "{count} rows in {currency} and no rate into {reporting} for their "
                    "dates (rows {rows}); add the rate to the rates file (--rates) or to "
                    "the strategy file's exchange_rates"
                )
                found.append(
                    located(
                        rows,
                        value,
                        reason.format(
                            count=f"{len(rows):,}",
                            currency=value,
                            reporting=rates.reporting,
                            rows=_rows_named(rows),
                        ),
                    )
                )
            problems.extend(found)
            if found:
                continue
            converted = frame.copy()
            for amount in columns:
                if amount in converted:
                    values = pd.to_numeric(converted[amount])
                    converted[amount] = values.where(~given, values * rate)
            converted["source_currency"] = code.where(given)
            converted["fx_rate"] = rate.where(given)
            converted["currency"] = code.where(~given, rates.reporting).where(given)
            part.frame = converted
    if problems:
        currencies = sorted({str(p.value) for p in problems})
        problems.insert(
            0,
            Problem(
                problems[0].file,
                None,
                problems[0].column,
                ", ".join(currencies),
                _(
                    "amounts in {currencies} cannot be converted into {reporting}: "
                    "nothing is summed across currencies unconverted"
                ).format(currencies=", ".join(currencies), reporting=rates.reporting),
                rows=0,  # a headline over the lines below, which count the rows
            ),
        )
    return problems
