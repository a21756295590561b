"""Every column of the feature table is documented in docs/features.md, and nothing else is."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from tillage.features.build import build_features
from tillage.features.engine import FEATURE_COLUMNS, duckdb_backend

from .handmade import AS_OF, tables

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def documented() -> list[str]:
    """Column names from the tables headed ``| column | meaning | unit |``."""
    names, in_table = [], False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| column | meaning | unit |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and (match := re.match(r"^\| `([a-z0-9_]+)` \|", line)):
            names.append(match.group(1))
    return names


def test_every_output_column_is_documented_once() -> None:
    frames = tables()
    arrow = {
        name: pa.Table.from_pandas(frames[name][list(cols)], preserve_index=False)
        for name, cols in FEATURE_COLUMNS.items()
    }
    con = duckdb_backend(arrow)
    columns = list(build_features(con, AS_OF, horizon_days=90).columns)
    con.disconnect()
    names = documented()
    assert len(names) == len(set(names)), "a column is documented twice"
    assert sorted(set(columns) - set(names)) == [], "undocumented columns"
    assert sorted(set(names) - set(columns)) == [], "documented columns that do not exist"
