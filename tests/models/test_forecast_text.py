"""Why a forecast was chosen, worded in Japanese and English from the record's code."""

from __future__ import annotations

import numpy as np

from tillage.models.forecast import ChosenForecast
from tillage.models.forecast_text import choice_lines, reason_text


def _lowest_mae() -> ChosenForecast:
    figures = {"mae": 812.3, "total_error": 0.0, "naive_mae": 1901.2, "naive_total_error": 0.0}
    return ChosenForecast("shrink 4", "lowest_mae", figures, folds=2)


def test_the_reason_names_the_candidate_and_the_figures_in_both_languages() -> None:
    record = _lowest_mae().record()
    en = reason_text(record, "en")
    ja = reason_text(record, "ja")
    assert en == record["reason"]
    assert en.startswith("shrinkage (4 orders): lowest per-account MAE over 2 backtest(s)")
    assert "812.3" in en and "1,901" in en  # thousands separated
    assert ja.startswith("縮小推定（注文4件）：履歴内の2回の検証で顧客別MAEが最小")
    assert "812.3" in ja and "1,901" in ja


def test_every_code_has_words_and_unknown_figures_show_as_a_dash() -> None:
    kept = ChosenForecast(
        "naive",
        "run_rate_kept",
        {"naive_mae": 5.0, "naive_total_error": np.nan, "mae": 5.0, "total_error": np.nan},
        folds=1,
    )
    assert reason_text(kept.record(), "en").endswith("(the run rate's –)")
    assert reason_text(kept.record(), "ja").startswith("直近実績の継続：")
    for code in ("no_folds", "nothing_realised"):
        text = reason_text(ChosenForecast("naive", code).record(), "ja")
        assert text.startswith("直近実績の継続：") and "{" not in text
    # a record stored by an earlier version has only its English reason
    assert reason_text({"forecast": "naive", "reason": "run rate: old words"}, "ja") == (
        "run rate: old words"
    )


def test_choice_lines_list_each_stream_then_the_interval() -> None:
    record = {
        "order_revenue": _lowest_mae().record(),
        "churn": ChosenForecast("model", "churn_unchecked", level=False).record(),
        "contract_revenue": ChosenForecast("naive", "nothing_realised").record(),
        "interval": {"nominal": 0.8, "coverage_in_folds": 0.8},
    }
    lines = choice_lines(record, "ja")
    # no contract revenue was realised in the backtests: no line for it
    assert [label for label, _why in lines] == ["受注売上", "期間内の解約確率", "80%区間"]
    assert "80%" in lines[-1][1]
    assert choice_lines(None, "en") == []
