"""The Data page's data-quality note is the importer's, its row counts kept per store state."""

from __future__ import annotations

import datetime as dt
import shutil

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tillage.i18n import gettext_for
from tillage.ingest.quality import data_quality
from tillage.services.imports import store_quality
from tillage.store.database import make_engine
from tillage.store.schema import Import, PageCacheEntry


def test_the_note_is_counted_once_per_state_of_the_store(scored_demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "store.db"
    shutil.copy(scored_demo.url.removeprefix("sqlite:///"), path)
    engine = make_engine(f"sqlite:///{path}")
    counts: list[str] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: (
            counts.append(statement) if statement.startswith("SELECT COUNT(*) FROM") else None
        ),
    )
    _ = gettext_for("ja")
    with Session(engine) as session:
        fresh = data_quality(session.connection(), _)
        assert len(counts) == 11
        assert store_quality(session, _) == fresh
        assert len(counts) == 22  # counted, and kept
        assert store_quality(session, _) == fresh
        assert len(counts) == 22  # read from the page cache
        kept = select(func.count()).select_from(PageCacheEntry)
        assert session.scalar(kept.where(PageCacheEntry.kind == "store-counts")) == 1
        # an import changes the state of the store: the note is counted anew
        session.add(
            Import(
                id=99,
                imported_at=dt.datetime(2026, 10, 2),
                source="test.csv",
                format="csv",
                checksum="0" * 64,
                rows_read=0,
                rows_inserted=0,
                rows_updated=0,
                rows_unchanged=0,
                rows_rejected=0,
            )
        )
        session.commit()
        assert store_quality(session, _) == fresh
        assert len(counts) == 33
    engine.dispose()
