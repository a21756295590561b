"""Tables that fit the terminal: one line per row, no figure or date cut, at any width.

Every CLI table that can be wider than 80 columns (a pipe's width, a laptop's split pane) is
built by :func:`fitted_table`. In a terminal narrower than :data:`NARROW` columns
(:func:`is_narrow`) the less important columns (``Col.drop``) are left out, headers may take
their short form and the caller writes amounts compactly (:func:`money`: ￥1,196万); figures,
dates and codes keep their whole width, and the names (``Col.name``) give way: cut with "…" on
their one line, never wrapped onto a second line that reads like an empty row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.table import Table

from tillage.i18n import format_money

__all__ = ["NARROW", "Col", "fitted_table", "is_narrow", "money"]

NARROW = 120
"""Below this many terminal columns a table leaves out its less important columns and writes
amounts compactly."""
NAME_MIN = 6
"""The fewest cells a name column keeps (a name cut shorter is no longer recognisable)."""


@dataclass(frozen=True)
class Col:
    """A column: its ``header`` (``short``: in a narrow terminal), ``justify``; ``name``: it
    gives way (cut with "…") when the table does not fit; ``drop``: left out in a narrow
    terminal."""

    header: str
    justify: str = "left"
    name: bool = False
    drop: bool = False
    short: str | None = None


def is_narrow(width: int | None) -> bool:
    """Whether a terminal ``width`` columns wide (``None``: not a terminal) is narrow."""
    return width is not None and width < NARROW


def money(value: float | None, currency: str, lang: str, width: int | None) -> str:
    """An amount as a table shows it: in full with separators, compact in a narrow terminal
    (￥1,196万); a dash for none."""
    if value is None or value != value:  # None or NaN
        return "—"
    return format_money(value, currency, lang, compact=is_narrow(width))


def _natural(header: str, cells: list[str]) -> int:
    return max([cell_len(header), *(max(map(cell_len, c.splitlines() or [""])) for c in cells)])


def fitted_table(
    columns: Sequence[Col],
    rows: Sequence[Sequence[str]],
    width: int | None,
    **table: Any,
) -> Table:
    """A rich :class:`~rich.table.Table` of ``rows`` (one string per column of ``columns``)
    that fits ``width`` terminal columns (``None``: any width), other keyword arguments passed
    to the table (``title``, ``caption``, ``show_header`` …). In a narrow terminal the
    ``drop`` columns are left out; whenever the table would be wider than ``width`` its name
    columns share what the other columns leave (the shortest whole, at least :data:`NAME_MIN`
    cells each), cut on one line."""
    narrow = is_narrow(width)
    keep = [i for i, c in enumerate(columns) if not (narrow and c.drop)]
    headers = {
        i: (columns[i].short or columns[i].header) if narrow else columns[i].header for i in keep
    }
    natural = {i: _natural(headers[i], [str(r[i]) for r in rows]) for i in keep}
    widths: dict[int, int | None] = dict.fromkeys(keep)
    names = [i for i in keep if columns[i].name]
    if width is not None:
        frame = 3 * len(keep) + 1  # borders and one cell of padding each side
        fixed = sum(natural[i] for i in keep if i not in names)
        room = width - frame - fixed
        wanted = sum(natural[i] for i in names)
        if names and wanted > room:
            # water-filling: the shortest names whole, the longer ones share what is left
            left = sorted(names, key=natural.__getitem__)
            while left:
                fair = max(NAME_MIN, room // len(left))
                i = left.pop(0)
                widths[i] = min(natural[i], fair)
                room -= widths[i]
    out = Table(**table)
    for i in keep:
        column = columns[i]
        out.add_column(
            headers[i],
            justify=column.justify,  # type: ignore[arg-type]
            no_wrap=True,
            overflow="ellipsis",
            width=widths[i],
            min_width=None if column.name else natural[i],
        )
    for row in rows:
        out.add_row(*(str(row[i]) for i in keep))
    return out


def column_pages(
    columns: Sequence[Col],
    rows: Sequence[Sequence[str]],
    width: int | None,
    **table: Any,
) -> list[Table]:
    """A wide table (its first column the rows' names, then one column per cut: a rep, a team,
    a period) as several tables, each with the names and as many of the other columns as fit
    ``width`` terminal columns (one table when it fits or ``width`` is ``None``); the caption
    goes under the last one."""
    if width is None or len(columns) < 3:
        return [fitted_table(columns, rows, width, **table)]
    first = min(_natural(columns[0].header, [str(r[0]) for r in rows]), max(width // 3, 12))
    pages: list[list[int]] = [[]]
    used = first + 4  # the names' column with its borders and padding
    for i in range(1, len(columns)):
        need = _natural(columns[i].header, [str(r[i]) for r in rows]) + 3
        if pages[-1] and used + need > width:
            pages.append([])
            used = first + 4
        pages[-1].append(i)
        used += need
    caption = table.pop("caption", None)
    out = []
    for n, page in enumerate(pages):
        keep = [0, *page]
        extra = {"caption": caption} if n == len(pages) - 1 and caption else {}
        out.append(
            fitted_table(
                [columns[i] for i in keep],
                [[row[i] for i in keep] for row in rows],
                width,
                **table,
                **extra,
            )
        )
    return out
