"""Detecting how a text export is encoded and delimited.

The encoding is decided on the whole file, never on its first bytes:

1. a UTF-8 byte-order mark, or bytes that are valid UTF-8 throughout: UTF-8;
2. CP932 first for Japanese: bytes that decode as CP932 throughout and give Japanese text
   (kana, kanji or full-width forms) are CP932 however short the file — Japanese Excel writes
   CSV as CP932 (Microsoft's superset of Shift_JIS: ㈱, ①, 髙 exist only in CP932), and a
   statistical detector guesses wrong on a few dozen bytes; when the CP932 reading has kanji
   but no kana, charset-normalizer arbitrates between CP932 and the Western code pages;
3. a file that is mostly UTF-8 with some lines in another encoding (rows pasted in from an
   older export) is decoded line by line: the UTF-8 lines as UTF-8, the others with the
   fallback that decodes them (CP932 for Japanese text, else cp1252, else Latin-1), and every
   such line is reported, so a user can check it;
4. anything else is left to charset-normalizer.

Delimiter and quoting come from :class:`csv.Sniffer` on the first lines.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from tillage.errors import DataValidationError, Problem

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff9f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")
_LATIN_LETTER = re.compile(r"[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f]")
_SHIFT_JIS_FAMILY = {"shift_jis", "cp932", "ms932", "sjis", "shift_jis_2004", "shift_jisx0213"}
_DELIMITERS = ",\t;|"


@dataclass(frozen=True)
class TextFormat:
    """How a delimited text file is written."""

    encoding: str
    delimiter: str = ","
    quotechar: str = '"'


def _cp932_text(data: bytes) -> str | None:
    """``data`` decoded as CP932 when it decodes strictly and reads as Japanese, else None.

    A reading with private-use characters (CP932's user-defined area, which Western bytes such
    as ``ñ`` land in) is no Japanese text.
    """
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        return None
    if _PRIVATE_USE.search(text):
        return None
    return text if _JAPANESE.search(text) else None


def _western_text(data: bytes) -> str | None:
    """``data`` decoded as cp1252 when every non-ASCII character is a Latin letter."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    wide = {c for c in text if ord(c) > 127}
    return text if wide and all(_LATIN_LETTER.match(c) for c in wide) else None


def detect_encoding(data: bytes, *, name: str = "<data>") -> str:
    """The Python codec that decodes ``data``: ``utf-8-sig``, ``utf-8``, ``cp932`` or another.

    A file mixing encodings gets the encoding of its majority (see :func:`decode_text`).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if _mostly_utf8(data):  # some lines in another encoding: decode_text reports them
        return "utf-8"
    text = _cp932_text(data)
    if text is not None:
        if _KANA.search(text):
            return "cp932"
        if _western_text(data) is not None:  # accented Latin letters that pair into kanji
            return "cp1252"
        best = from_bytes(data, cp_isolation=["cp932", "cp1252", "latin_1"]).best()
        if best is None or best.encoding.lower() in _SHIFT_JIS_FAMILY:
            return "cp932"
    best = from_bytes(data).best()
    if best is None:
        raise DataValidationError(
            f"{name}: cannot tell how this file is encoded",
            [Problem(name, None, None, None, "unknown text encoding; save it as UTF-8")],
        )
    encoding = best.encoding.lower()
    return "cp932" if encoding in _SHIFT_JIS_FAMILY else encoding


def _mostly_utf8(data: bytes) -> bool:
    """More of the non-ASCII lines are valid UTF-8 than not."""
    good = bad = 0
    for line in data.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
        else:
            good += 1
    return good > bad


@dataclass(frozen=True)
class DecodedText:
    """A text file's contents, its encoding, and the lines decoded otherwise.

    ``fallback_lines`` holds ``(line number, codec)`` for each line (1 = the first) that is not
    in ``encoding`` and was decoded with ``codec`` instead.
    """

    text: str
    encoding: str
    fallback_lines: tuple[tuple[int, str], ...] = ()


def _fallback(line: bytes) -> tuple[str, str]:
    western = _western_text(line)
    if western is not None:
        return western, "cp1252"
    japanese = _cp932_text(line)
    if japanese is not None:
        return japanese, "cp932"
    try:
        return line.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return line.decode("latin_1"), "latin_1"


def decode_text(data: bytes, *, name: str = "<data>") -> DecodedText:
    """Decode a whole text file (see the module's rules); never fails on a stray line."""
    encoding = detect_encoding(data, name=name)
    try:
        return DecodedText(data.decode(encoding), encoding)
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    fallbacks: list[tuple[int, str]] = []
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            lines.append(line.decode(encoding))
        except UnicodeDecodeError:
            text, codec = _fallback(line)
            lines.append(text)
            fallbacks.append((number, codec))
    text = "".join(lines)
    if encoding == "utf-8-sig" and text.startswith("\ufeff"):
        text = text[1:]
    return DecodedText(text, encoding, tuple(fallbacks))


def sniff_format(text: str, encoding: str) -> TextFormat:
    """Delimiter and quote character of delimited ``text`` (comma when the sniffer is unsure)."""
    sample = "\n".join(text[:65_536].splitlines()[:50])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        return TextFormat(encoding)
    return TextFormat(encoding, dialect.delimiter, dialect.quotechar or '"')
