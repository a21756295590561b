"""A recorder of the SQL an ibis backend compiles (around the backend's own ``compile``)."""

from __future__ import annotations

from ibis.backends import BaseBackend


class Compiles:
    """The SQL ``con.compile`` wrote since this was made (or since ``sql.clear()``)."""

    def __init__(self, con: BaseBackend) -> None:
        self.sql: list[str] = []
        original = con.compile

        def compile_and_record(expr, *args, **kwargs):  # type: ignore[no-untyped-def]
            text = original(expr, *args, **kwargs)
            self.sql.append(str(text))
            return text

        con.compile = compile_and_record  # type: ignore[method-assign]

    @property
    def unions(self) -> list[str]:
        """The compiled queries of several KPIs (one union per question)."""
        return [sql for sql in self.sql if "UNION ALL" in sql]
