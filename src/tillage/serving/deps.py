"""Request dependencies: settings, a database session per request, the user's language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.i18n import LANGUAGES


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A read session on the app's engine, closed after the request."""
    with request.app.state.sessions() as session:
        yield session


def get_language(
    request: Request,
    lang: Annotated[str | None, Query(description="Language: ja or en")] = None,
) -> str:
    """The language for this request: ``?lang=``, else the ``lang`` cookie, else the setting."""
    for candidate in (lang, request.cookies.get("lang")):
        if candidate in LANGUAGES:
            return candidate
    return request.app.state.settings.language


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
LanguageDep = Annotated[str, Depends(get_language)]
