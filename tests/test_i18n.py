"""Every user-facing string is translated, the compiled catalogs are current, amounts format."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tillage.errors import ConfigurationError
from tillage.i18n import LOCALES_DIR, format_money, format_number, gettext_for

ROOT = Path(__file__).resolve().parents[1]


def _extracted_ids() -> set[str]:
    method_map = [
        ("src/**.py", "python"),
        ("src/tillage/web/templates/**.html", "jinja2"),
    ]
    options = {"src/tillage/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _po(lang: str):  # type: ignore[no-untyped-def]
    with open(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=lang)


def test_every_message_in_the_code_has_a_japanese_translation() -> None:
    catalog = _po("ja")
    untranslated = sorted(
        m for m in _extracted_ids() if not (catalog.get(m) and catalog.get(m).string)
    )
    assert untranslated == [], (
        f"untranslated messages; run pybabel extract/update (docs/development.md): {untranslated}"
    )
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []


def test_compiled_catalog_matches_its_source() -> None:
    source = {m.id: m.string for m in _po("ja") if m.id}
    with open(LOCALES_DIR / "ja" / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == source, "messages.mo is stale: run `pybabel compile -d src/tillage/locales`"


def test_translation_is_applied() -> None:
    assert gettext_for("ja")("Total LTV") == "LTV 合計"
    assert gettext_for("en")("Total LTV") == "Total LTV"


def test_money_and_numbers() -> None:
    assert format_money(12_400_000, "JPY", "ja") == "￥12,400,000"
    assert format_money(12_400_000, "JPY", "en") == "¥12,400,000"
    assert format_money(12_400_000, "JPY", "en", compact=True) == "¥12.4M"
    assert format_money(12_400_000, "JPY", "ja", compact=True) == "￥1,240万"
    assert format_money(1234.5, "USD", "en") == "$1,234.50"
    # below 1,000 there is no compact form: the currency's own digits, not every float digit
    assert format_money(38.38893449455674, "JPY", "en", compact=True) == "¥38"
    assert format_money(8.2e-15, "JPY", "ja", compact=True) == "￥0"
    assert format_money(999.6, "USD", "en", compact=True) == "$999.60"
    assert format_number(1234567.891, "ja", digits=1) == "1,234,567.9"


@pytest.mark.parametrize(
    ("amount", "ja", "en"),
    [
        # below 1万 Babel's Japanese compact form returned the raw float "￥1573.1987083697136"
        (1573.1987083697136, "￥1,573", "¥1.6K"),
        (15_700, "￥1.6万", "¥15.7K"),
        (1_573_000, "￥157万", "¥1.6M"),
        (82_039_000, "￥8,204万", "¥82M"),  # was "￥8203.9万": grouping, three digits
        (99_999_600, "￥1億", "¥100M"),  # rounding reaches the next unit
        (120_000_000, "￥1.2億", "¥120M"),
        (1_234_000_000_000, "￥1.2兆", "¥1.2T"),
        (-1_573_000, "-￥157万", "-¥1.6M"),
        (0.0, "￥0", "¥0"),
        (float("nan"), "—", "—"),
    ],
)
def test_compact_money_is_short_rounded_and_grouped(amount: float, ja: str, en: str) -> None:
    assert format_money(amount, "JPY", "ja", compact=True) == ja
    assert format_money(amount, "JPY", "en", compact=True) == en
    if amount == amount:
        full = format_money(amount, "JPY", "ja")
        assert full.startswith(("￥", "-￥")) and "." not in full  # yen have no decimals


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="ja, en"):
        format_money(1, "JPY", "fr")
