"""Re-scoring as a background job (the Data page's button, ``/api/v1/jobs``): it runs in its own
process, reports its progress step by step, refuses a second job while one runs, records a
failure with its reason, and a job killed mid-run leaves the store as it was and is reported as
failed.

A small demo company (60 accounts) in its own SQLite store, so the new snapshots touch no other
test's store.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.api.conftest import TEST_SECRET, login

from tillage.config import Settings
from tillage.demo import DemoConfig, generate
from tillage.demo.users import create_demo_users
from tillage.errors import Busy
from tillage.server import create_app
from tillage.services.jobs import job_status, queue_job, reap, runner_id
from tillage.store.access import OPERATOR
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.store.schema import Snapshot
from tillage.store.work import Job

pytestmark = pytest.mark.slow
NOW = dt.datetime(2026, 10, 1, 9, 0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A 60-account demo company with the demo users, not scored yet."""
    data_dir = tmp_path_factory.mktemp("jobs")
    settings = Settings(data_dir=data_dir, language="en", secret_key=TEST_SECRET, _env_file=None)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    replace_all(engine, generate(DemoConfig(n_accounts=60, seed=3)).tables)
    create_demo_users(engine, now=NOW)
    engine.dispose()
    return settings


@pytest.fixture
def admin(store: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as client:
        login(client, "admin")
        yield client


def _snapshots(settings: Settings) -> int:
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(Snapshot))
    engine.dispose()
    return int(count or 0)


def _follow(client: TestClient, job_id: int, timeout: float = 300) -> list[dict]:
    """Poll the job's status route until it ends; every answer seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.get(f"/api/v1/jobs/{job_id}").json()
        seen.append(answer)
        if answer["state"] in ("done", "failed"):
            return seen
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not end: {seen[-1]}")


def test_the_button_starts_a_rescore_whose_progress_the_page_polls(
    admin: TestClient, store: Settings
) -> None:
    before = _snapshots(store)
    page = admin.get("/data")
    assert 'id="rescore"' in page.text and 'id="job-progress"' not in page.text
    assert 'id="stale" role="status" data-reason="none"' in page.text  # never scored
    csrf = admin.get("/api/v1/me").json()["csrf_token"]
    started = admin.post("/data/rescore", data={"csrf_token": csrf}, follow_redirects=False)
    assert started.status_code == 303
    job_id = int(started.headers["location"].split("job=")[1].split("#")[0])
    # while it runs the page shows the progress bar, and a second job is refused
    running = admin.get("/data")
    assert f'data-job="{job_id}"' in running.text and "<progress" in running.text
    again = admin.post("/api/v1/jobs", json={"kind": "rescore"}, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and again.json()["error"]["type"] == "Busy"
    seen = _follow(admin, job_id)
    final = seen[-1]
    assert final["state"] == "done", final
    assert final["progress"] == 1.0 and final["finished_at"] is not None
    assert final["user"] == "admin"
    # the progress moved through the scoring steps, never backwards
    steps = [s["step"] for s in seen if s["state"] == "running"]
    assert {"values", "signals", "write"} & set(steps)
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and 0 < max(p for p in progress if p < 1) < 1
    assert _snapshots(store) == before + 1
    assert 'id="stale"' not in admin.get("/data").text  # just scored
    assert admin.get("/api/v1/freshness").json()["stale"] is False
    snapshot = admin.get("/api/v1/snapshots").json()
    assert final["snapshot_id"] in {s["id"] for s in snapshot}
    listed = admin.get("/api/v1/jobs").json()
    assert listed[0]["id"] == job_id and listed[0]["state"] == "done"
    audit = admin.get("/api/v1/audit", params={"action": "job.start"}).json()
    assert audit["items"][0]["object_id"] == str(job_id)


def test_a_killed_job_leaves_the_store_as_it_was_and_is_reported(
    admin: TestClient, store: Settings
) -> None:
    before = _snapshots(store)
    csrf = admin.get("/api/v1/me").json()["csrf_token"]
    job = admin.post("/api/v1/jobs", json={}, headers={"X-CSRF-Token": csrf}).json()
    engine = make_engine(store.resolved_database_url)
    # wait until the scoring has started, then kill its process
    deadline = time.monotonic() + 120
    while admin.get(f"/api/v1/jobs/{job['id']}").json()["step"] in (None, "start"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with Session(engine) as session:
        runner = session.get(Job, job["id"]).runner
    os.kill(int(runner.rsplit(":", 1)[1]), signal.SIGKILL)
    final = _follow(admin, job["id"], timeout=120)[-1]
    assert final["state"] == "failed"
    assert final["failure"] in ("stopped", "interrupted")  # whichever noticed first
    assert "scores are as they were" in final["message"]
    assert _snapshots(store) == before  # nothing half-written
    page = admin.get("/data")
    assert f'data-job="{job["id"]}" data-state="failed"' in page.text
    # the next job may start
    with Session(engine) as session:
        assert queue_job(session, OPERATOR, kind="rescore", now=NOW).state == "queued"
        session.query(Job).filter(Job.state == "queued").update({"state": "failed"})
        session.commit()
    engine.dispose()


def test_a_job_whose_process_is_gone_is_failed_and_a_running_one_blocks(engine: Engine) -> None:
    with Session(engine) as session:
        job = queue_job(session, OPERATOR, kind="rescore", now=NOW)
        with pytest.raises(Busy, match="wait until it ends"):
            queue_job(session, OPERATOR, kind="rescore", now=NOW)
        # a runner on this host whose process no longer exists (a pid beyond the kernel's)
        job.runner = runner_id(2**22 + 1)
        session.commit()
        reap(session, NOW)
        gone = job_status(session, job.id, now=NOW)
        assert gone.state == "failed" and gone.failure == "interrupted"
        assert "interrupted" in (gone.message or "") and "stopped" in (gone.detail or "")
        # and the next job may start
        assert queue_job(session, OPERATOR, kind="rescore", now=NOW).state == "queued"


def test_a_failed_job_is_recorded_with_its_reason(engine: Engine, tmp_path: Path) -> None:
    from tillage.services.job_runner import run_job

    missing = tmp_path / "nightly" / "accounts.csv"
    settings = Settings(data_dir=tmp_path, language="en", schedule_import=missing, _env_file=None)
    with Session(engine) as session:
        job_id = queue_job(session, None, kind="scheduled", now=NOW).id
    assert run_job(engine, settings, job_id, clock=lambda: NOW) is False
    with Session(engine) as session:
        failed = job_status(session, job_id, now=NOW)
        assert session.scalar(select(func.count()).select_from(Snapshot)) == 0
    assert failed.state == "failed" and failed.finished_at == NOW
    assert "accounts.csv: no such file" in (failed.detail or "")
    assert failed.failure == "import" and "scheduled import failed" in (failed.message or "")
    assert failed.user is None  # the scheduler's


def test_after_an_import_the_page_offers_to_rescore(admin: TestClient) -> None:
    csrf = admin.get("/api/v1/me").json()["csrf_token"]
    checked = admin.post(
        "/data/validate",
        files={"file": ("teams.csv", b"key,name\nTEAM-JOBS-1,Jobs team\n")},
        data={"table": "teams", "csrf_token": csrf},
    )
    assert checked.status_code == 200
    token = checked.text.split('name="token" value="')[1].split('"')[0]
    done = admin.post(
        "/data/confirm", data={"token": token, "csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    page = admin.get(done.headers["location"]).text
    assert 'id="rescore-after-import"' in page and 'action="/data/rescore"' in page
    assert 'id="stale"' in page  # the import is newer than any scores
