"""/api/v1/plans/marks: mark a planned action done or skipped with a note, or take the mark
back (:mod:`tillage.services.marks`): a rep their own accounts' actions, a manager those of their
reach, an admin any; audited. The marks show in ``/api/v1/plans`` (each action's ``mark`` and
``note``) and count in the review's plan execution."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from pydantic import BaseModel, Field

from tillage.services.marks import MarkOut, MarkStatus, mark_action
from tillage.serving.auth import CurrentUser, client_address, protected_router
from tillage.serving.deps import SessionDep, SettingsDep
from tillage.serving.errors import ErrorResponse

router = protected_router(prefix="/api/v1/plans/marks", tags=["plans"])


class MarkIn(BaseModel):
    """The action (``account`` id, ``month`` — any day of it — and ``action`` as the plan names
    it) and its new ``status``; a ``skipped`` action needs a ``note``."""

    account: int = Field(ge=1, le=2**31 - 1)
    month: dt.date
    action: str = Field(min_length=1, max_length=40)
    status: MarkStatus
    note: str | None = Field(default=None, max_length=2000)


@router.post(
    "",
    responses={404: {"model": ErrorResponse, "description": "No such account or planned action"}},
)
def post_mark(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentUser,
    body: MarkIn,
) -> MarkOut:
    """Mark a planned action done or skipped (with a note), or ``open`` to take the mark back."""
    return mark_action(
        session,
        principal,
        account=body.account,
        month=body.month,
        action=body.action,
        status=body.status,
        note=body.note,
        now=settings.now(),
        client=client_address(request),
    )
