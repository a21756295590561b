"""How reps and teams are named in reports: by name, unless two share it.

KPI rows by rep and by team, the period review and the 1on1 agenda label a rep or a team by its
name, which people read. Names are not unique (two "Sato Yuki"s are common), so a name several
rows share gets its key appended — "Sato Yuki (REP-007)" — and a cut never merges two people,
nor shows one rep the other's figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pandas as pd

from tillage.i18n import gettext_for


def unique_labels(rows: Iterable[tuple[int, str, str | None]]) -> dict[int, str]:
    """``{id: label}`` for rows ``(id, key, name)``: the name, or ``"name (key)"`` when another
    row has the same name; the key alone when the name is missing or blank."""
    items = [(int(i), str(k), (n or "").strip()) for i, k, n in rows]
    counts = Counter(name for _i, _k, name in items if name)
    return {
        i: (name if counts[name] == 1 else f"{name} ({key})") if name else key
        for i, key, name in items
    }


def label_column(frame: pd.DataFrame, id_col: str, key_col: str, name_col: str) -> pd.Series:
    """:func:`unique_labels` of a frame's rows, aligned with the frame (missing ids → NA)."""
    present = frame[[id_col, key_col, name_col]].dropna(subset=[id_col, key_col])
    present = present.drop_duplicates(subset=[id_col])
    labels = unique_labels(present.itertuples(index=False, name=None))
    return frame[id_col].map(lambda i: labels.get(int(i)) if pd.notna(i) else pd.NA)


def role_label(role: str, lang: str) -> str:
    """A user role's name in ``lang`` (``success`` → カスタマーサクセス); an unknown role as is."""
    _ = gettext_for(lang)
    names = {
        "admin": _("Administrator"),
        "manager": _("Manager"),
        "rep": _("Sales rep"),
        "success": _("Customer success"),
        "marketing": _("Marketing"),
        "finance": _("Finance / executive"),
    }
    return names.get(role, role)
