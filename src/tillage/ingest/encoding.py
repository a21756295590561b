"""Detecting how a text export is encoded and delimited.

Japanese Excel writes CSV as CP932 (Microsoft's superset of Shift_JIS: ㈱, ①, 髙 exist only in
CP932), so whatever a detector calls the Shift_JIS family is decoded as ``cp932``. UTF-8 with or
without a byte-order mark is recognised exactly; anything else is left to charset-normalizer.
Delimiter and quoting come from :class:`csv.Sniffer` on the first lines.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from charset_normalizer import from_bytes

from tillage.errors import DataValidationError, Problem

_SHIFT_JIS_FAMILY = {"shift_jis", "cp932", "ms932", "sjis", "shift_jis_2004", "shift_jisx0213"}
_DELIMITERS = ",\t;|"


@dataclass(frozen=True)
class TextFormat:
    """How a delimited text file is written."""

    encoding: str
    delimiter: str = ","
    quotechar: str = '"'


def detect_encoding(data: bytes, *, name: str = "<data>") -> str:
    """The Python codec that decodes ``data``: ``utf-8-sig``, ``utf-8``, ``cp932`` or another."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:  # the Japanese Excel case, decoded strictly so a wrong guess fails here
        data.decode("cp932")
    except UnicodeDecodeError:
        pass
    else:
        best = from_bytes(data[:200_000], cp_isolation=["cp932", "cp1252", "latin_1"]).best()
        if best is None or best.encoding.lower() in _SHIFT_JIS_FAMILY:
            return "cp932"
    best = from_bytes(data[:200_000]).best()
    if best is None:
        raise DataValidationError(
            f"{name}: cannot tell how this file is encoded",
            [Problem(name, None, None, None, "unknown text encoding; save it as UTF-8")],
        )
    encoding = best.encoding.lower()
    return "cp932" if encoding in _SHIFT_JIS_FAMILY else encoding


def sniff_format(text: str, encoding: str) -> TextFormat:
    """Delimiter and quote character of delimited ``text`` (comma when the sniffer is unsure)."""
    sample = "\n".join(text[:65_536].splitlines()[:50])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        return TextFormat(encoding)
    return TextFormat(encoding, dialect.delimiter, dialect.quotechar or '"')
