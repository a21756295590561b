"""Marking a planned action from the plans page or the account page: the form posts here (as
``POST /api/v1/plans/marks``, :func:`tillage.services.marks.mark_action`) and the browser goes
back to the page it came from."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from tillage.services.marks import MarkStatus, mark_action
from tillage.serving.auth import CurrentUser, client_address, protected_router
from tillage.serving.deps import SessionDep, SettingsDep

router = protected_router(include_in_schema=False)


def back_to(path: str) -> str:
    """``path`` if it is a page of this site (``/…``, not ``//host``), else the plans page."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/plans"


@router.post("/plans/mark")
def mark_from_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentUser,
    account: Annotated[int, Form(ge=1, le=2**31 - 1)],
    month: Annotated[dt.date, Form()],
    action: Annotated[str, Form(min_length=1, max_length=40)],
    status: Annotated[MarkStatus, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/plans",
) -> RedirectResponse:
    """Mark the action (done, skipped with a note, or open again), then back to ``back``."""
    mark_action(
        session,
        principal,
        account=account,
        month=month,
        action=action,
        status=status,
        note=note,
        now=settings.now(),
        client=client_address(request),
    )
    return RedirectResponse(back_to(back), status_code=303)
