"""The plan SQLite chose for a statement a service really sends."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, event


def sent_plan(engine: Engine, call: Callable[[], object], wanted: Callable[[str], bool]) -> str:
    """Run ``call``; of the statements it sent on ``engine``, the one ``wanted`` picks (there
    must be exactly one): SQLite's ``EXPLAIN QUERY PLAN`` of it, its steps joined by " | "."""
    sent: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if wanted(statement):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(sent) == 1, [statement for statement, _ in sent]
    statement, parameters = sent[0]
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return " | ".join(str(row[-1]) for row in plan)
