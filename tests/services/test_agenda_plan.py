"""A rep's activities of a period are read from ``ix_activities_rep_time`` alone.

The 1on1 agenda built from the shared pieces reads the rep's own activities of the quarter.
With only the rep's index, PostgreSQL visited every activity row of the rep over all time
(100,000-account store: 330 ms for the query, 3.2 s for a rep's first 1on1); the index on rep,
time, account, type and minutes (migration 0015) answers it without the table. The plan of the
query the service really sends must read that index.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.services.reviews import agenda_inputs
from tillage.store.schema import Rep

from ..query_plan import sent_plan


def test_a_reps_activities_are_read_from_the_covering_index(scored_demo) -> None:  # type: ignore[no-untyped-def]
    engine = scored_demo.engine
    with Session(engine) as session:
        rep = session.scalar(select(Rep.key).where(Rep.role == "rep").order_by(Rep.id))
    found = {}

    def inputs() -> None:
        with Session(engine) as session:
            found["inputs"] = agenda_inputs(session, rep, own=True)

    details = sent_plan(
        engine, inputs, lambda statement: "FROM activities" in statement and "rep_id" in statement
    )
    assert not found["inputs"].activities.empty, "the demo's rep logged activities in the quarter"
    assert "COVERING INDEX ix_activities_rep_time" in details, details
