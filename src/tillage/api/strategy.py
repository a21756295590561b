"""/api/v1/strategy: the strategy file in force, validation, and saving a new version (admins).

The strategy lives in the store as versions (``strategy_versions``, newest in force); before any
was saved the defaults apply. Text is checked with :func:`tillage.strategy.config.loads_strategy`
before it is stored, and each save is audit-logged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field

from tillage.api.auth_routes import UtcDatetime
from tillage.errors import ConfigurationError
from tillage.services.strategy import MAX_TEXT, check_strategy, save_strategy_text
from tillage.serving.auth import AdminRole, CurrentUser, client_address, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse
from tillage.store.strategies import (
    StrategyInfo,
    current_strategy,
    strategy_version,
    strategy_versions,
    text_hash,
)
from tillage.strategy.config_text import default_strategy_toml

router = protected_router(prefix="/api/v1/strategy", tags=["strategy"])


class StrategyText(BaseModel):
    """Strategy TOML to check or save (``comment``: why it changed, kept with the version)."""

    text: str = Field(max_length=MAX_TEXT)
    comment: str | None = Field(default=None, max_length=500)


class VersionOut(BaseModel):
    """A saved version without its text: when (UTC), by whom, why; ``sha256`` of the text."""

    id: int
    created_at: UtcDatetime
    created_by: str | None
    sha256: str
    comment: str | None

    @classmethod
    def of(cls, info: StrategyInfo) -> VersionOut:
        return cls(
            id=info.id,
            created_at=info.created_at,
            created_by=info.created_by,
            sha256=info.sha256,
            comment=info.comment,
        )


class StrategyOut(BaseModel):
    """The strategy in force: its text, the parsed values (every default filled in) and the
    version it comes from (``null``: nothing saved yet, the defaults apply)."""

    version: VersionOut | None
    sha256: str
    text: str
    strategy: dict[str, Any]


class VersionText(VersionOut):
    """A saved version with its text."""

    text: str


class Validation(BaseModel):
    """Whether the text is a valid strategy: ``message`` names each field at fault."""

    valid: bool
    message: str | None
    strategy: dict[str, Any] | None


def _out(text: str, info: StrategyInfo | None) -> StrategyOut:
    return StrategyOut(
        version=None if info is None else VersionOut.of(info),
        sha256=text_hash(text),
        text=text,
        strategy=check_strategy(text).model_dump(mode="json"),
    )


@router.get("")
def get_strategy(session: SessionDep) -> StrategyOut:
    """The strategy in force (the newest saved version, else the commented defaults)."""
    info = current_strategy(session)
    return _out(default_strategy_toml() if info is None else info.text, info)


@router.post("/validate")
def validate_strategy(body: StrategyText) -> Validation:
    """Check strategy TOML without saving it; an invalid text is a normal answer (200)."""
    try:
        parsed = check_strategy(body.text)
    except ConfigurationError as exc:
        return Validation(valid=False, message=str(exc), strategy=None)
    return Validation(valid=True, message=None, strategy=parsed.model_dump(mode="json"))


@router.put("", dependencies=[AdminRole])
def put_strategy(
    request: Request, session: SessionDep, principal: CurrentUser, body: StrategyText
) -> StrategyOut:
    """Save a new version (admins); an invalid text is refused with 422 and nothing is saved.
    Scoring runs after this use it."""
    info = save_strategy_text(
        session, principal, body.text, body.comment, client=client_address(request)
    )
    return _out(info.text, info)


@router.get("/versions")
def get_versions(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[VersionOut]:
    """Saved versions, newest first (the edit history)."""
    return [VersionOut.of(v) for v in strategy_versions(session, limit=limit)]


@router.get("/versions/{version_id}", responses={404: {"model": ErrorResponse}})
def get_version(
    session: SessionDep, version_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> VersionText:
    """One saved version with its text."""
    info = strategy_version(session, version_id)
    return VersionText(**VersionOut.of(info).model_dump(), text=info.text)
