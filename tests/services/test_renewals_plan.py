"""The renewals calendar's query reads contracts by the term they renew through an index.

Without ``ix_contracts_renewed_from_id`` (migration 0014) SQLite answers "no renewal term on
file" by scanning every contract for each contract: the 100,000-account store's /renewals did not
answer in four minutes. The plan of the query the service really sends must search that index.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tillage.services.renewals import renewal_calendar
from tillage.store.access import everything

from ..query_plan import sent_plan


def test_the_no_successor_check_searches_the_index(scored_demo) -> None:  # type: ignore[no-untyped-def]
    engine = scored_demo.engine
    found = {}

    def calendar() -> None:
        with Session(engine) as session:
            found["calendar"] = renewal_calendar(session, everything())

    details = sent_plan(engine, calendar, lambda statement: "renewed_from_id" in statement)
    assert found["calendar"].items, "the demo has undecided renewals in the next 90 days"
    assert "ix_contracts_renewed_from_id" in details, details
