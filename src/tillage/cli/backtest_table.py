"""The table ``tillage backtest`` prints: its metrics (:func:`tillage.strategy.backtest.evaluate`)
named and formatted in the user's language — no metric codes, raw floats or ``nan`` cells."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
from rich.table import Table

__all__ = ["backtest_table"]

#: How each metric is shown: money (no decimals from 1,000 on, else two), a count (one
#: decimal), a signed share (the total error), a share, or a score (three decimals).
_KINDS = {
    "revenue_mae": "money",
    "revenue_rmse": "money",
    "revenue_total_predicted": "money",
    "revenue_total_actual": "money",
    "revenue_total_error": "signed",
    "orders_mae": "count",
    "orders_rmse": "count",
    "orders_total_predicted": "count",
    "orders_total_actual": "count",
    "orders_total_error": "signed",
    "p_churn_brier": "score",
    "p_churn_max_decile_gap": "score",
    "p_order_brier": "score",
    "p_order_max_decile_gap": "score",
    "revenue_interval_coverage": "share",
    "spearman_revenue": "score",
    "top_decile_capture": "share",
    "top_decile_capture_oracle": "share",
}


def _labels(_: Callable[[str], str]) -> dict[str, str]:
    return {
        "revenue_mae": _("Revenue MAE per account"),
        "revenue_rmse": _("Revenue RMSE"),
        "revenue_total_predicted": _("Revenue forecast total"),
        "revenue_total_actual": _("Revenue realised total"),
        "revenue_total_error": _("Revenue total error"),
        "orders_mae": _("Orders MAE per account"),
        "orders_rmse": _("Orders RMSE"),
        "orders_total_predicted": _("Orders forecast total"),
        "orders_total_actual": _("Orders realised total"),
        "orders_total_error": _("Orders total error"),
        "p_churn_brier": _("P(churn) Brier score"),
        "p_churn_max_decile_gap": _("P(churn) worst decile gap"),
        "p_order_brier": _("P(order) Brier score"),
        "p_order_max_decile_gap": _("P(order) worst decile gap"),
        "revenue_interval_coverage": _("Interval coverage (80%)"),
        "spearman_revenue": _("Revenue rank correlation"),
        "top_decile_capture": _("Top-decile revenue share"),
        "top_decile_capture_oracle": _("… best possible"),
    }


def _cell(kind: str, value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        return "—"
    return {
        "money": f"{number:,.0f}" if abs(number) >= 1000 else f"{number:.2f}",
        "count": f"{number:,.1f}",
        "signed": f"{number:+.1%}",
        "share": f"{number:.1%}",
    }.get(kind, f"{number:.3f}")


def backtest_table(
    metrics: pd.DataFrame, settings: dict[str, object], _: Callable[[str], str]
) -> Table:
    """The metrics (rows) of tillage, the run rate and the cohort average (columns), named in
    the language of ``_``; a metric without a value for any method (e.g. P(churn) on a store
    without contracts) is left out."""
    table = Table(
        title=_("Backtest {start} → {end}, {n} accounts").format(
            start=settings["calibration_end"],
            end=settings["holdout_end"],
            n=f"{int(settings['accounts']):,}",  # type: ignore[call-overload]
        )
    )
    methods = {
        "model": "tillage",
        "last_period": _("run rate"),
        "cohort_average": _("cohort average"),
    }
    table.add_column(_("Metric"))
    for name in metrics.columns:
        table.add_column(methods.get(str(name), str(name)), justify="right")
    labels = _labels(_)
    for name, row in metrics.iterrows():
        if row.isna().all():
            continue
        kind = _KINDS.get(str(name), "score")
        table.add_row(labels.get(str(name), str(name)), *(_cell(kind, v) for v in row))
    return table
