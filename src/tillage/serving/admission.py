"""How many requests one server process works on at once: the others wait their turn, in order.

A route defined with ``def`` runs in anyio's thread pool (40 threads), and FastAPI serialises
its answer in a thread of the same pool. On a CPU-bound server, 40 threads taking turns with
the GIL serve the same requests as a few, each one slower and in no order, so the slowest
answers wait longest. :class:`Admission` lets ``limit`` requests in at a time (an asyncio
semaphore: first come, first served) and keeps the rest waiting on the event loop, where
waiting costs nothing. A request in progress holds at most one thread and one connection of
the pool at a time; with the pool holding ``limit`` connections and the thread pool more than
``limit`` threads, no request waits on either (:func:`tillage.store.database.engine_from_settings`).

Static files are not counted: they are read by the event loop, not a thread.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

UNCOUNTED = ("/static/",)
"""Path prefixes served without waiting their turn."""


class Admission:
    """ASGI middleware: at most ``limit`` HTTP requests in progress, the rest in line."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the semaphore's

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # a semaphore serves one loop
            self._slots, self._loop = asyncio.Semaphore(self.limit), loop
        async with self._slots:
            await self.app(scope, receive, send)
