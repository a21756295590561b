"""The plans page: its rep rows from a plan written out by hand, and in Chromium against the
demo company, what a manager and a rep see compared with /api/v1/plans for the same user."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tillage.i18n import format_money
from tillage.services.plans import PlannedAction, PlanOut, RepPlan
from tillage.services.snapshots import SnapshotOut
from tillage.web.plans import rep_rows, uplift_gain

MONTH = dt.date(2026, 10, 1)


def _action(rep_id: int, account_id: int, hours: float, uplift: float) -> PlannedAction:
    return PlannedAction(
        rep_id=rep_id,
        rep=f"Rep {rep_id}",
        month=MONTH,
        account_id=account_id,
        account=f"Account {account_id}",
        action="health_check",
        hours=hours,
        expected_uplift=uplift,
        must_do=False,
        products=None,
    )


def _plan() -> PlanOut:
    reps = [
        RepPlan(
            rep_id=1,
            rep="Ito",
            planned_hours=30.0,
            capacity_hours=120.0,
            uplift=900.0,
            naive_uplift=600.0,
        ),
        RepPlan(
            rep_id=2,
            rep=None,
            planned_hours=0.0,
            capacity_hours=0.0,
            uplift=0.0,
            naive_uplift=0.0,
        ),
    ]
    actions = [_action(1, 10, 20.0, 700.0), _action(1, 11, 10.0, 200.0), _action(9, 12, 4.0, 50.0)]
    return PlanOut(
        snapshot=SnapshotOut(id=1, as_of=dt.date(2026, 9, 30), label=None),
        month=MONTH,
        rep=None,
        actions=actions,
        reps=reps,
        uplift=900.0,
        naive_uplift=600.0,
        gap=0.01,
    )


def test_rep_rows_set_hours_against_capacity_and_plan_against_naive() -> None:
    rows = rep_rows(_plan())
    assert [r.rep_id for r in rows] == [1, 2, 9]
    ito, idle, extra = rows
    assert ito.use == pytest.approx(0.25)
    assert ito.gain == pytest.approx(300.0)
    assert [a.account_id for a in ito.actions] == [10, 11]
    assert idle.name == "#2" and idle.use is None and idle.actions == []
    # a rep holding actions but no allocation figures: totals of their actions, no capacity
    assert extra.name == "Rep 9" and extra.planned_hours == 4.0 and extra.uplift == 50.0
    assert extra.capacity_hours is None and extra.gain is None
    assert uplift_gain(_plan()) == pytest.approx(0.5)
    assert uplift_gain(_plan().model_copy(update={"naive_uplift": 0.0})) is None


@pytest.mark.browser
def test_a_manager_sees_the_team_plan_as_the_api_gives_it(page_as) -> None:
    page = page_as("manager")
    page.goto("/plans?lang=en")
    api = page.request.get("/api/v1/plans").json()
    assert api["rep"] is None and len(api["reps"]) > 1
    expect(page.locator("h1")).to_contain_text("Team plan")
    rows = page.locator("#reps tbody tr[data-rep]")
    shown = rows.evaluate_all("rows => rows.map(r => Number(r.dataset.rep))")
    assert shown == [r["rep_id"] for r in api["reps"]]
    for i, rep in enumerate(api["reps"]):
        cells = rows.nth(i).locator("td")
        expect(cells.nth(0)).to_have_text(rep["rep"])
        expect(cells.nth(1)).to_have_text(f"{rep['planned_hours']:,.1f}")
        expect(cells.nth(2)).to_have_text(f"{rep['capacity_hours']:,.1f}")
    actions = page.locator("#planned-actions tbody tr[data-account]")
    expect(actions).to_have_count(len(api["actions"]))  # the team's reps fit one page
    # suggested products by name, not as the stored records
    i, action = next((i, a) for i, a in enumerate(api["actions"]) if a["products"])
    products = actions.nth(i).locator("td").nth(4)
    for product in action["products"]:
        expect(products).to_contain_text(product["name"])
    expect(products).not_to_contain_text("product_id")
    expect(page.locator("#plan-uplift")).to_have_text(format_money(api["uplift"], "JPY", "en"))
    naive = format_money(api["naive_uplift"], "JPY", "en")
    expect(page.locator("#naive-uplift")).to_have_text(naive)
    page.wait_for_selector('[data-figure="capacity-figure"][data-rendered="true"]')
    bars = page.locator('[data-figure="capacity-figure"] .trace.bars')
    expect(bars).to_have_count(2)  # capacity and planned hours, one bar per rep each


@pytest.mark.browser
def test_a_rep_sees_only_their_own_plan(page_as) -> None:
    page = page_as("rep")
    page.goto("/plans?lang=en")
    api = page.request.get("/api/v1/plans").json()
    (own,) = api["reps"]
    expect(page.locator("h1")).to_contain_text(f"Plan of {own['rep']}")
    expect(page.locator("#reps")).to_have_count(0)  # no team table
    expect(page.locator('select[name="rep"]')).to_have_count(0)  # no rep picker
    reps = page.locator("#planned-actions tbody tr[data-rep]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.rep))"
    )
    assert len(reps) == len(api["actions"]) and set(reps) <= {own["rep_id"]}
    expect(page.locator("header nav")).not_to_contain_text("Review")
    # naming another rep of the team answers 404, as the API does
    team = page_as("manager").request.get("/api/v1/plans").json()["reps"]
    other = next(r["rep_id"] for r in team if r["rep_id"] != own["rep_id"])
    assert page.request.get("/api/v1/plans", params={"rep": str(other)}).status == 404
    response = page.goto(f"/plans?rep={other}&lang=en")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")


@pytest.mark.browser
def test_the_month_picker_offers_the_planned_months_and_a_month_without_one_says_so(
    page_as,
) -> None:
    page = page_as("admin")
    page.goto("/plans?lang=en")
    api = page.request.get("/api/v1/plans").json()
    offered = page.locator('select[name="month"] option').evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert api["month"][:7] in offered
    for month in offered:  # every month offered opens a plan
        assert page.request.get("/api/v1/plans", params={"month": month}).status == 200
    response = page.goto("/plans?month=2031-01&lang=en")
    assert response is not None and response.status == 404
    expect(page.locator("#no-plan")).to_contain_text("There is no plan for 2031-01")
    expect(page.locator("#no-plan")).not_to_contain_text("tillage score")
    expect(page.locator('select[name="month"] option')).to_have_count(len(offered))


@pytest.mark.browser
def test_the_admin_sees_the_plans_by_team_ten_reps_a_page(page_as) -> None:
    page = page_as("admin")
    page.goto("/plans?lang=en")
    api = page.request.get("/api/v1/plans").json()
    reps_with_actions = {a["rep_id"] for a in api["actions"]}
    seen: list[int] = []
    while True:
        shown = page.locator("details.rep-plan").evaluate_all(
            "ds => ds.map(d => Number(d.dataset.rep))"
        )
        assert 0 < len(shown) <= 10
        assert page.locator("#planned-actions h3.team").count() >= 1
        seen += shown
        following = page.locator("#planned-actions nav.pages a[rel=next]")
        if following.count() == 0:
            break
        following.click()
    assert len(seen) == len(set(seen))  # no rep on two pages
    assert reps_with_actions <= set(seen)
