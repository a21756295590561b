"""Jinja2 rendering with the message catalogs: one environment per language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tillage.i18n import format_money, format_number, translations

TEMPLATES_DIR = Path(__file__).with_name("templates")


@lru_cache(maxsize=4)
def environment(lang: str) -> Environment:
    """A Jinja2 environment whose ``{% trans %}`` and ``_()`` translate into ``lang``."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.filters["number"] = lambda v, digits=0: format_number(v, lang, digits=digits)
    env.filters["money"] = lambda v, currency, compact=False: format_money(
        v, currency, lang, compact=compact
    )
    return env


def render(lang: str, template: str, **context: object) -> str:
    """Render ``template`` in ``lang`` with ``context``."""
    return environment(lang).get_template(template).render(**context)
