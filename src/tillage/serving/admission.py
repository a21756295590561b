"""How many requests one server process works on at once: the others wait their turn, in order.

A route defined with ``def`` runs in anyio's thread pool (40 threads), and FastAPI serialises
its answer in a thread of the same pool. On a CPU-bound server, 40 threads taking turns with
the GIL serve the same requests as a few, each one slower and in no order, so the slowest
answers wait longest. :class:`Admission` lets ``limit`` requests in at a time (an asyncio
semaphore: first come, first served) and keeps the rest waiting on the event loop, where
waiting costs nothing. A request in progress holds at most one thread and one connection of
the pool at a time; with the pool holding more than ``limit`` connections
(:func:`tillage.store.database.engine_from_settings`) and the thread pool more than ``limit``
threads, no request waits on either.

Static files are not counted: they are read by the event loop, not a thread.

With several worker processes (``tillage serve --workers``), a kept-alive connection stays with
the process that accepted it: one process may come to hold most of the busy clients (a proxy's
few upstream connections, all of them) while another idles. Every
:data:`REQUESTS_PER_CONNECTION`-th answer on a connection therefore says ``Connection: close``
(as nginx's ``keepalive_requests`` does), and the client's next connection is spread again
(:mod:`tillage.cli.workers`: each worker listens on a socket of its own, and the kernel spreads
new connections over them).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNCOUNTED = ("/static/",)
"""Path prefixes served without waiting their turn."""
REQUESTS_PER_CONNECTION = 100
"""Answers on one kept-alive connection before it is closed (the client opens another)."""
CONNECTIONS_KEPT = 10_000
"""Connections whose answers are counted (the oldest forgotten first)."""


CLOSE = (b"connection", b"close")


class Admission:
    """ASGI middleware: at most ``limit`` HTTP requests in progress, the rest in line."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the semaphore's
        self._answered: OrderedDict[tuple[str, int], int] = OrderedDict()  # by client address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # a semaphore serves one loop
            self._slots, self._loop = asyncio.Semaphore(self.limit), loop
        async with self._slots:
            await self.app(scope, receive, self._closing(scope, send))

    def _closing(self, scope: Scope, send: Send) -> Send:
        """``send`` that adds ``Connection: close`` to the connection's last answer."""
        client = scope.get("client")
        if client is None:
            return send
        answered = self._answered.pop(tuple(client), 0) + 1
        if answered < REQUESTS_PER_CONNECTION:
            self._answered[tuple(client)] = answered
            if len(self._answered) > CONNECTIONS_KEPT:
                self._answered.popitem(last=False)
            return send

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), CLOSE]}
            await send(message)

        return closing
