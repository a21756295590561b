"""Requests in line (:class:`tillage.serving.admission.Admission`): at most ``limit`` at once,
first come first served, and no request left waiting for a thread or a connection when many
more arrive than the server works on."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.server import create_app
from tillage.serving.admission import Admission
from tillage.store.users import create_token, find_user

T = TypeVar("T")


def run_on_own_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` on a thread of its own: the browser tests' session-wide Playwright
    keeps an event loop running on the worker's main thread, where ``asyncio.run`` refuses."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


def _recording_app(log: list[tuple[str, int]], running: list[int]):
    """An ASGI app that notes when each request starts and ends and how many run at once."""

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        running[0] += 1
        running[1] = max(running[1], running[0])
        log.append(("start", int(scope["path"].rsplit("/", 1)[1])))
        await asyncio.sleep(0.01)
        running[0] -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def test_at_most_limit_requests_run_and_the_rest_wait_in_order() -> None:
    log: list[tuple[str, int]] = []
    running = [0, 0]  # now, most at once
    app = Admission(_recording_app(log, running), limit=3)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            tasks = []
            for number in range(12):
                tasks.append(asyncio.create_task(client.get(f"/{number}")))
                await asyncio.sleep(0)  # arrive in this order
            answers = await asyncio.gather(*tasks)
        return [answer.status_code for answer in answers]

    assert run_on_own_loop(main) == [200] * 12
    assert running[1] == 3
    assert [number for _event, number in log] == list(range(12))  # first come, first served


def test_static_files_do_not_wait_their_turn() -> None:
    running = [0, 0]
    app = Admission(_recording_app([], running), limit=1)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await asyncio.gather(*(client.get(f"/static/{n}") for n in range(5)))

    run_on_own_loop(main)
    assert running[1] == 5


@pytest.mark.parametrize("threads", [1, 2])
def test_many_more_requests_than_threads_all_get_answers(
    demo_settings: Settings, threads: int
) -> None:
    """60 requests at once on a server working on 1 or 2 (its pool holding 3 or 4 connections):
    every one answered, and every connection back in the pool after. Before the requests were
    put in line, a route waiting for a connection held a thread while the requests holding the
    connections waited for a thread to serialise their answers: the server stopped."""
    settings = demo_settings.model_copy(update={"server_threads": threads})
    app = create_app(settings)
    engine = app.state.engine
    with Session(engine) as session:
        _row, secret = create_token(
            session, find_user(session, "admin"), name="t", scopes=["read"], now=dt.datetime.now()
        )
        session.commit()
    paths = ["/api/v1/accounts?limit=20", "/api/v1/accounts?zone=A", "/api/v1/portfolio"]

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers, timeout=60
        ) as client:
            answers = await asyncio.wait_for(
                asyncio.gather(*(client.get(paths[n % len(paths)]) for n in range(60))),
                timeout=120,
            )
        return [answer.status_code for answer in answers]

    assert run_on_own_loop(main) == [200] * 60
    assert engine.pool.checkedout() == 0
    engine.dispose()
