"""Error metrics and intervals against hand-computed and published values."""

from __future__ import annotations

import pytest

from tillage.kpi.accuracy import amount_check, newcombe, probability_check, wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score)
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_table(k: int, n: int, low: float, high: float) -> None:
    p = wilson(k, n, 0.95)
    assert p.low == pytest.approx(low, abs=1e-4)
    assert p.high == pytest.approx(high, abs=1e-4)


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score)
    [((56, 70), (48, 80), 0.0524, 0.3339), ((9, 10), (3, 10), 0.1705, 0.8090)],
)
def test_newcombe_difference_matches_published(a, b, low: float, high: float) -> None:  # type: ignore[no-untyped-def]
    d, lo, hi = newcombe(wilson(*a), wilson(*b))
    assert d == pytest.approx(a[0] / a[1] - b[0] / b[1])
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_probability_and_amount_checks_by_hand() -> None:
    c = probability_check([0.2, 0.9, 0.5], [0, 1, 1])
    assert (c.n, c.actual_events) == (3, 2)
    assert c.predicted_events == pytest.approx(1.6)
    assert c.brier == pytest.approx((0.04 + 0.01 + 0.25) / 3)
    assert c.brier_reference == pytest.approx(2 / 3 * 1 / 3)
    assert c.mae == pytest.approx((0.2 + 0.1 + 0.5) / 3)
    assert probability_check([], []).brier is None
    a = amount_check([100.0, 50.0], [80.0, 70.0])
    assert (a.predicted, a.actual, a.error) == (150.0, 150.0, 0.0)
    assert a.mae == pytest.approx(20.0) and a.wape == pytest.approx(40 / 150)
    assert wilson(0, 0).rate is None and newcombe(wilson(0, 0), wilson(1, 2)) == (None, None, None)
