"""A/B/C zones by value."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.errors import ConfigurationError
from tillage.strategy.zones import assign_zones


def test_shares_and_order() -> None:
    value = pd.Series(
        [5.0, 100.0, 1.0, 50.0, 7.0, 3.0, 2.0, 80.0, 9.0, 4.0], index=list("abcdefghij")
    )
    zones = assign_zones(value, a_share=0.2, b_share=0.3)
    assert zones[["b", "h"]].tolist() == ["A", "A"]
    assert sorted(zones[zones == "B"].index) == ["d", "e", "i"]
    assert (zones == "C").sum() == 5
    assert zones.index.equals(value.index)


def test_ties_are_deterministic() -> None:
    value = pd.Series([1.0] * 10)
    assert assign_zones(value).tolist() == ["A"] * 2 + ["B"] * 3 + ["C"] * 5


def test_bad_shares_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="A \\+ B"):
        assign_zones(pd.Series([1.0]), a_share=0.8, b_share=0.5)
