"""Likely duplicate accounts: new account rows whose company name matches another account's.

A re-export of the same companies under other ids (a CRM migration, a second export tool, a
spreadsheet keyed by name) would add every company twice. Before anything is written, each new
account's name is normalised and compared with the names already in the store and with the other
new rows; a match under a different key is a warning naming both.

The normalised name folds what differs between two spellings of one company:

- Unicode NFKC (full-width ``ＡＢＣ`` → ``ABC``, half-width ｶﾅ → カナ, ``㈱`` → ``(株)``), then
  case folding;
- legal forms, wherever they stand: 株式会社, (株), 有限会社, (有), 合同会社, 合資会社, 合名会社,
  一般社団法人, Inc., Corp., Corporation, Co., Ltd., Limited, LLC, GmbH, plc, K.K. …;
- spaces, punctuation and the middle dot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from tillage.errors import Problem
from tillage.ingest.transform import MAX_PROBLEMS_PER_CHECK, TableFrame

Translate = Callable[[str], str]

_JA_FORMS = (
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "一般社団法人",
    "一般財団法人",
    "(株)",
    "(有)",
    "(同)",
)
_LATIN_FORMS = (
    r"co\.?,?\s*ltd",
    r"corporation",
    r"incorporated",
    r"company",
    r"limited",
    r"corp",
    r"inc",
    r"ltd",
    r"llc",
    r"gmbh",
    r"plc",
    r"k\.?k",
    r"co",
)
_LATIN = re.compile(r"(?<![a-z0-9])(?:" + "|".join(_LATIN_FORMS) + r")\.?(?![a-z0-9])")
_NOISE = re.compile(r"[\s\W_・]+", re.UNICODE)


def normalise_name(name: str | None) -> str:
    """A company name with width, case, legal form and punctuation folded away ('' if none)."""
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return ""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    for form in _JA_FORMS:
        text = text.replace(form, " ")
    text = _LATIN.sub(" ", text)
    return _NOISE.sub("", text)


def likely_duplicates(
    parts: Iterable[TableFrame],
    stored: Mapping[str, str],
    *,
    translate: Translate,
) -> list[Problem]:
    """Warnings for new account rows whose normalised name matches another key's.

    ``stored`` maps the keys of the accounts already in the store to their names. A row is new
    when its key is not stored; it is flagged when a stored account or an earlier new row of
    the import has the same normalised name under another key.
    """
    _ = translate
    seen: dict[str, tuple[str, str]] = {}
    for key, name in stored.items():
        folded = normalise_name(name)
        if folded:
            seen.setdefault(folded, (key, name))
    problems: list[Problem] = []
    flagged = 0
    for part in parts:
        if "name" not in part.frame:
            continue
        column = part.sources.get("name", "name")
        for key, name, row in zip(part.frame["key"], part.frame["name"], part.rows, strict=True):
            if pd.isna(key) or key in stored:
                continue
            folded = normalise_name(name)
            if not folded:
                continue
            other = seen.get(folded)
            if other is None:
                seen[folded] = (str(key), str(name))
                continue
            if other[0] == key:
                continue
            flagged += 1
            if flagged <= MAX_PROBLEMS_PER_CHECK:
                problems.append(
                    Problem(
                        part.file,
                        int(row),
                        column,
                        name,
                        _(
                            "looks like the account {other_name} (key {other_key}) under "
                            "another key ({key}); if they are the same company, import with "
                            "the same key or the account will be counted twice"
                        ).format(other_name=other[1], other_key=other[0], key=key),
                        "warning",
                    )
                )
    if flagged > MAX_PROBLEMS_PER_CHECK:
        problems.append(
            Problem(
                "",
                None,
                "name",
                None,
                _("{count} more new accounts look like existing ones").format(
                    count=flagged - MAX_PROBLEMS_PER_CHECK
                ),
                "warning",
            )
        )
    return problems
