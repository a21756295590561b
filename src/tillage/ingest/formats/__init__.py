"""Known export formats: detection, and their mappings (``salesforce.toml``, ``hubspot.toml``)."""

from __future__ import annotations

from pathlib import Path

from tillage.ingest.readers import EXCEL_SUFFIXES, PARQUET_SUFFIXES, TEXT_SUFFIXES

SALESFORCE_MARKERS = {"account.csv", "opportunity.csv", "contact.csv"}
HUBSPOT_FILE_PREFIX = "hubspot-crm-exports-"  # hubspot-crm-exports-all-deals-2025-11-28.csv
HUBSPOT_OBJECTS = ("compan", "deal", "contact", "ticket", "activit")


def _hubspot_name(name: str) -> bool:
    return name.startswith(HUBSPOT_FILE_PREFIX) and any(o in name for o in HUBSPOT_OBJECTS)


def detect_format(path: Path) -> str:
    """'salesforce' or 'hubspot' for an export folder (or a HubSpot export file, by its name);
    'csv', 'xlsx' or 'parquet' for another file."""
    readable = TEXT_SUFFIXES | EXCEL_SUFFIXES
    if path.is_dir():
        names = {p.name.lower() for p in path.iterdir() if p.is_file()}
        if names & SALESFORCE_MARKERS:
            return "salesforce"
        if any(
            Path(n).suffix in readable and ("compan" in n or "deal" in n or _hubspot_name(n))
            for n in names
        ):
            return "hubspot"
        return "folder"
    if _hubspot_name(path.name.lower()) and path.suffix.lower() in readable:
        return "hubspot"
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "csv"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return suffix.lstrip(".") or "unknown"
