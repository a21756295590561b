"""The mapping file: how the columns of source files become rows of canonical tables.

A mapping is TOML, validated by the pydantic models below (every field is documented in
``docs/import.md``); the Salesforce and HubSpot formats are mappings shipped with tillage
(``tillage/ingest/formats/*.toml``), so a writer of those shapes can read them backwards.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tillage.errors import ConfigurationError
from tillage.ingest.values import fold
from tillage.store.schema import CANONICAL_TABLES, Base

Scalar = str | int | float | bool

# Tables whose rows carry a natural key (``usage`` is keyed by account, date and metric instead).
KEYED_TABLES = tuple(t for t in CANONICAL_TABLES if "key" in Base.metadata.tables[t].columns)


class RowFilter(BaseModel):
    """Which rows a condition holds for, by one source column's text.

    Comparisons ignore case, width and surrounding spaces. With several of ``equals``,
    ``startswith`` and ``empty`` the row matches when any holds.
    """

    model_config = ConfigDict(extra="forbid")

    column: str = Field(description="Source column tested.")
    equals: list[str] | None = Field(None, description="Any of these values.")
    startswith: str | None = Field(None, description="Text starting with this.")
    empty: bool | None = Field(None, description="True: the cell is empty; false: it is not.")

    @model_validator(mode="after")
    def _a_test(self) -> RowFilter:
        if self.equals is None and self.startswith is None and self.empty is None:
            raise ValueError("give equals, startswith or empty")
        return self


class ColumnSpec(BaseModel):
    """Where one canonical column's values come from.

    Exactly one of ``column``, ``columns`` or ``value`` is given. For a foreign-key column
    (``account_id``, ``owner_id``, ``product_id`` …) the source value is the referenced row's
    natural key.
    """

    model_config = ConfigDict(extra="forbid")

    column: str | None = Field(None, description="Source column name.")
    columns: list[str] | None = Field(
        None, description="Several source columns joined by `separator` (empty parts dropped)."
    )
    separator: str = Field(":", description="Joins `columns`: ':' for keys, ' ' for names.")
    value: Scalar | None = Field(None, description="A constant for every row.")
    fallback: str | list[str] | None = Field(
        None,
        description="Source column (or columns, tried in order) used where `column` is empty "
        "or not in the file (e.g. a task's completion time, else its due date).",
    )
    format: str | None = Field(None, description="strftime format for dates, e.g. '%d/%m/%Y'.")
    add_days: int | None = Field(
        None,
        description="Shift dates by this many days: 1 turns an export's inclusive last day "
        "(Salesforce's Contract EndDate) into tillage's end date, the first day a contract no "
        "longer runs.",
    )
    times: str | None = Field(None, description="Multiply by this source column (qty × price).")
    scale: float | None = Field(None, description="Multiply by a constant (0.01 for percent).")
    map: dict[str, Scalar | None] | None = Field(
        None,
        description="Translate source values before parsing. A value matches exactly or, failing "
        "that, ignoring case, width, spaces, '_' and '-' ('Closed won' and 'closedwon' match "
        "'Closed Won').",
    )
    keywords: dict[str, Scalar] | None = Field(
        None,
        description="For values `map` does not translate: the first keyword found in the text "
        "(ignoring case) gives the value, e.g. {'電話' = 'call'} for a task subject.",
    )
    warn_unmapped: bool = Field(
        True,
        description="With `map` and `default`: warn, listing them, about values that neither "
        "`map` nor `keywords` translate and that therefore take the default.",
    )
    only_where: RowFilter | None = Field(
        None,
        description="The value is taken only on rows matching this filter and left empty "
        "elsewhere, e.g. a rep's leaving date only where IsActive is false.",
    )
    default: Scalar | None = Field(
        None,
        description="Value for empty or unmapped cells, and for every row when the source "
        "column is not in the file.",
    )
    split: str | None = Field(
        None, description="The cell is a list separated by this; the first item is used."
    )
    transform: Literal["upper", "lower", "strip", "country_code", "person_name"] | None = Field(
        None,
        description="country_code turns country names (English/Japanese) into ISO codes; "
        "person_name joins `columns` = [given name, family name] in the name's own order: "
        "'Jane Smith', but '佐藤 花子' (family name first) for Japanese and Chinese names.",
    )
    on_unknown: Literal["error", "warn"] = Field(
        "error",
        description="For references: an unknown key is an error, or a warning and left empty.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> ColumnSpec:
        given = [x is not None for x in (self.column, self.columns, self.value)]
        if sum(given) != 1:
            raise ValueError("give exactly one of column, columns or value")
        if self.transform == "person_name" and len(self.columns or []) != 2:
            raise ValueError("person_name needs columns = [given name, family name]")
        if self.fallback is not None and self.column is None:
            raise ValueError("fallback needs column")
        return self

    def fallbacks(self) -> list[str]:
        """The fallback columns, in the order they are tried."""
        if self.fallback is None:
            return []
        return [self.fallback] if isinstance(self.fallback, str) else list(self.fallback)


class Join(BaseModel):
    """Bring columns of another file in, e.g. an order header onto its order lines."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="File (glob) to join, relative to the import folder.")
    on: str = Field(description="Column of this table's file holding the other file's key.")
    key: str = Field(description="Key column in the joined file.")
    prefix: str = Field(description="Prefix for the joined columns, e.g. 'Order.'.")


