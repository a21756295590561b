"""Request dependencies: settings, a database session per request, the user's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.i18n import LANGUAGES
from tillage.store.page_cache import REQUEST


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A read session on the app's engine, closed as soon as the route's function returns.

    Opened and closed on the event loop, not in the thread pool: opening takes no connection
    (the first statement, in the route's thread, does), and closing hands the connection back
    to the pool with one short rollback. Closed when the route's function returns
    (``scope="function"`` in :data:`SessionDep`), not after the answer is sent. The session of a
    web request reads the store version once (``REQUEST``, :func:`store_version`).
    """
    session = request.app.state.sessions()
    session.info[REQUEST] = True
    try:
        yield session
    finally:
        session.close()


def language_of(request: Request, lang: str | None = None) -> str:
    """The language for this request: ``lang`` (``?lang=``), else the ``lang`` cookie, else the
    setting."""
    for candidate in (lang, request.cookies.get("lang")):
        if candidate in LANGUAGES:
            return candidate
    return request.app.state.settings.language


async def get_language(
    request: Request,
    lang: Annotated[str | None, Query(description="Language: ja or en")] = None,
) -> str:
    """The request's language (:func:`language_of`), as a dependency."""
    return language_of(request, lang)


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
LanguageDep = Annotated[str, Depends(get_language)]
