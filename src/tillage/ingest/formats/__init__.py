"""Known export formats: detection, and their mappings (``salesforce.toml``, ``hubspot.toml``)."""

from __future__ import annotations

from pathlib import Path

from tillage.ingest.readers import EXCEL_SUFFIXES, PARQUET_SUFFIXES, TEXT_SUFFIXES

SALESFORCE_MARKERS = {"account.csv", "opportunity.csv", "contact.csv"}


def detect_format(path: Path) -> str:
    """'salesforce' or 'hubspot' for an export folder; 'csv', 'xlsx' or 'parquet' for a file."""
    if path.is_dir():
        names = {p.name.lower() for p in path.iterdir() if p.is_file()}
        if names & SALESFORCE_MARKERS:
            return "salesforce"
        if any(n.endswith(".csv") and ("compan" in n or "deal" in n) for n in names):
            return "hubspot"
        return "folder"
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "csv"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return suffix.lstrip(".") or "unknown"
