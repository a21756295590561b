"""Re-scoring from the Data page in Chromium: the button starts the job, the progress bar moves
as the page polls the job's status, and when the job ends the page lists it as done; the stale
banner is gone then. Screenshots at phone and desktop widths while it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
JOB_LIMIT_MS = 480_000


@pytest.mark.browser
def test_the_progress_bar_follows_a_rescore_to_its_end(page_as) -> None:
    page = page_as("admin")
    page.goto("/data?lang=ja")
    before = page.request.get("/api/v1/jobs").json()
    with page.expect_navigation():
        page.click("#rescore")
    bar = page.locator("#job-bar")
    expect(bar).to_be_visible()
    # the bar moves while the job runs (the page polls GET /api/v1/jobs/{id}); the wait ends when
    # it does, the limit only stops a job that hangs (the first step takes minutes under load)
    page.wait_for_function(
        "() => { const b = document.getElementById('job-bar'); return b && b.value > 0; }",
        timeout=JOB_LIMIT_MS,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"data-rescore-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    # the job ends, the page reloads and lists it as done
    job = page.request.get("/api/v1/jobs").json()[0]
    assert job["id"] not in {j["id"] for j in before}
    done = page.locator(f'#job-history tr[data-job="{job["id"]}"]')
    expect(done).to_have_attribute("data-state", "done", timeout=JOB_LIMIT_MS)
    assert page.locator("#job-progress").count() == 0
    assert page.locator("#stale").count() == 0
