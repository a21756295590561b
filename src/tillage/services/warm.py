"""Fill the page cache for the views everyone opens first, right after a scoring run.

The page cache (:mod:`tillage.services.page_cache`) computes a page the first time it is asked
for; :func:`warm_pages` asks for the default ones as an admin, so that the first user of the
morning does not wait for them either: the KPI trend of the newest snapshot's quarter for the
company, by rep, by team and by segment (the rows every caller reads, reach applied after; by
segment is the only cut marketing reads), every KPI's drill-down rows of that quarter for the
company (reach applied after reading, as for the cuts), the portfolio, the renewals
calendar's first page and the list pages' rep and team choices as the admin, each manager and
each rep with a login see them (0.1–0.2 s a rep at 100,000 accounts), the account list's order and
total as the admin and each manager open it, the review of that
quarter, the Data page's row counts, how the company's accounts moved since the snapshot before
(the default diff) and every account's next contact due day (the plans' cadence list,
:func:`tillage.services.cadence.schedule_of`).
``tillage score`` and ``tillage demo`` call it after writing the snapshot.

Each manager's review is computed too (one per reach; 4–6 s each on a 100,000-account store,
the page a manager opens first), and the 1on1 agendas as the users with a login open them:
an admin's and each manager's, of every rep they reach, and each rep's own (0.3–0.4 s each at
100,000 accounts). A rep's departure is not computed per
rep: the pieces every caller shares are (:mod:`tillage.services.page_pieces`: the review's KPI
rows and meeting counts, the agendas' behaviour KPIs of every rep and team, each account's
key-person risk and the departure effect), and each caller's first request builds the page
from them with its reach applied. The KPI cuts
are computed in one pass over each quarter's accounts, on one analytical backend that reads the
store once for the KPIs, the review and the agendas.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import NotFoundError
from tillage.i18n import LANGUAGES, gettext_for
from tillage.kpi.compute import shared_results
from tillage.kpi.data import kpi_backend
from tillage.kpi.period import period_containing
from tillage.services.account_views import filter_choices
from tillage.services.accounts import Listing, account_page, portfolio
from tillage.services.cadence import schedule_of
from tillage.services.departure import departure_pieces_of
from tillage.services.diffs import snapshot_diff
from tillage.services.imports import store_quality
from tillage.services.kpi_accounts import warm_kpi_accounts
from tillage.services.kpis import warm_kpi_rows
from tillage.services.page_cache import reach_key
from tillage.services.page_pieces import agenda_pieces_of
from tillage.services.renewals import PER_PAGE as RENEWALS_PER_PAGE
from tillage.services.renewals import renewal_calendar
from tillage.services.review_frames import reading_once
from tillage.services.reviews import period_review, rep_agenda
from tillage.services.strategy import strategy_in_force
from tillage.store.access import OPERATOR, Principal, account_filter, everything, reach_ids
from tillage.store.page_cache import store_version
from tillage.store.schema import Rep, User
from tillage.store.snapshots import complete_snapshot, list_snapshots
from tillage.store.users import principal_for

TREND_QUARTERS = 5
"""The KPI page's default trend: five quarters (``tillage.web.kpis.TREND_PERIODS``)."""


