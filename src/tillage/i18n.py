"""Internationalisation: message catalogs (Babel/gettext) and currency formatting.

User-facing text is written in English in the code, marked with ``_()`` (or ``{% trans %}`` in
templates) and translated through the catalogs in ``tillage/locales/<lang>/LC_MESSAGES``.
Amounts are formatted with CLDR rules for the language and the company currency, e.g.
``format_money(12_400_000, "JPY", "ja") == "￥12,400,000"``,
``format_money(12_400_000, "JPY", "ja", compact=True) == "￥1,240万"`` and
``format_money(12_400_000, "JPY", "en", compact=True) == "¥12.4M"``.

Updating the catalogs after changing text (see docs/development.md)::

    pybabel extract -F babel.cfg -o src/tillage/locales/messages.pot src
    pybabel update -i src/tillage/locales/messages.pot -d src/tillage/locales
    pybabel compile -d src/tillage/locales
"""

from __future__ import annotations

import gettext as _gettext
import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import get_args

from babel.numbers import format_currency, format_decimal, get_currency_symbol
from babel.support import Translations

from tillage.config import Language
from tillage.errors import ConfigurationError

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
LANGUAGES: tuple[str, ...] = get_args(Language)
_CLDR_LOCALE = {"ja": "ja_JP", "en": "en_US"}


def check_language(lang: str) -> Language:
    """Return ``lang`` if it is a supported language, else raise :class:`ConfigurationError`."""
    if lang not in LANGUAGES:
        raise ConfigurationError(
            f"unsupported language {lang!r}; choose one of {', '.join(LANGUAGES)}"
        )
    return lang  # type: ignore[return-value]


@lru_cache(maxsize=8)
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled message catalog for ``lang`` (English text is the source language)."""
    check_language(lang)
    if lang == "en":
        return _gettext.NullTranslations()
    return Translations.load(str(LOCALES_DIR), [lang], DOMAIN)


def gettext_for(lang: str) -> Callable[[str], str]:
    """A ``_`` function translating into ``lang``."""
    return translations(lang).gettext


_COMPACT_UNITS: dict[str, tuple[tuple[int, str], ...]] = {
    # largest first; Japanese groups by 10^4 (万, 億, 兆), English by 10^3 (K, M, B, T)
    "ja": ((10**12, "兆"), (10**8, "億"), (10**4, "万")),
    "en": ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")),
}


@lru_cache(maxsize=1 << 16)  # pure; a page's charts and tables format the same values again
def format_money(amount: float, currency: str, lang: str, *, compact: bool = False) -> str:
    """An amount of ``currency`` for people reading ``lang``: the one money format of tillage
    (pages, reasons, workbook, CLI).

    Full (tables): CLDR's currency format with grouping and the currency's own digits —
    ``￥12,400,000``, ``¥12,400,000``, ``$1,234.50``.

    Compact (sentences, charts): the amount in the language's largest unit it reaches, with
    about three significant digits — one decimal below 100 units, none above, a trailing
    ``.0`` dropped, grouping kept: Japanese ``￥1.6万``, ``￥157万``, ``￥8,204万``, ``￥1.2億``;
    English ``¥1.6K``, ``¥12.4M``, ``¥1.2B``. Rounding that reaches the next unit moves to it
    (``￥9,999.96万`` → ``￥1億``). An amount below the smallest unit (1万 or 1,000) is written in
    full: ``￥1,573``, ``$999.60``. No amount (NaN, infinite) is ``—``, never "NaN".
    """
    locale = _CLDR_LOCALE[check_language(lang)]
    if not math.isfinite(amount):
        return "—"
    if not compact:
        return format_currency(amount, currency, locale=locale)
    units = _COMPACT_UNITS[lang]
    step = units[-1][0]  # 10^4 or 10^3: how far apart the units are
    size = abs(amount)
    if size < step:
        return format_currency(amount, currency, locale=locale)
    index = next(i for i, (base, _unit) in enumerate(units) if size >= base)
    value = size / units[index][0]
    digits = 1 if value < 100 else 0
    if round(value, digits) >= step and index > 0:  # 9,999.96万 rounds to 1億
        index -= 1
        value = size / units[index][0]
        digits = 1 if value < 100 else 0
    return _compact(amount < 0, round(value, digits), digits, units[index][1], currency, locale)


@lru_cache(maxsize=1 << 14)  # amounts that round alike are written alike: one CLDR call each
def _compact(
    negative: bool, value: float, digits: int, unit: str, currency: str, locale: str
) -> str:
    number = format_decimal(value, format="#,##0.#" if digits else "#,##0", locale=locale)
    sign = "-" if negative else ""
    return f"{sign}{get_currency_symbol(currency, locale=locale)}{number}{unit}"


@lru_cache(maxsize=1 << 16)  # pure; a page's charts and tables format the same values again
def format_number(value: float, lang: str, *, digits: int = 0) -> str:
    """Format a plain number with the language's grouping and ``digits`` decimals."""
    locale = _CLDR_LOCALE[check_language(lang)]
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale)


def table_labels(lang: str) -> dict[str, str]:
    """The name of each importable table in ``lang``: the Data page and the import report never
    show a table's code."""
    t = translations(lang)
    return {
        "teams": t.pgettext("table", "Teams"),
        "reps": t.pgettext("table", "Sales reps"),
        "accounts": t.pgettext("table", "Accounts"),
        "contacts": t.pgettext("table", "Contacts"),
        "products": t.pgettext("table", "Products"),
        "contracts": t.pgettext("table", "Contracts"),
        "orders": t.pgettext("table", "Orders"),
        "opportunities": t.pgettext("table", "Deals"),
        "activities": t.pgettext("table", "Activities"),
        "tickets": t.pgettext("table", "Support tickets"),
        "nps_responses": t.pgettext("table", "NPS responses"),
        "success_stories": t.pgettext("table", "Success stories"),
    }
