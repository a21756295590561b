"""The app factory: the JSON API (:mod:`tillage.api`) and the dashboard pages (:mod:`tillage.web`)
mounted side by side, built by ``create_app(settings)``; nothing lives at module level.

The one module that imports both surfaces: ``api`` and ``web`` never import each other, and
share only :mod:`tillage.serving` (auth, request dependencies, the error shape)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tillage import __version__
from tillage.api import (
    accounts,
    audit,
    auth_routes,
    diffs,
    imports,
    jobs,
    kpis,
    marks,
    notes,
    overrides,
    plans,
    reviews,
    simulate,
    snapshots,
    strategy,
    users,
    views,
)
from tillage.config import Settings
from tillage.serving import etag
from tillage.serving.admission import Admission
from tillage.serving.errors import install_error_handlers
from tillage.store.database import engine_from_settings, session_factory
from tillage.store.users import unknown_login_hash
from tillage.timestamps import BusinessZoneMiddleware
from tillage.web import accounts as account_pages
from tillage.web import assets, one_on_one, pages, portfolio, security
from tillage.web import data as data_pages
from tillage.web import jobs as job_pages
from tillage.web import kpi_accounts as kpi_account_pages
from tillage.web import kpis as kpi_pages
from tillage.web import marks as mark_pages
from tillage.web import plans as plan_pages
from tillage.web import review as review_pages
from tillage.web import settings as settings_pages
from tillage.web import views as view_pages


def create_app(settings: Settings, *, freeze_heap: bool = False) -> FastAPI:
    """Build the tillage web application (JSON API and dashboard pages) for ``settings``.

    Refuses to start without ``secret_key`` (:class:`~tillage.errors.ConfigurationError`).
    ``freeze_heap`` (a server process): at start, what the process holds (modules, routes,
    compiled templates, lives as long as it does) is set aside (:func:`gc.freeze`), so the
    collector's full passes no longer scan it between requests (a pass over a big heap paused
    a request for 0.2-0.3 s); not for an app built in a process that goes on to other work.
    """
    settings.require_secret_key()
    engine = engine_from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        unknown_login_hash()  # the first unknown login then takes as long as the others
        if freeze_heap:
            gc.collect()
            gc.freeze()
        yield
        engine.dispose()  # close pooled connections when the server stops

    app = FastAPI(
        title="tillage", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    install_error_handlers(app, page=pages.error_page)
    etag.install(app)  # 304 Not Modified for If-None-Match on snapshot answers
    app.add_middleware(
        imports.UploadLimit,
        limit=settings.upload_limit_bytes,
        pages={data_pages.UPLOAD_PATH: data_pages.TOO_LARGE},
    )
    app.add_middleware(BusinessZoneMiddleware, zone=settings.zone)  # offsets of local times
    security.install(app)  # headers (no-store, CSP, frames), 500 page, /api/docs
    app.add_middleware(Admission, limit=settings.server_threads)  # outermost: requests in line
    app.include_router(auth_routes.public)
    app.include_router(auth_routes.router)
    app.include_router(accounts.router)
    app.include_router(snapshots.router)
    app.include_router(kpis.router)
    app.include_router(strategy.router)
    app.include_router(imports.router)
    app.include_router(jobs.router)
    app.include_router(jobs.freshness_router)
    app.include_router(users.router)
    app.include_router(audit.router)
    app.include_router(marks.router)
    app.include_router(plans.router)
    app.include_router(diffs.router)
    app.include_router(reviews.router)
    app.include_router(simulate.router)
    app.include_router(views.router)
    app.include_router(overrides.router)
    app.include_router(notes.router)
    app.include_router(pages.public)
    app.include_router(pages.router)
    app.include_router(portfolio.router)
    app.include_router(account_pages.router)
    app.include_router(data_pages.router)
    app.include_router(job_pages.router)
    app.include_router(settings_pages.router)
    app.include_router(plan_pages.router)
    app.include_router(mark_pages.router)
    app.include_router(kpi_pages.router)
    app.include_router(kpi_account_pages.router)
    app.include_router(review_pages.router)
    app.include_router(one_on_one.router)
    app.include_router(view_pages.router)
    app.include_router(assets.public)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    """The app for the settings in the environment (``TILLAGE_*``): the factory that each
    worker process of ``tillage serve --workers N`` calls (``tillage.server:app_from_env``)."""
    return create_app(Settings(), freeze_heap=True)
