"""Times in API answers as RFC 3339 date-times, with their offset.

The store keeps times without a zone, in one of two clocks: the import log, the snapshots, the
jobs, the plan marks and the CRM's activities in the business time zone's wall clock
(:meth:`tillage.config.Settings.now`; the activities as the CRM exported them), the users,
tokens, notes, overrides and audit log in UTC (:func:`tillage.store.users.utcnow`). An answer's
``date-time`` (OpenAPI, RFC 3339) must name its offset, or a client cannot tell the two apart
and a schema check refuses it. :data:`UtcTimestamp` writes a naive time as UTC;
:data:`LocalTimestamp` with the business time zone that the server sets for each request
(:func:`business_zone`; a naive time is written as it is where no zone is set, e.g. outside a
request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

__all__ = ["BusinessZoneMiddleware", "LocalTimestamp", "UtcTimestamp", "business_zone"]

_ZONE: ContextVar[ZoneInfo | None] = ContextVar("tillage_business_zone", default=None)


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)


def _utc_text(value: dt.datetime) -> str:
    return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value).isoformat()


def _naive_wall(value: dt.datetime) -> dt.datetime:
    # the wall time as written: read back in the zone it was written in, it is the kept value
    return value.replace(tzinfo=None)


def _local_text(value: dt.datetime) -> str:
    zone = _ZONE.get()
    if value.tzinfo is None and zone is not None:
        value = value.replace(tzinfo=zone)
    return value.isoformat()


_DATE_TIME = WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")

UtcTimestamp = Annotated[
    dt.datetime,
    AfterValidator(_naive_utc),
    PlainSerializer(_utc_text, return_type=str, when_used="json"),
    _DATE_TIME,
]
"""A time kept in UTC without a zone: naive in Python, answered with its ``+00:00``."""

LocalTimestamp = Annotated[
    dt.datetime,
    AfterValidator(_naive_wall),
    PlainSerializer(_local_text, return_type=str, when_used="json"),
    _DATE_TIME,
]
"""A time kept in the business time zone's wall clock: naive in Python, answered with that
zone's offset (read back from such an answer, e.g. the page cache, it is the same wall time)."""


@contextmanager
def business_zone(zone: ZoneInfo) -> Iterator[None]:
    """Within: :data:`LocalTimestamp` values are answered in ``zone``."""
    token = _ZONE.set(zone)
    try:
        yield
    finally:
        _ZONE.reset(token)


class BusinessZoneMiddleware:
    """ASGI middleware: every request is answered with the business time zone ``zone``."""

    def __init__(self, app: Any, zone: ZoneInfo) -> None:
        self.app = app
        self.zone = zone

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with business_zone(self.zone):
            await self.app(scope, receive, send)
