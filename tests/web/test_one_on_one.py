"""The 1on1 pages in Chromium against the demo company: a rep's agenda as the API gives it,
the manager's picker, and another rep's agenda refused with the API's 404."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tillage.web.one_on_one import agenda_link

pytestmark = pytest.mark.browser


def test_a_rep_opens_their_own_agenda(page_as) -> None:
    page = page_as("rep")
    page.goto("/one-on-one?lang=en")  # a rep's picker goes straight to their own agenda
    me = page.request.get("/api/v1/me").json()["user"]
    page.wait_for_url(f"**{agenda_link(me['rep_key'])}")
    agenda = page.request.get(f"/api/v1/one-on-one/{me['rep_key']}").json()
    expect(page.locator("h1")).to_contain_text(agenda["rep"])
    top = page.locator("#agenda-top tbody tr[data-account]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.account))"
    )
    assert top == [a["account_id"] for a in agenda["top_accounts"]]
    expect(page.locator("#agenda-deals tbody tr")).to_have_count(len(agenda["deals"]))
    expect(page.locator("#agenda-questions li")).to_have_count(len(agenda["questions"]))
    expect(page.locator("#agenda-behaviour tbody tr")).to_have_count(len(agenda["behaviour"]))
    # account names lead to the account pages
    first = page.locator("#agenda-top tbody a").first
    first.click()
    page.wait_for_url(f"**/accounts/{top[0]}")


def test_another_reps_agenda_is_not_found(page_as) -> None:
    manager = page_as("manager")
    manager.goto("/one-on-one?lang=en")
    keys = manager.locator("ul.reps a[data-rep]").evaluate_all(
        "links => links.map(a => a.dataset.rep)"
    )
    rep2 = page_as("rep2").request.get("/api/v1/me").json()["user"]["rep_key"]
    assert keys and rep2 not in keys  # the picker lists the manager's reps only
    page = page_as("rep")
    own = page.request.get("/api/v1/me").json()["user"]["rep_key"]
    other = next(k for k in keys if k != own)
    assert page.request.get(f"/api/v1/one-on-one/{other}").status == 404
    response = page.goto(f"{agenda_link(other)}?lang=en")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
