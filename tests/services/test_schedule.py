"""Scheduled import and re-scoring (``tillage worker``): when a run is due, and a failed run
recorded on the Data page's jobs and mailed through a real SMTP server (aiosmtpd on localhost),
logging in with the password from the environment."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.store_rows import record_import

import tillage
from tillage.services.schedule import next_run
from tillage.store.database import make_engine, migrate
from tillage.store.schema import Snapshot
from tillage.store.strategies import save_strategy
from tillage.store.work import Job

SRC = Path(tillage.__file__).resolve().parents[1]
RUN_CLI = "import sys; from tillage.cli.main import main; sys.argv[0] = 'tillage'; main()"
SCORED = dt.datetime(2026, 10, 1, 9, 0)


def test_the_next_run_follows_the_schedule(engine: Engine) -> None:
    assert next_run(engine, SCORED) == SCORED  # never scored: due now
    with Session(engine) as session:
        session.add(Snapshot(as_of=dt.date(2026, 9, 30), created_at=SCORED, status="complete"))
        session.commit()
    # stale 7 days after 09:00 on 1 October; the first 2 o'clock after that
    assert next_run(engine, SCORED) == dt.datetime(2026, 10, 9, 2, 0)
    with Session(engine) as session:
        save_strategy(session, "[schedule]\nrescore_every_days = 1\nat_hour = 23\n", now=SCORED)
        session.commit()
    assert next_run(engine, SCORED) == dt.datetime(2026, 10, 2, 23, 0)
    with Session(engine) as session:  # an import after the scores: stale from then
        record_import(session, dt.datetime(2026, 10, 1, 12, 0))
        finished = dt.datetime(2026, 10, 1, 23, 30)
        session.add(
            Job(kind="scheduled", state="failed", created_at=finished, finished_at=finished)
        )
        session.commit()
    # due at 23:00 on 1 October, but a run failed at 23:30: not again before an hour later
    assert next_run(engine, SCORED) == dt.datetime(2026, 10, 2, 0, 30)


class _Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_failed_scheduled_run_is_recorded_and_mailed(tmp_path: Path) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server, session, envelope, mechanism, data) -> AuthResult:  # type: ignore[no-untyped-def]
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret-from-env")

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    url = f"sqlite:///{tmp_path / 'tillage.db'}"
    engine = make_engine(url)
    migrate(engine)  # never scored: the run is due at once
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "TILLAGE_DATA_DIR": str(tmp_path),
        "TILLAGE_DATABASE_URL": url,
        "TILLAGE_LANGUAGE": "en",
        "TILLAGE_SCHEDULE_IMPORT": str(tmp_path / "drop" / "nightly.zip"),  # not delivered
        "TILLAGE_SMTP_HOST": "127.0.0.1",
        "TILLAGE_SMTP_PORT": str(port),
        "TILLAGE_SMTP_USER": "tillage",
        "TILLAGE_SMTP_PASSWORD": "s3cret-from-env",
        "TILLAGE_MAIL_FROM": "tillage@example.test",
        "TILLAGE_NOTIFY_TO": "ops@example.test, sales-ops@example.test",
    }
    try:
        run = subprocess.run(
            [sys.executable, "-c", RUN_CLI, "worker", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        controller.stop()
    assert run.returncode == 1, run.stdout + run.stderr
    assert "failed" in run.stderr and "nightly.zip" in run.stderr
    with Session(engine) as session:
        job = session.scalars(select(Job)).one()
        assert (job.kind, job.state, job.user_login) == ("scheduled", "failed", None)
        assert "nightly.zip: no such file" in (job.message or "")
        assert session.scalars(select(Snapshot)).all() == []
    engine.dispose()
    assert logins == [(b"tillage", b"s3cret-from-env")]
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "tillage@example.test"
    assert sorted(envelope.rcpt_tos) == ["ops@example.test", "sales-ops@example.test"]
    mail = message_from_bytes(envelope.original_content or b"")
    assert mail["Subject"] == f"[tillage] scheduled job {job.id} failed"
    assert "nightly.zip: no such file" in mail.get_payload(decode=True).decode()
