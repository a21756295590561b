"""A failed background job speaks the user's language, and the stale banner follows a re-score
that is under way instead of offering a second one.

A failed job names what failed in a sentence of the user's language (``message``), with the
error's own technical text as ``detail``, on the Data page and in ``/api/v1/jobs/{id}``. While a
job runs, every page's stale banner shows its progress (no "re-score" link). A migrated empty
SQLite store with the demo users: fast, no scoring runs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.api.conftest import TEST_SECRET, login

from tillage.config import Settings
from tillage.demo.users import DEMO_PASSWORDS
from tillage.server import create_app
from tillage.services.job_text import failure_parts, failure_sentence, failure_text
from tillage.services.jobs import finish_job, queue_job, reap, runner_id, set_progress
from tillage.store.access import OPERATOR
from tillage.store.database import make_engine, migrate
from tillage.store.users import create_user
from tillage.store.work import Job

NOW = dt.datetime(2026, 10, 1, 9, 0)
DETAIL = "FileNotFoundError: nightly/accounts.csv: no such file or directory"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    settings = Settings(data_dir=tmp_path, language="ja", secret_key=TEST_SECRET, _env_file=None)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    with Session(engine) as session:
        create_user(
            session,
            login="admin",
            display_name="管理者",
            role="admin",
            password=DEMO_PASSWORDS["admin"],
            now=NOW,
        )
        session.commit()
    yield settings, engine
    engine.dispose()


def _failed(engine: Engine, what: str, detail: str = DETAIL) -> int:
    with Session(engine) as session:
        job_id = queue_job(session, OPERATOR, kind="rescore", now=NOW).id
    set_progress(engine, job_id, progress=0.4, step="signals")
    finish_job(engine, job_id, now=NOW, error=failure_text(what, detail))
    return job_id


def test_a_failure_is_stored_with_what_failed_and_read_back() -> None:
    assert failure_parts(failure_text("signals", "boom\nline 2")) == ("signals", "boom\nline 2")
    assert failure_parts("an old message, written before") == (
        None,
        "an old message, written before",
    )
    assert failure_parts(None) == (None, None)
    # every kind of failure has a Japanese sentence, none of them the English one
    for what in ("interrupted", "stopped", "import", "start", "values", "write", None, "odd"):
        ja, en = failure_sentence(what, "ja"), failure_sentence(what, "en")
        assert ja != en and not re.search(r"[A-Za-z]{3,}", ja), (what, ja)
    assert "「リスクの兆候を読み取り中」" in failure_sentence("signals", "ja")


def test_the_api_and_the_data_page_say_what_failed_in_the_users_language(
    store: tuple[Settings, Engine],
) -> None:
    settings, engine = store
    job_id = _failed(engine, "signals")
    with TestClient(create_app(settings)) as client:
        login(client, "admin")
        ja = client.get(f"/api/v1/jobs/{job_id}", params={"lang": "ja"}).json()
        en = client.get(f"/api/v1/jobs/{job_id}", params={"lang": "en"}).json()
        assert ja["state"] == "failed" and ja["failure"] == "signals"
        assert ja["detail"] == DETAIL and en["detail"] == DETAIL
        assert ja["message"] == failure_sentence("signals", "ja")
        assert "Reading risk signals" in en["message"] and "FileNotFoundError" not in en["message"]
        assert not re.search(r"[A-Za-z]{3,}", ja["message"])
        listed = client.get("/api/v1/jobs", params={"lang": "ja"}).json()
        assert listed[0]["message"] == ja["message"]
        page = client.get("/data", params={"lang": "ja"}).text
        row = page.split(f'<tr data-job="{job_id}" data-state="failed">')[1].split("</tr>")[0]
        assert failure_sentence("signals", "ja") in row
        assert "技術的な詳細" in row and "nightly/accounts.csv" in row  # the detail, folded


def test_a_job_whose_process_is_gone_says_so_in_japanese(store: tuple[Settings, Engine]) -> None:
    _settings, engine = store
    with Session(engine) as session:
        job = queue_job(session, OPERATOR, kind="rescore", now=NOW)
        job.runner = runner_id(2**22 + 1)  # a process number beyond the kernel's: gone
        session.commit()
        reap(session, NOW)
        row = session.get(Job, job.id)
        assert failure_parts(row.message)[0] == "interrupted"


def test_the_stale_banner_shows_the_running_rescore_instead_of_offering_one(
    store: tuple[Settings, Engine],
) -> None:
    settings, engine = store
    with TestClient(create_app(settings)) as client:
        login(client, "admin")
        idle = client.get("/data", params={"lang": "ja"}).text
        banner = idle.split('id="stale"')[1].split("</div>")[0]
        assert 'href="/data#jobs">データ画面で再スコア</a>' in banner
        assert 'id="stale-job"' not in banner
        with Session(engine) as session:
            job_id = queue_job(session, OPERATOR, kind="rescore", now=NOW).id  # this process
        set_progress(engine, job_id, progress=0.45, step="signals")
        client.app.state.freshness = None  # the banner's 5-second memory
        for path in ("/data", "/settings/users"):
            running = client.get(path, params={"lang": "ja"}).text
            banner = running.split('id="stale"')[1].split("</div>")[0]
            assert f'id="stale-job" data-job="{job_id}"' in banner, path
            assert "45%" in banner and "再スコアを実行中" in banner
            assert "データ画面で再スコア</a>" not in banner  # no second job offered
            assert "/static/banner.js" in running
        # a second job is refused while this one runs
        csrf = client.get("/api/v1/me").json()["csrf_token"]
        again = client.post("/api/v1/jobs", json={}, headers={"X-CSRF-Token": csrf})
        assert again.status_code == 409
        finish_job(engine, job_id, now=NOW, snapshot_id=None, error=failure_text("write", "x"))
        client.app.state.freshness = None
        after = client.get("/data", params={"lang": "ja"}).text
        assert 'id="stale-job"' not in after and "/static/banner.js" not in after
