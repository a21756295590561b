"""The mapping file: how the columns of source files become rows of canonical tables.

A mapping is TOML, validated by the pydantic models below (every field is documented in
``docs/import.md``); the Salesforce and HubSpot formats are mappings shipped with tillage
(``tillage/ingest/formats/*.toml``), so a writer of those shapes can read them backwards.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tillage.errors import ConfigurationError
from tillage.store.schema import CANONICAL_TABLES, Base

Scalar = str | int | float | bool

# Tables whose rows carry a natural key (``usage`` is keyed by account, date and metric instead).
KEYED_TABLES = tuple(t for t in CANONICAL_TABLES if "key" in Base.metadata.tables[t].columns)


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
    fallback: str | None = Field(
        None,
        description="Source column used where `column` is empty or not in the file "
        "(e.g. a task's completion time, else its due date).",
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
        None, description="Translate source values (after trimming) before parsing."
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
    tables: list[TableMapping] = Field(min_length=1)

    @model_validator(mode="after")
    def _dependency_order(self) -> Mapping:
        self.tables.sort(key=lambda t: CANONICAL_TABLES.index(t.table))
        return self


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
    """Read and validate a mapping file."""
    return parse_mapping(path.read_text(encoding="utf-8"), source=path.name)


FORMATS_DIR = Path(__file__).with_name("formats")


def builtin_mapping(name: str) -> Mapping:
    """The mapping shipped for a known export format (``salesforce`` or ``hubspot``)."""
    return load_mapping(FORMATS_DIR / f"{name}.toml")