def warm_pages(
    session: Session, settings: Settings, *, progress: Callable[[str], None] | None = None
) -> list[str]:
    """Compute (and keep) the default KPI trends and review of the store's newest snapshot in
    ``settings.language``, and the pieces the agendas and departures of that snapshot share;
    the names of what was computed. Nothing without a snapshot. The KPI trends' rows are kept
    in every language too (the figures computed once, the reasons for a blank written in each):
    a user who switches language opens the KPI page without computing it (the first English
    KPI page of the Japanese 300-account demo: 0.71 s computed, 0.09 s kept)."""
    version = store_version(session)
    if version is None:
        return []
    step = progress or (lambda _name: None)
    lang = settings.language
    # the strategy as the reviews resolve it themselves (with the company currency), once
    strategy = strategy_in_force(session, currency=settings.currency)
    period = period_containing(version.as_of, "quarter", strategy.fiscal_year_start_month)
    quarter = period.label
    done = []
    # read the store once for all; a question the trend asked is not asked again
    with (
        reading_once(),  # each snapshot's scores and the quarter's activities are read once
        kpi_backend(settings.resolved_database_url) as opened,
        shared_results(opened) as con,
    ):
        step("kpis")
        done += [
            f"kpis:{by}"
            for by in warm_kpi_rows(
                session, settings, quarter, TREND_QUARTERS, langs=LANGUAGES, con=con
            )
        ]
        step("kpi accounts")  # each KPI's drill-down rows of the quarter, the company's
        warm_kpi_accounts(session, settings, quarter, lang=lang, con=con)
        done.append(f"kpi_accounts:{quarter}")
        managers = _users(session, "manager")  # one per reach: two of the same teams read one
        reps = _users(session, "rep")
        reaches = [everything(), *(account_filter(m) for m in managers)]
        step("portfolio")  # the renewals calendar's first page and the rep and team choices of
        for visible in [*reaches, *(account_filter(r) for r in reps)]:  # the list pages too
            portfolio(session, visible)
            renewal_calendar(session, visible, limit=RENEWALS_PER_PAGE)
            filter_choices(session, visible=visible)
        done += ["portfolio", "renewals"]
        step("review")
        period_review(
            session, settings, lang, OPERATOR, everything(), quarter, strategy=strategy, con=con
        )
        done.append(f"review:{quarter}")
        if managers:  # each manager's review, the page a manager opens first (4–6 s at 100k)
            step("manager reviews")
            for manager in managers:
                visible = account_filter(manager)
                period_review(
                    session, settings, lang, manager, visible, quarter, strategy=strategy, con=con
                )
            done.append("manager reviews")
        step("lists")  # the account list's order and total, the admin's and each manager's
        for visible in reaches:
            for listing in OPENED_FIRST:
                account_page(session, visible, listing)
        done.append("lists")
        step("agendas")
        agenda_pieces_of(session, settings.resolved_database_url, period, strategy, con=con)
        done.append("agendas")
        step("1on1")  # each manager's reps' agendas and each rep's own, as each opens it: the
        for principal in [*_users(session, "admin"), *managers, *reps]:  # rows read once
            for rep in _reps_of(session, principal):
                try:
                    rep_agenda(
                        session,
                        settings,
                        lang,
                        principal,
                        account_filter(principal),
                        rep,
                        strategy=strategy,
                    )
                except NotFoundError:  # no account of theirs the caller may see: no agenda
                    continue
        done.append("1on1")
    step("departures")
    departure_pieces_of(session, version.as_of, strategy_in_force(session))
    done.append("departures")
    step("cadence")  # the plans' contact cadence: every account's next due day
    schedule_of(
        session, complete_snapshot(session, version.snapshot_id), strategy_in_force(session)
    )
    done.append("cadence")
    step("data")
    store_quality(session, gettext_for(lang))  # the Data page's row counts
    done.append("data")
    complete = [s for s in list_snapshots(session, limit=10) if s.status == "complete"]
    if len(complete) >= 2:  # how the company's accounts moved since the snapshot before
        step("diff")
        snapshot_diff(session, everything(), complete[1].id, complete[0].id)
        done.append("diff")
    return done


OPENED_FIRST = (Listing(), Listing(sort="priority", descending=True), Listing(sort="name"))
"""The listings opened first: the API's default order (LTV), the /accounts page's (priority,
highest first) and by name (the order a list is looked through; PostgreSQL sorts 100,000 names
in its collation in a quarter of a second)."""


def _users(session: Session, role: str) -> list[Principal]:
    """The enabled users of ``role`` with a login, one for each reach (two managers of the
    same teams read the same review)."""
    users = session.scalars(
        select(User).where(User.role == role, User.disabled.is_(False)).order_by(User.id)
    )
    found: dict[str, Principal] = {}
    for user in users:
        principal = principal_for(user, via="session")
        found.setdefault(reach_key(session, principal), principal)
    return list(found.values())


def _reps_of(session: Session, principal: Principal) -> list[str]:
    """The keys of the reps in ``principal``'s reach (an admin's: every rep), by key."""
    ids = reach_ids(session, principal)
    query = select(Rep.key) if ids is None else select(Rep.key).where(Rep.id.in_(ids))
    return sorted(session.scalars(query))
