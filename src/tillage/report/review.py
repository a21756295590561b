"""The period review and the 1on1 agenda as Markdown or HTML (Jinja2 templates in
``report/templates``, text through the message catalogs); JSON is the models' own
``model_dump_json()``.

The HTML sections (``_review_sections.html.j2``, ``_one_on_one_sections.html.j2``) are shared:
the standalone HTML file wraps them in a document, the dashboard's review and 1on1 pages embed
them (:func:`review_sections`, :func:`agenda_sections`), so both show the same tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from tillage.errors import ConfigurationError
from tillage.i18n import format_money, format_number, gettext_for, translations
from tillage.kpi.agenda import OneOnOneAgenda
from tillage.kpi.migration import NONE, SegmentMigration
from tillage.kpi.review import PeriodReview
from tillage.report.formatting import format_change, format_fraction, format_value
from tillage.report.portfolio import SEGMENTS, ZONES, action_label, segment_label

TEMPLATES_DIR = Path(__file__).with_name("templates")
FORMATS: tuple[str, ...] = ("md", "html", "json")


@dataclass(frozen=True)
class MigrationMatrix:
    """The segment migration as a square table: row ``i`` is where accounts came from, column
    ``j`` where they went (both ``labels``); ``accounts[i][j]`` counts them, ``ltv_from[i]`` and
    ``ltv_to[i]`` total the LTV of row ``i``'s accounts in the first and the second snapshot
    (company currency). ``codes`` are the segments (or zones) behind the labels."""

    codes: list[str]
    labels: list[str]
    accounts: list[list[int]]
    ltv_from: list[float]
    ltv_to: list[float]


def migration_matrix(migration: SegmentMigration, lang: str) -> MigrationMatrix:
    """``migration``'s cells as a square table in a fixed order: the portfolio segments (or
    zones), any other value in alphabetical order, then ``-`` (not in that snapshot)."""
    seen = {c.from_segment for c in migration.cells} | {c.to_segment for c in migration.cells}
    known = [code for code in (*SEGMENTS, *ZONES) if code in seen]
    codes = known + sorted(seen - set(known) - {NONE}) + ([NONE] if NONE in seen else [])
    index = {code: i for i, code in enumerate(codes)}
    accounts = [[0] * len(codes) for _ in codes]
    ltv_from = [0.0] * len(codes)
    ltv_to = [0.0] * len(codes)
    for cell in migration.cells:
        i, j = index[cell.from_segment], index[cell.to_segment]
        accounts[i][j] += cell.accounts
        ltv_from[i] += cell.ltv_from
        ltv_to[i] += cell.ltv_to
    _ = gettext_for(lang)
    labels = [
        _("(not scored)") if code == NONE else segment_label(code, lang).capitalize()
        for code in codes
    ]
    return MigrationMatrix(codes, labels, accounts, ltv_from, ltv_to)


def _no_cell(lang: str) -> str:
    return gettext_for(lang)("(not scored)")


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
    env.filters["kpi"] = lambda v, unit, currency, against=None: format_value(
        v, unit, currency, lang, against=against
    )
    env.filters["cell"] = lambda v: (
        _no_cell(lang) if v in (None, "-", NONE) else segment_label(v, lang).capitalize()
    )
    env.filters["change"] = lambda v, unit, currency, apart=False: format_change(
        v, unit, currency, lang, apart=apart
    )
    env.filters["action"] = lambda code: action_label(code, lang)
    return env


def _context(model: BaseModel, lang: str) -> dict[str, object]:
    if isinstance(model, PeriodReview) and model.migration is not None:
        return {"matrix": migration_matrix(model.migration, lang)}
    return {}


def _render(model: BaseModel, name: str, fmt: str, lang: str) -> str:
    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown format {fmt!r}: choose {', '.join(FORMATS)}")
    if fmt == "json":
        return model.model_dump_json(indent=2) + "\n"
    template = _environment(lang).get_template(f"{name}.{fmt}.j2")
    return template.render(r=model, **_context(model, lang))


def render_review(review: PeriodReview, fmt: str = "md") -> str:
    """The review as ``md``, ``html`` or ``json`` text, in the review's language."""
    return _render(review, "review", fmt, review.lang)


def render_agenda(agenda: OneOnOneAgenda, fmt: str = "md") -> str:
    """The 1on1 agenda as ``md``, ``html`` or ``json`` text, in the agenda's language."""
    return _render(agenda, "one_on_one", fmt, agenda.lang)


def review_sections(
    review: PeriodReview, *, accept_url: str | None = None, csrf_token: str | None = None
) -> str:
    """The review's sections as an HTML fragment (escaped, headings from ``h2`` down), in the
    review's language: KPIs, migration matrix, plan execution, forecast accuracy, meetings and
    the Act; with ``accept_url`` the recommendations get a button that posts there (with
    ``csrf_token``) to accept them as a new strategy version."""
    template = _environment(review.lang).get_template("_review_sections.html.j2")
    return template.render(
        r=review, accept_url=accept_url, csrf_token=csrf_token, **_context(review, review.lang)
    )


def agenda_sections(
    agenda: OneOnOneAgenda, account_link: Callable[[int], str] | None = None
) -> str:
    """The agenda's sections as an HTML fragment (escaped, headings from ``h2`` down), in the
    agenda's language; account names link to ``account_link(account_id)`` when given."""
    template = _environment(agenda.lang).get_template("_one_on_one_sections.html.j2")
    return template.render(r=agenda, account_link=account_link)
