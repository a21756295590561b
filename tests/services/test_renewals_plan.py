"""The renewals calendar's query reads contracts by the term they renew through an index.

Without ``ix_contracts_renewed_from_id`` (migration 0014) SQLite answers "no renewal term on
file" by scanning every contract for each contract: the 100,000-account store's /renewals did not
answer in four minutes. The plan of the query the service really sends must search that index.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from tillage.services.renewals import renewal_calendar
from tillage.store.access import everything


def test_the_no_successor_check_searches_the_index(scored_demo) -> None:  # type: ignore[no-untyped-def]
    sent: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if "renewed_from_id" in statement:
            sent.append((statement, parameters))

    engine = scored_demo.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        with Session(engine) as session:
            calendar = renewal_calendar(session, everything())
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert calendar.items, "the demo has undecided renewals in the next 90 days"
    assert len(sent) == 1
    statement, parameters = sent[0]
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    details = " | ".join(str(row[-1]) for row in plan)
    assert "ix_contracts_renewed_from_id" in details, details