class Credit(BaseModel):
    """Which rows are credit notes or cancellations: their amounts may be negative."""

    model_config = ConfigDict(extra="forbid")

    column: str
    startswith: str | None = None
    equals: list[str] | None = None


class TableMapping(BaseModel):
    """One source file (or sheet) mapped onto one canonical table."""

    model_config = ConfigDict(extra="forbid")

    table: str = Field(description="Canonical table, e.g. 'accounts' or 'orders'.")
    file: str | None = Field(
        None, description="File name or glob inside the import folder; omit for a single file."
    )
    sheet: str | None = Field(None, description="Excel sheet name; default every sheet.")
    optional: bool = Field(False, description="A missing file is not an error.")
    key: list[str] = Field(description="Source columns forming the natural key (joined ':').")
    duplicates: Literal["error", "first", "last", "number"] = Field(
        "error",
        description=(
            "Rows sharing a key: an error; keep the first or last; or number them "
            "(key, key#2, key#3 … in file order) when each row is its own record."
        ),
    )
    skip_if_empty: list[str] = Field(
        default_factory=list,
        description="Rows with any of these source columns empty are skipped (one warning).",
    )
    requires: list[str] = Field(
        default_factory=list,
        description=(
            "Source columns (e.g. custom fields) without which the file is not read for this "
            "table: it is skipped with one warning instead of failing the import."
        ),
    )
    skip_if: list[RowFilter] = Field(
        default_factory=list,
        description="Rows matching any of these filters are skipped and counted (one warning), "
        "e.g. Salesforce's deleted rows: {column = 'IsDeleted', equals = ['true']}. A filter "
        "on a column the file lacks skips nothing.",
    )
    only_if: list[RowFilter] = Field(
        default_factory=list,
        description="Only rows matching every one of these filters are read; the others are "
        "skipped and counted (e.g. only the 明細 rows of a 本文・明細 file).",
    )
    fill_down: list[str] = Field(
        default_factory=list,
        description="Source columns whose empty cells take the value above, so detail rows "
        "carry their header row's fields (freee / 弥生 本文・明細 layouts). Applied before "
        "the filters.",
    )
    credit: Credit | None = Field(None, description="Rows whose negative amounts are credits.")
    join: list[Join] = Field(default_factory=list)
    columns: dict[str, str | ColumnSpec] = Field(
        description="Canonical column → source column name or a column spec."
    )

    @field_validator("key", mode="before")
    @classmethod
    def _key_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _known_table_and_columns(self) -> TableMapping:
        if self.table not in KEYED_TABLES:
            raise ValueError(
                f"unknown table {self.table!r}; choose one of {', '.join(KEYED_TABLES)}"
            )
        known = set(Base.metadata.tables[self.table].columns.keys()) - {"id", "key"}
        unknown = sorted(set(self.columns) - known)
        if unknown:
            raise ValueError(
                f"table {self.table!r} has no columns {unknown}; it has {sorted(known)}"
            )
        return self

    def specs(self) -> dict[str, ColumnSpec]:
        """Every column as a :class:`ColumnSpec`."""
        return {
            name: ColumnSpec(column=spec) if isinstance(spec, str) else spec
            for name, spec in self.columns.items()
        }


