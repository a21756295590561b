"""Language completeness: every page the admin, a manager and a rep can reach, and the API's
text fields, in Japanese, show no raw float (more decimals than any of tillage's formats: money
has none, percentages one, other figures at most two) and no snake_case code."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.browser  # needs the served demo company of tests/web/conftest.py

RAW_FLOAT = re.compile(r"(?<![\d.,])-?\d+\.\d{3,}")
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
BRIER = re.compile(r"(ブライアスコア|Brier)\s*\d\.\d{3}\s*\((基準|reference)\s*\d\.\d{3}\)")
SKIPPED_TAGS = {"script", "style", "code", "pre", "textarea", "template"}
MAX_PAGES = 45  # per role
MAX_PER_SHAPE = 3  # pages of one shape (/accounts/N) per role
HUMAN_KEYS = re.compile(r"reason|label|why|message|text|title|summary|note|agenda|name")
API_PATHS = [
    "/api/v1/accounts?limit=200",
    "/api/v1/portfolio",
    "/api/v1/plans",
    "/api/v1/kpis",
    "/api/v1/kpis/nrr/accounts",
    "/api/v1/deals",
]


class _Page(HTMLParser):
    """The visible text of a page (outside scripts, styles and code) and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self._skip += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(data.strip())


def problems_in(text: str) -> list[str]:
    """Raw floats and snake_case codes in a text meant for people (Brier scores are shown to
    three decimals on purpose)."""
    text = BRIER.sub("", text)
    return [f"raw float {m}" for m in RAW_FLOAT.findall(text)] + [
        f"code {m}" for m in SNAKE_CASE.findall(text)
    ]


def _shape(path: str) -> str:
    """Pages of one kind, crawled at most :data:`MAX_PER_SHAPE` times: ids alike, and every
    KPI's drill-down (/kpis/nrr/accounts, /kpis/grr/accounts) one kind."""
    return re.sub(r"\d+", "N", re.sub(r"^/kpis/[^/]+/accounts$", "/kpis/K/accounts", path))


def _crawl(client: httpx.Client) -> Iterator[tuple[str, str]]:
    """(url, visible text) of the pages reachable from the portfolio, in Japanese."""
    queue, seen, shapes = ["/portfolio"], set(), Counter()
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        key = parts.path + ("?" + parts.query if parts.query else "")
        if key in seen or shapes[_shape(parts.path)] >= MAX_PER_SHAPE:
            continue
        seen.add(key)
        shapes[_shape(parts.path)] += 1
        # the language joins the link's own query (``params=`` would replace it)
        response = client.get(url + ("&" if "?" in url else "?") + "lang=ja")
        assert response.status_code == 200, url
        page = _Page()
        page.feed(response.text)
        yield url, "\n".join(page.text)
        for href in page.links:
            target = urlsplit(href)
            if target.netloc or not target.path.startswith("/") or "lang=" in target.query:
                continue
            if target.path.startswith(("/static", "/api", "/login", "/logout")):
                continue
            if target.path.endswith((".csv", ".xlsx")) or "format=" in target.query:
                continue  # downloads (their vendor headers are the CRM's), not pages
            queue.append(target.path + ("?" + target.query if target.query else ""))


def _strings(value: object, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


@pytest.mark.parametrize("user", ["admin", "manager", "rep", "success", "marketing", "finance"])
def test_japanese_pages_and_api_texts_have_no_raw_floats_or_codes(
    server: str, logins: Callable[[str], dict], user: str
) -> None:
    cookies = {c["name"]: c["value"] for c in logins(user)["cookies"]}
    found: list[str] = []
    with httpx.Client(
        base_url=server, cookies=cookies, timeout=60, follow_redirects=True
    ) as client:
        pages = 0
        for url, text in _crawl(client):
            pages += 1
            found += [f"{url}: {p}" for p in problems_in(text)]
        assert pages >= 8  # the crawl reached the dashboard, not just one page
        listed = client.get("/api/v1/accounts", params={"limit": 3}).json()["items"]
        details = [f"/api/v1/accounts/{item['account_id']}" for item in listed]
        for path in API_PATHS + details:
            response = client.get(path, params={"lang": "ja"})
            if response.status_code in (403, 404):  # no plan in this scope; not this role's
                continue
            assert response.status_code == 200, path
            for key, text in _strings(response.json()):
                if HUMAN_KEYS.search(key):
                    found += [f"{path} {key}: {p}" for p in problems_in(text)]
                else:
                    found += [f"{path} {key}: {p}" for p in RAW_FLOAT.findall(text)]
    assert not found, f"{len(found)} problems, e.g.:\n" + "\n".join(sorted(set(found))[:40])


def test_the_checks_catch_what_they_look_for() -> None:
    assert problems_in("拡大見込み ￥1573.1987083697136") == ["raw float 1573.1987083697136"]
    assert problems_in("usage_down: -0.2857") == ["raw float -0.2857", "code usage_down"]
    assert problems_in("LTV ￥1,240万、解約リスク 12.5%、2026-10-01、0.75") == []
    assert problems_in("ブライアスコア 0.184 (基準 0.193)") == []
    assert problems_in("ブライアスコア 0.1843 (基準 0.193)") == [
        "raw float 0.1843",
        "raw float 0.193",
    ]
