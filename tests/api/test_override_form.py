"""The account page's override form names the cells in the page's language: a Japanese admin
picks 育成 from a list instead of typing the code ``nurture``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient


def test_the_cell_is_picked_by_its_name(client_as: Callable[[str | None], TestClient]) -> None:
    admin = client_as("admin")
    accounts = admin.get("/api/v1/accounts", params={"limit": 1}).json()
    first = (accounts["items"] if isinstance(accounts, dict) else accounts)[0]
    page = admin.get(f"/accounts/{first['account_id']}", params={"lang": "ja"})
    assert page.status_code == 200
    form = page.text[page.text.index('id="pin-cell"') :]
    form = form[: form.index("</form>")]
    names = {"deepen": "深耕", "maintain": "維持", "nurture": "育成", "reduce": "縮小"}
    for code, name in names.items():
        assert f'value="{code}"' in form and f">{name}</option>" in form
    assert "deepen / 90" not in page.text  # no code to type
    assert 'id="pin-priority"' in page.text