class Mapping(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Shown in reports and the imports log.")
    currency: str | None = Field(
        None, description="Currency of amounts when the rows do not say (ISO 4217)."
    )
    date_format: str | None = Field(None, description="Default strftime format for dates.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Other names of source columns → the name the tables use: a vendor's "
        "renamed headers, or its headers in another UI language ('レコードID' = 'Record ID'). "
        "Matched ignoring case, width and spaces.",
    )
    countries: dict[str, str] = Field(
        default_factory=dict,
        description="Local country names → ISO 3166 codes for `transform = 'country_code'`, "
        "beyond the names pycountry and CLDR know ('Channel Islands' = 'JE').",
    )
    skip_rows: int = Field(
        0, ge=0, description="Lines before the header row (a report's title block)."
    )
    null_values: list[str] = Field(
        default_factory=list,
        description="Cell values meaning 'empty' in every column, e.g. Salesforce's null id "
        "'000000000000000AAA'.",
    )
    outlier_factor: float = Field(
        1000.0,
        ge=0,
        description="Refuse an amount more than this many times its column's 99.9th "
        "percentile in the import (0 turns the check off); see tillage.ingest.plausible.",
    )
    source_timezone: str | None = Field(
        None,
        description="Time zone of date-times written without a UTC offset (Salesforce's data "
        "export writes UTC); default: the business time zone. Dates without a time are kept.",
    )
    tables: list[TableMapping] = Field(min_length=1)

    @model_validator(mode="after")
    def _dependency_order(self) -> Mapping:
        self.tables.sort(key=lambda t: CANONICAL_TABLES.index(t.table))
        return self

    def source_columns(self) -> set[str]:
        """Every source column name the tables refer to."""
        names: set[str] = set()
        for tm in self.tables:
            names.update(tm.key, tm.skip_if_empty, tm.requires, tm.fill_down)
            names.update(f.column for f in [*tm.skip_if, *tm.only_if])
            names.update(j.on for j in tm.join)
            if tm.credit is not None:
                names.add(tm.credit.column)
            for spec in tm.specs().values():
                names.update(c for c in [spec.column, spec.times] if c is not None)
                names.update(spec.columns or [])
                names.update(spec.fallbacks())
                if spec.only_where is not None:
                    names.add(spec.only_where.column)
        return names


def _folded(name: str) -> str:
    return fold(name)


def rename_headers(frame: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """``frame`` with its headers renamed to the names the mapping uses.

    A header matching (ignoring case, width, spaces) a source column the mapping names, or one
    of ``mapping.headers``' aliases, takes the mapping's spelling — 'Create date' becomes
    'Create Date', 'レコードID' becomes 'Record ID'. A name the file already has is not taken
    twice. Cells equal to one of ``mapping.null_values`` become empty.
    """
    if mapping.null_values:
        frame = frame.mask(frame.isin(mapping.null_values))
    aliases = {_folded(name): name for name in mapping.source_columns()}
    aliases.update({_folded(alias): name for alias, name in mapping.headers.items()})
    present = set(frame.columns)
    renames: dict[str, str] = {}
    for column in frame.columns:
        target = aliases.get(_folded(str(column)))
        if target is not None and target != column and target not in present:
            renames[column] = target
            present.add(target)
    return frame.rename(columns=renames) if renames else frame


def parse_mapping(text: str, *, source: str = "<mapping>") -> Mapping:
    """Parse and validate mapping TOML; errors name the field at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigurationError(f"{source}: invalid mapping\n" + "\n".join(lines)) from exc


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; a missing or unreadable file names itself."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigurationError(f"mapping file {path.name}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"mapping file {path.name}: cannot be read ({exc})") from exc
    return parse_mapping(text, source=path.name)


FORMATS_DIR = Path(__file__).with_name("formats")


def builtin_mapping(name: str) -> Mapping:
    """The mapping shipped for a known export format (``salesforce`` or ``hubspot``)."""
    return load_mapping(FORMATS_DIR / f"{name}.toml")
