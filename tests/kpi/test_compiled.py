"""A KPI question's SQL is built and compiled once and run again only where it is the same SQL
(tillage/kpi/compiled.py): the same rows as a question built anew, on the same store and on a
store whose tables differ in what the KPIs ask of them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import ibis.expr.operations as ops
import pandas as pd
import pytest

from tillage.features.sql_cache import CACHE_ENV
from tillage.kpi import compiled, compute_kpis, kpi_backend, parse_period
from tillage.kpi.compute import REGISTRY, per_account
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

from ..compiles import Compiles
from . import handmade
from .handmade import LTV, PERIOD


@pytest.fixture(autouse=True)
def _nothing_kept() -> Iterator[None]:
    compiled.forget()
    yield
    compiled.forget()


def _memtables_named_alike(sql: str) -> str:
    return re.sub(r"ibis_pandas_memtable_[0-9a-z]+", "memtable", sql)


def _kept_sql() -> list[str]:
    return [query.sql for queries in compiled._KEPT.values() for query in queries]


def test_a_question_asked_again_runs_its_kept_sql_and_answers_the_same_rows(
    handmade_store: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, engine = handmade_store
    period = parse_period(PERIOD)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))  # compiled here first, not in another test
    with kpi_backend(url, engine) as con:
        first = Compiles(con)
        built = compute_kpis(con, period, by=("all", "rep"), ltv=LTV)
    assert len(first.unions) == 1
    kept = _kept_sql()
    with kpi_backend(url, engine) as con:  # another backend on the same store
        again = Compiles(con)
        answered = compute_kpis(con, period, by=("all", "rep"), ltv=LTV)
    assert again.unions == []
    pd.testing.assert_frame_equal(answered, built)

    compiled.forget()
    monkeypatch.setenv(CACHE_ENV, "")  # compiled anew, not read from the run's compiled texts
    with kpi_backend(url, engine) as con:
        anew = Compiles(con)
        rebuilt = compute_kpis(con, period, by=("all", "rep"), ltv=LTV)
    pd.testing.assert_frame_equal(rebuilt, built)
    assert list(map(_memtables_named_alike, anew.unions)) == list(map(_memtables_named_alike, kept))


def test_other_inputs_run_the_kept_sql_on_their_own_rows(handmade_store: tuple[str, str]) -> None:
    url, engine = handmade_store
    period = parse_period(PERIOD)
    doubled = LTV.assign(ltv=LTV["ltv"] * 2)
    with kpi_backend(url, engine) as con:
        once = compute_kpis(con, period, keys=["ltv_to_cac", "arpu"], ltv=LTV)
        compiles = Compiles(con)
        twice = compute_kpis(con, period, keys=["ltv_to_cac", "arpu"], ltv=doubled)
    assert compiles.unions == []  # the same question: the kept SQL, the new LTV table
    assert once.set_index("kpi").loc["ltv_to_cac", "value"] == pytest.approx(4.0)  # handmade
    assert twice.set_index("kpi").loc["ltv_to_cac", "value"] == pytest.approx(8.0)
    compiled.forget()
    with kpi_backend(url, engine) as con:
        anew = compute_kpis(con, period, keys=["ltv_to_cac", "arpu"], ltv=doubled)
    pd.testing.assert_frame_equal(twice, anew)


@pytest.fixture
def store_without_contracts(tmp_path: Path) -> str:
    """The hand-made company without its contracts, two of its accounts buying in the period:
    the watched accounts are those buyers."""
    tables = handmade.tables()
    tables["contracts"] = tables["contracts"].iloc[0:0]
    tables["orders"] = pd.DataFrame(
        {
            "id": [1, 2],
            "key": ["o1", "o2"],
            "order_number": ["S1", "S2"],
            "account_id": [5, 6],
            "order_date": pd.to_datetime(["2026-08-10", "2026-09-01"]),
            "amount": [1000.0, 500.0],
        }
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, tables)
    engine.dispose()
    return url


def test_a_store_whose_tables_are_empty_where_the_question_asks_gets_its_own_sql(
    handmade_store: tuple[str, str], store_without_contracts: str
) -> None:
    url, engine = handmade_store
    period = parse_period(PERIOD)
    watched = [REGISTRY["regular_meeting_rate"]]
    with kpi_backend(url, engine) as con:
        with_contracts = per_account(con, period, watched)
    with kpi_backend(store_without_contracts, "duckdb") as con:
        answered = per_account(con, period, watched)
    kept = _kept_sql()
    compiled.forget()
    with kpi_backend(store_without_contracts, "duckdb") as con:
        built = per_account(con, period, watched)
    pd.testing.assert_frame_equal(answered, built)
    assert sorted(built["account_id"]) == [5, 6]
    assert set(with_contracts["account_id"]) != {5, 6}
    assert len(kept) == 2  # one query per answer to "has the store contracts?"


def test_no_backend_is_kept_with_a_question(handmade_store: tuple[str, str]) -> None:
    url, engine = handmade_store
    with kpi_backend(url, engine) as con:
        compute_kpis(con, parse_period(PERIOD), ltv=LTV)
    kept = [query.expr for queries in compiled._KEPT.values() for query in queries]
    assert kept and not any(expr.op().find(ops.DatabaseTable) for expr in kept)
