"""Every registered KPI is documented in docs/kpi.md with its unit and direction."""

from __future__ import annotations

import re
from pathlib import Path

from tillage.kpi import REGISTRY

DOC = Path(__file__).resolve().parents[2] / "docs" / "kpi.md"

UNIT_WORDS = {
    "percent": "%",
    "ratio": "ratio",
    "currency": "currency",
    "months": "months",
    "count": "count",
    "score": "score",
    "per_account_month": "per account per month",
}


def documented() -> dict[str, list[str]]:
    """KPI rows of the tables headed ``| kpi | name | numerator | …``: key → cells."""
    rows: dict[str, list[str]] = {}
    in_table = False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| kpi | name | numerator | denominator | unit | better |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and (match := re.match(r"^\| `([a-z0-9_]+)` \|", line)):
            assert match.group(1) not in rows, f"{match.group(1)} documented twice"
            rows[match.group(1)] = [cell.strip() for cell in line.strip("|").split("|")]
    return rows


def test_every_kpi_is_documented_and_nothing_else() -> None:
    assert set(documented()) == set(REGISTRY)


def test_units_and_directions_match() -> None:
    rows = documented()
    for key, kpi in REGISTRY.items():
        _, name, _num, _den, unit, better = rows[key]
        assert kpi.name_en in name, key
        assert UNIT_WORDS[kpi.unit] in unit, key
        assert better == kpi.direction, key
        if kpi.kind == "count":
            assert _den == "—", key
