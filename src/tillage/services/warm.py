"""Fill the page cache for the views everyone opens first, right after a scoring run.

The page cache (:mod:`tillage.services.page_cache`) computes a page the first time it is asked
for; :func:`warm_pages` asks for the default ones as an admin, so that the first user of the
morning does not wait for them either: the KPI trend of the newest snapshot's quarter for the
company, by rep, by team and by segment (the rows every caller reads, reach applied after; by
segment is the only cut marketing reads), the portfolio and
the account list's total as an admin sees them, and the review of that quarter. ``tillage score``
and ``tillage demo`` call it after writing the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.kpi.period import period_containing
from tillage.services.accounts import account_page, portfolio
from tillage.services.kpis import kpi_rows
from tillage.services.reviews import period_review
from tillage.services.strategy import strategy_in_force
from tillage.store.access import OPERATOR, everything
from tillage.store.page_cache import store_version

TREND_QUARTERS = 5
"""The KPI page's default trend: five quarters (``tillage.web.kpis.TREND_PERIODS``)."""


def warm_pages(
    session: Session, settings: Settings, *, progress: Callable[[str], None] | None = None
) -> list[str]:
    """Compute (and keep) the default KPI trends and review of the store's newest snapshot in
    ``settings.language``; the names of the views computed. Nothing without a snapshot."""
    version = store_version(session)
    if version is None:
        return []
    step = progress or (lambda _name: None)
    lang = settings.language
    fiscal = strategy_in_force(session).fiscal_year_start_month
    quarter = period_containing(version.as_of, "quarter", fiscal).label
    done = []
    for by in (None, "rep", "team", "segment"):
        step(f"kpis {by or 'all'}")
        kpi_rows(
            session,
            settings,
            OPERATOR,
            everything(),
            period=quarter,
            by=by,  # type: ignore[arg-type]
            periods=TREND_QUARTERS,
            lang=lang,
        )
        done.append(f"kpis:{by or 'all'}")
    step("portfolio")
    portfolio(session, everything())
    account_page(session, everything())  # the list's total
    done.append("portfolio")
    step("review")
    period_review(session, settings, lang, OPERATOR, everything(), quarter)
    done.append(f"review:{quarter}")
    return done
