"""The period review and the 1on1 agenda as Markdown or HTML (Jinja2 templates in
``report/templates``, text through the message catalogs); JSON is the models' own
``model_dump_json()``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from tillage.errors import ConfigurationError
from tillage.i18n import format_money, format_number, translations
from tillage.kpi.agenda import OneOnOneAgenda
from tillage.kpi.review import PeriodReview
from tillage.report.formatting import format_fraction, format_value

TEMPLATES_DIR = Path(__file__).with_name("templates")
FORMATS: tuple[str, ...] = ("md", "html", "json")


@lru_cache(maxsize=4)
def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html.j2"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = lambda v, digits=0: (
        "—" if v is None else format_number(v, lang, digits=digits)
    )
    env.filters["money"] = lambda v, currency: "—" if v is None else format_money(v, currency, lang)
    env.filters["pct"] = lambda v, digits=1: format_fraction(v, lang, digits)
    env.filters["kpi"] = lambda v, unit, currency: format_value(v, unit, currency, lang)
    return env


def _render(model: BaseModel, name: str, fmt: str, lang: str) -> str:
    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown format {fmt!r}: choose {', '.join(FORMATS)}")
    if fmt == "json":
        return model.model_dump_json(indent=2) + "\n"
    template = _environment(lang).get_template(f"{name}.{fmt}.j2")
    return template.render(r=model)


def render_review(review: PeriodReview, fmt: str = "md") -> str:
    """The review as ``md``, ``html`` or ``json`` text, in the review's language."""
    return _render(review, "review", fmt, review.lang)


def render_agenda(agenda: OneOnOneAgenda, fmt: str = "md") -> str:
    """The 1on1 agenda as ``md``, ``html`` or ``json`` text, in the agenda's language."""
    return _render(agenda, "one_on_one", fmt, agenda.lang)
