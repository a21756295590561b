"""The dashboard in a real browser: the demo company served by ``tillage serve``, driven by
Playwright through Debian's Chromium (``/usr/bin/chromium``; ``scripts/test`` installs it and
``fonts-noto-cjk``; Playwright's own browser download is never used).

Once per run: ``tillage demo --no-serve`` builds a 300-account demo company with the demo users
in a temporary data directory (tests/once.py); per worker, ``tillage serve`` runs a copy of it on
a free localhost port.
Each user logs in once (:func:`logins`); :func:`page_as` opens a page already logged in, records
every request that leaves localhost (the test fails on any) and saves a screenshot to
``test-artifacts/screenshots/<test>.jpg`` when the test ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

import tillage
from tillage.demo.users import DEMO_PASSWORDS

from ..once import built_once

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
N_ACCOUNTS = 300
SEED = 7
SRC = Path(tillage.__file__).resolve().parents[1]  # the source tree under test
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEMO_ARGS = ["--accounts", str(N_ACCOUNTS), "--seed", str(SEED)]
RUN_CLI = "import sys; from tillage.cli.main import main; sys.argv[0] = 'tillage'; main()"
#: Limits of Playwright's waits (its defaults: 30 s for a page, 5 s for an expectation). Every
#: wait ends as soon as the page is ready; the limits only stop a page that hangs, and are wide
#: because pages take seconds of server time on a busy machine.
PAGE_LIMIT_MS = 120_000
EXPECT_LIMIT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _build_demo(folder: Path) -> None:
    """``tillage demo --no-serve`` with the demo users into the data folder ``folder``."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "TILLAGE_DATA_DIR": str(folder),
        "TILLAGE_LANGUAGE": "ja",
    }
    demo = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "demo", "--no-serve", *DEMO_ARGS],
        env=env,
        capture_output=True,
        text=True,
        # under a minute at low load; minutes on a busy machine. The limit only stops a hang, and
        # leaves the server's start room inside the first test's 600 s (pytest-timeout)
        timeout=480,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``tillage serve`` on a fresh demo company (stopped after the session).

    The demo is built once per run; each xdist worker that runs browser tests serves its own
    copy (tests/conftest.py splits the browser tests in two groups)."""
    data_dir = built_once(tmp_path_factory, "web", _build_demo)
    demo_dir = data_dir / "demo"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "TILLAGE_DATA_DIR": str(demo_dir),
        "TILLAGE_DATABASE_URL": f"sqlite:///{demo_dir / 'tillage.db'}",
        "TILLAGE_LANGUAGE": "ja",
        "TILLAGE_SECRET_KEY": (demo_dir / "secret_key").read_text().strip(),
    }
    port = _free_port()
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # polls until ready; the limit stops a hung server
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("tillage serve did not start: " + (data_dir / "serve.log").read_text())
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        expect.set_options(timeout=EXPECT_LIMIT_MS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def logins(server: str, browser: Browser) -> Callable[[str], dict]:
    """``logins(user)``: the browser storage state of a demo user, logged in through the form
    once per session."""
    states: dict[str, dict] = {}

    def state(user: str) -> dict:
        if user not in states:
            context = browser.new_context(base_url=server)
            page = context.new_page()
            page.goto("/login?lang=en")
            page.fill("#login", user)
            page.fill("#password", DEMO_PASSWORDS[user])
            page.click("form.login button[type=submit]")
            page.wait_for_url("**/portfolio")
            states[user] = context.storage_state()
            context.close()
        return states[user]

    return state


@pytest.fixture
def page_as(
    request: pytest.FixtureRequest, server: str, browser: Browser, logins: Callable[[str], dict]
) -> Iterator[Callable[[str | None], Page]]:
    """``page_as("rep")``: a page logged in as that demo user (None: anonymous). Fails the test
    if any request leaves localhost; saves a screenshot of the last page opened."""
    contexts = []
    pages: list[Page] = []
    outside: list[str] = []

    def make(user: str | None) -> Page:
        context = browser.new_context(
            base_url=server,
            storage_state=logins(user) if user else None,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(PAGE_LIMIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if urlsplit(r.url).hostname not in LOCAL_HOSTS and not r.url.startswith("data:")
                else None
            ),
        )
        pages.append(page)
        return page

    yield make
    if pages:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        # JPEG: half the time of a PNG of a whole page (0.33 against 0.72 s for the review)
        shot = SCREENSHOTS / f"{name}.jpg"
        pages[-1].screenshot(path=str(shot), full_page=True, type="jpeg", quality=80)
    for context in contexts:
        context.close()
    assert not outside, f"requests left localhost: {outside}"
