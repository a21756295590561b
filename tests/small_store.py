"""A small scored demo company for the CLI tests that run ``tillage`` in a subprocess: built once
per test run (``small_scored_store`` in tests/conftest.py), each module working on its own copy.

100 accounts (seed 3, 6 reps), scored twice a quarter apart; its first account is named
:data:`LONG_NAME` (a long name ending in a separate token, 「… 2」, which a wrapping table put on a
second line that read like an empty row) and has the four notes :data:`NOTES`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tillage.services.scoring import run_scoring
from tillage.store.records import AccountNote
from tillage.store.schema import Account, Rep

from .scored_demo import load_demo

LONG_NAME = "株式会社三浦トレーディングサービスホールディングス 2"
NOTES = [f"引き継ぎメモ{i}：決裁者は購買部長" for i in range(1, 5)]  # the 4th is the newest


def build_small_store(folder: Path) -> None:
    """Write the store (``t.db``) and its first account's owner (``owner.json``) into ``folder``."""
    company, engine, _url = load_demo(folder / "t.db", 100, 3, 6)
    with Session(engine) as session:
        top = session.scalars(select(Account).order_by(Account.id)).first()
        assert top is not None
        session.execute(update(Account).where(Account.id == top.id).values(name=LONG_NAME))
        for i, text in enumerate(NOTES):
            when = dt.datetime(2026, 9, 1 + i, 10, 0)
            session.add(
                AccountNote(
                    account_id=top.id,
                    author_login="success",
                    text=text,
                    created_at=when,
                    updated_at=when,
                )
            )
        owner = session.get(Rep, top.owner_id).key
        session.commit()
    as_of = company.config.as_of
    run_scoring(engine, as_of - dt.timedelta(days=91), created_at=dt.datetime(2026, 7, 1, 6, 0))
    run_scoring(engine, as_of, created_at=dt.datetime(2026, 10, 1, 6, 0))
    engine.dispose()
    (folder / "owner.json").write_text(json.dumps(owner), encoding="utf-8")


def small_store_copy(source: Path, folder: Path) -> tuple[str, Path, str]:
    """A private copy of the store built in ``source``, in ``folder``: its URL, the folder (a
    data folder) and the rep key of its first account's owner."""
    shutil.copy(source / "t.db", folder / "t.db")
    owner = json.loads((source / "owner.json").read_text(encoding="utf-8"))
    return f"sqlite:///{folder / 't.db'}", folder, owner
