"""Plausibility: finite values, what a column can store, outliers judged against the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.ingest import plausible
from tillage.store.schema import Base


def test_capacity_follows_the_column_types() -> None:
    orders = Base.metadata.tables["orders"].columns
    assert plausible.capacity(orders["amount"]) == 1e16  # NUMERIC(18, 2)
    assert plausible.capacity(Base.metadata.tables["accounts"].columns["employees"]) == 2**31 - 1
    assert plausible.capacity(orders["quantity"]) is None  # a float: only finiteness
    assert plausible.is_money(orders["amount"]) and not plausible.is_money(orders["quantity"])


def test_outlier_reference_sets_the_largest_values_aside() -> None:
    values = pd.Series([10_000.0 + i for i in range(40)] + [1e15])
    reference = plausible.outlier_reference(values)
    # n = 41: the largest ⌈41/1000⌉ = 1 value is set aside; the 99.9th percentile of the rest
    assert reference == pytest.approx(np.quantile(np.arange(40) + 10_000.0, 0.999))
    assert not plausible.within(values, 1000 * reference).iloc[-1]
    assert plausible.within(values, 1000 * reference).iloc[:-1].all()


def test_too_few_values_are_not_judged() -> None:
    assert plausible.outlier_reference(pd.Series([1.0] * 18 + [1e12])) is None
    assert plausible.outlier_reference(pd.Series([0.0] * 50)) is None


def test_finite_and_control_characters() -> None:
    numbers = pd.Series([1.0, np.inf, -np.inf, np.nan])
    assert plausible.finite(numbers).tolist() == [True, False, False, True]
    text = pd.Series(["Acme", "Ac\x00me", "tab\tand\nnewline", None, "bell\x07"])
    assert plausible.no_control_characters(text).tolist() == [True, False, True, True, False]
