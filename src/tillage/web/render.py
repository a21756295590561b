"""Jinja2 rendering with the message catalogs: one environment per language."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Callable, Sequence
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel

from tillage import __version__
from tillage.i18n import LANGUAGES, format_money, format_number, translations
from tillage.inert import csv_row
from tillage.services.freshness import Freshness, freshness
from tillage.services.jobs import JobOut, running_job
from tillage.serving.scope import menu_for
from tillage.store.access import Principal

TEMPLATES_DIR = Path(__file__).with_name("templates")
LANG_COOKIE_AGE = 365 * 24 * 3600  # seconds


def _json_script(value: Any) -> Markup:
    """``value`` as JSON safe inside a ``<script>`` element (no ``</script>`` can close it)."""
    text = json.dumps(value, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return Markup(text)


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
    env.globals["version"] = __version__
    env.filters["number"] = lambda v, digits=0: format_number(v, lang, digits=digits)
    env.filters["money"] = lambda v, currency, compact=False: format_money(
        v, currency, lang, compact=compact
    )
    env.filters["percent"] = lambda v, digits=0: format_number(100 * v, lang, digits=digits) + "%"
    env.filters["json_script"] = _json_script
    return env


def local_clock(zone: tzinfo) -> Callable[[dt.datetime], str]:
    """A template helper: a stored UTC time (naive, as the store keeps them) as
    ``YYYY-MM-DD HH:MM`` in the business time zone ``zone``."""

    def show(moment: dt.datetime) -> str:
        return moment.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return show


def render(lang: str, template: str, **context: object) -> str:
    """Render ``template`` in ``lang`` with ``context``."""
    return environment(lang).get_template(template).render(**context)


def language_links(request: Request) -> dict[str, str]:
    """This page in each language: the same path and query with ``lang`` replaced."""
    links = {}
    for code in LANGUAGES:
        query = urlencode({**request.query_params, "lang": code})
        links[code] = f"{request.url.path}?{query}"
    return links


FRESHNESS_SECONDS = 5.0
"""How long a server process reuses its answer to "are the scores stale?" between pages."""


def stale_scores(request: Request) -> tuple[Freshness, JobOut | None]:
    """The freshness of the scores for the banner of every page (:mod:`tillage.services.freshness`)
    and, when they are stale, the re-score under way (its progress replaces the banner's offer
    to re-score); asked of the store at most every :data:`FRESHNESS_SECONDS` seconds per app
    (:func:`forget_freshness` clears it)."""
    state = request.app.state
    cached = getattr(state, "freshness", None)
    if cached is not None and time.monotonic() < cached[0]:
        return cached[1], cached[2]
    now = dt.datetime.now(state.settings.zone).replace(tzinfo=None)
    found = freshness(state.engine, now)
    job = running_job(state.engine) if found.stale else None
    state.freshness = (time.monotonic() + FRESHNESS_SECONDS, found, job)
    return found, job


def forget_freshness(request: Request) -> None:
    """Make the next page ask the store again whether the scores are stale (a job started)."""
    request.app.state.freshness = None


def page(
    request: Request, lang: str, template: str, principal: Principal | None, **context: object
) -> HTMLResponse:
    """A dashboard page in ``lang`` for ``principal``; remembers the language in a cookie.
    A logged-in user's page says when the scores are stale (:func:`stale_scores`)."""
    stale, job = stale_scores(request) if principal is not None else (None, None)
    html = render(
        lang,
        template,
        user=principal,
        menu=menu_for(principal.role) if principal else [],
        lang_links=language_links(request),
        path=request.url.path,
        stale=stale,
        stale_job=job,
        **context,
    )
    response = HTMLResponse(html)
    response.set_cookie("lang", lang, samesite="lax", httponly=True, max_age=LANG_COOKIE_AGE)
    return response


PageData = Annotated[
    Literal["html", "json"],
    Query(description="html (the page) or json (the page's data: its /api/v1 twin's answer)"),
]
"""The ``?format=`` of a page that is the twin of an API route."""


def data_response(answer: BaseModel) -> JSONResponse:
    """The page's data as JSON: the service's answer, exactly as its API route returns it."""
    return JSONResponse(answer.model_dump(mode="json"))


PageTable = Annotated[
    Literal["html", "json", "csv"],
    Query(
        description="html (the page), json (the page's data: its /api/v1 twin's answer) or "
        "csv (the page's table, one row per item of that answer)"
    ),
]
"""The ``?format=`` of a page that is the twin of an API route and shows a table."""


def _csv_value(value: Any) -> Any:
    """A field of the JSON answer as one CSV cell: lists and objects as their JSON text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def table_response(rows: Sequence[BaseModel], model: type[BaseModel], name: str) -> Response:
    """The page's table as a CSV download ``name``: one row per item of the API's answer, its
    fields as the columns in the model's order, values as the JSON answer has them. UTF-8 with a
    BOM (Excel reads Japanese), and text that looks like a formula stays text."""
    columns = list(model.model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        values = row.model_dump(mode="json")
        writer.writerow(csv_row(_csv_value(values[c]) for c in columns))
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def data_links(request: Request, *, table: bool) -> dict[str, str]:
    """This page's data as ``json`` (and ``csv``): its path and query with ``format`` set."""
    formats = ("json", "csv") if table else ("json",)
    return {
        f: f"{request.url.path}?{urlencode({**request.query_params, 'format': f})}" for f in formats
    }
