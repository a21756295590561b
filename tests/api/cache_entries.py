"""The page cache of a test store, counted and emptied from outside the app."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.store.database import make_engine
from tillage.store.page_cache import clear_entries
from tillage.store.schema import PageCacheEntry


def clear_cache(settings: Settings) -> None:
    """Delete every page-cache entry of the store of ``settings``."""
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        clear_entries(session)
    engine.dispose()


def cache_entries(settings: Settings, kind: str) -> int:
    """The number of page-cache entries of ``kind`` in the store of ``settings``."""
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        found = session.scalar(
            select(func.count()).select_from(PageCacheEntry).where(PageCacheEntry.kind == kind)
        )
    engine.dispose()
    return int(found or 0)
