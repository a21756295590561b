"""The revenue forecast's rolling-origin folds (tillage.strategy.folds)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import tillage.models.account_ltv as account_ltv
from tillage.demo import DemoConfig, generate
from tillage.features.engine import VALUE_COLUMNS, duckdb_backend
from tillage.strategy.folds import inner_folds
from tillage.strategy.value import ltv_model


def test_the_folds_draw_no_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fold reads the expected values only: its model evaluates no bootstrap draw, and the
    model given keeps its own number of draws."""
    company = generate(DemoConfig(n_accounts=200, n_reps=4, n_teams=1, seed=3))
    con = duckdb_backend(
        {
            name: pa.Table.from_pandas(company.tables[name][list(cols)], preserve_index=False)
            for name, cols in VALUE_COLUMNS.items()
        }
    )
    asked: list[int] = []
    real = account_ltv.draw_values

    def counting(value, estimates, n, seed):  # type: ignore[no-untyped-def]
        asked.append(n)
        return real(value, estimates, n, seed)

    monkeypatch.setattr(account_ltv, "draw_values", counting)
    model = ltv_model(n_draws=50)
    try:
        folds = inner_folds(con, company.config.as_of - dt.timedelta(days=1), 12, model)
    finally:
        con.disconnect()
    assert folds["revenue"], "no fold was fitted"
    assert asked and set(asked) == {0}
    assert model.n_draws == 50
