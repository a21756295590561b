"""tillage.ingest: read CRM and billing exports, map them onto the canonical tables, validate,
and upsert them into the store in one transaction.

Public surface::

    import_path(engine, path, as_of=..., imported_at=..., mapping=...) -> ImportResult
    load_mapping(path) / parse_mapping(text) -> Mapping
    save_report(problems, path, lang)
"""

from __future__ import annotations

from tillage.ingest.importer import ImportRefused, ImportResult, TableCounts, import_path
from tillage.ingest.mapping import Mapping, builtin_mapping, load_mapping, parse_mapping
from tillage.ingest.report import report_frame, save_report

__all__ = [
    "ImportRefused",
    "ImportResult",
    "Mapping",
    "TableCounts",
    "builtin_mapping",
    "import_path",
    "load_mapping",
    "parse_mapping",
    "report_frame",
    "save_report",
]
