"""Internationalisation: message catalogs (Babel/gettext) and currency formatting.

User-facing text is written in English in the code, marked with ``_()`` (or ``{% trans %}`` in
templates) and translated through the catalogs in ``tillage/locales/<lang>/LC_MESSAGES``.
Amounts are formatted with CLDR rules for the language and the company currency, e.g.
``format_money(12_400_000, "JPY", "ja") == "￥12,400,000"`` and
``format_money(12_400_000, "JPY", "en", compact=True) == "¥12.4M"``.

Updating the catalogs after changing text (see docs/development.md)::

    pybabel extract -F babel.cfg -o src/tillage/locales/messages.pot src
    pybabel update -i src/tillage/locales/messages.pot -d src/tillage/locales
    pybabel compile -d src/tillage/locales
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import get_args

from babel.numbers import format_compact_currency, format_currency, format_decimal
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


def format_money(amount: float, currency: str, lang: str, *, compact: bool = False) -> str:
    """Format an amount of ``currency`` for ``lang``; ``compact`` gives ¥12.4M / ￥1240万 (an
    amount under 1,000, which has no compact form, in the currency's own digits: ¥38)."""
    locale = _CLDR_LOCALE[check_language(lang)]
    if compact and abs(amount) >= 1000:
        return format_compact_currency(amount, currency, locale=locale, fraction_digits=1)
    return format_currency(amount, currency, locale=locale)


def format_number(value: float, lang: str, *, digits: int = 0) -> str:
    """Format a plain number with the language's grouping and ``digits`` decimals."""
    locale = _CLDR_LOCALE[check_language(lang)]
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale)
