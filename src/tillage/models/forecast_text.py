"""Why a forecast was chosen, in Japanese or English (:mod:`tillage.models.forecast`).

A choice's record carries a reason ``code`` and its ``figures``; :func:`reason_text` words
them in the reader's language, e.g.::

    shrinkage (4 orders): lowest per-account MAE over 2 backtest(s) inside the history (812.3
    against the run rate's 1,901), total error +0.0% against the run rate's +0.0%
    縮小推定（注文4件）：履歴内の2回の検証で顧客別MAEが最小（812.3、直近実績の継続は1,901）、
    合計誤差 +0.0%（直近実績の継続は+0.0%）

A record without a code (stored by an earlier version) is shown by its English ``reason``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from tillage.i18n import check_language, gettext_for

__all__ = ["STREAM_LABELS", "candidate_label", "choice_lines", "reason_text", "stream_label"]

#: The streams whose choice is recorded, in the order they are shown.
STREAM_LABELS: tuple[str, ...] = ("contract_revenue", "order_revenue", "orders", "churn")


def stream_label(stream: str, lang: str = "en") -> str:
    """The stream's name in ``lang`` (its key where unknown)."""
    _ = gettext_for(check_language(lang))
    labels = {
        "contract_revenue": _("contract revenue"),
        "order_revenue": _("order revenue"),
        "orders": _("orders"),
        "churn": _("P(churn within the horizon)"),
    }
    return labels.get(stream, stream)


def candidate_label(name: str, _: Callable[[str], str]) -> str:
    """A candidate forecast's name (``naive``, ``model``, ``blend w``, ``shrink k``,
    ``renewal rate``) in the language of ``_``."""
    kind, _sep, value = name.partition(" ")
    if name == "naive":
        return _("run rate")
    if name == "model":
        return _("model")
    if name == "renewal rate":
        return _("renewal rate")
    if kind == "blend":
        return _("blend (model weight {w})").format(w=value)
    if kind == "shrink":
        return _("shrinkage ({k} orders)").format(k=value)
    return name


def _known(value: Any) -> bool:
    return value is not None and math.isfinite(float(value))


def _number(value: Any) -> str:
    """A backtest figure: thousands separated from 1,000 on, two decimals below (the pages'
    format for a figure that is not money or a share)."""
    if not _known(value):
        return "–"
    return f"{float(value):,.0f}" if abs(float(value)) >= 1000 else f"{float(value):.2f}"


def _percent(value: Any) -> str:
    return f"{float(value):+.1%}" if _known(value) else "–"


def reason_text(record: Mapping[str, Any], lang: str = "en") -> str:
    """The record's reason in ``lang`` (ja or en), naming the chosen candidate and the
    backtest figures behind the choice."""
    code = record.get("code")
    if code is None:
        return str(record.get("reason", ""))
    _ = gettext_for(check_language(lang))
    name = candidate_label(str(record.get("forecast", "")), _)
    f = record.get("figures") or {}
    folds = int(record.get("folds", 0) or 0)
    if code == "no_folds":
        text = _("no backtest fits inside the history, so no model was shown to do better")
    elif code == "nothing_realised":
        text = _("nothing was realised in the backtests")
    elif code == "run_rate_kept":
        text = _(
            "no candidate beat it clearly over {folds} backtest(s) inside the history on "
            "per-account MAE (the run rate's {mae}) without a larger total error (the run "
            "rate's {error})"
        ).format(folds=folds, mae=_number(f["naive_mae"]), error=_percent(f["naive_total_error"]))
    elif code == "lowest_mae":
        text = _(
            "lowest per-account MAE over {folds} backtest(s) inside the history ({mae} against "
            "the run rate's {naive_mae}), total error {error} against the run rate's "
            "{naive_error}"
        ).format(
            folds=folds,
            mae=_number(f["mae"]),
            naive_mae=_number(f["naive_mae"]),
            error=_percent(f["total_error"]),
            naive_error=_percent(f["naive_total_error"]),
        )
    elif code == "run_rate_total":
        text = _(
            "the streams' chosen forecasts summed had a larger total error than the run rate "
            "over {folds} backtest(s) inside the history ({error} against {naive_error}) at "
            "every level, so the run rate is kept"
        ).format(
            folds=folds,
            error=_percent(f["revenue_total_error"]),
            naive_error=_percent(f["revenue_naive_total_error"]),
        )
    elif code == "churn_unchecked":
        text = _("no backtest with contract holders fits inside the history; not checked")
    elif code in ("churn_model", "churn_base"):
        words = {
            "churn_model": _(
                "lower Brier score ({brier} against the renewal rate's {base_brier}) and log "
                "loss ({loss} against {base_loss}) over {n} contract holders in {folds} "
                "backtest(s) inside the history"
            ),
            "churn_base": _(
                "the model did not beat it out of time (Brier score {brier} against the "
                "model's {base_brier}, log loss {loss} against the model's {base_loss}, {n} "
                "contract holders in {folds} backtest(s) inside the history)"
            ),
        }[code]
        if code == "churn_base":  # the baseline's own figures first
            f = {
                **f,
                "brier": f["base_brier"],
                "base_brier": f["brier"],
                "log_loss": f["base_log_loss"],
                "base_log_loss": f["log_loss"],
            }
        text = words.format(
            brier=_number(f["brier"]),
            base_brier=_number(f["base_brier"]),
            loss=_number(f["log_loss"]),
            base_loss=_number(f["base_log_loss"]),
            n=int(f["accounts"]),
            folds=folds,
        )
    else:
        return str(record.get("reason", code))
    if _known(f.get("level_weight")) and float(f["level_weight"]) > 0:
        text += _level_clause(f, _)
    return _("{name}: {why}").format(name=name, why=text)


def _level_clause(f: Mapping[str, Any], _: Callable[[str], str]) -> str:
    """Why the revenue streams' level moved from the run rate's total toward the candidates'
    own (:func:`tillage.models.forecast.honour_total`)."""
    return _(
        "; the revenue's total error over the backtests at the run rate's level was "
        "{at_run_rate} against the run rate's {naive_error}, so the level moved {w:.0%} of the "
        "way toward the forecasts' own: {error}"
    ).format(
        at_run_rate=_percent(f.get("revenue_run_rate_level_error")),
        naive_error=_percent(f.get("revenue_naive_total_error")),
        w=float(f["level_weight"]),
        error=_percent(f.get("revenue_total_error")),
    )


def choice_lines(record: Mapping[str, Any] | None, lang: str = "en") -> list[tuple[str, str]]:
    """The forecast choice of a scoring run or backtest (its ``forecast`` record) as
    ``(stream, why)`` lines in ``lang``, the interval's last; empty without a record. A stream
    of which the backtests realised nothing (contract revenue at a company that sells by order
    alone) has no line: there was nothing to choose."""
    if not record:
        return []
    out = [
        (stream_label(stream, lang), reason_text(record[stream], lang))
        for stream in STREAM_LABELS
        if isinstance(record.get(stream), Mapping)
        and record[stream].get("code") != "nothing_realised"
    ]
    interval = record.get("interval")
    if isinstance(interval, Mapping) and _known(interval.get("coverage_in_folds")):
        _ = gettext_for(check_language(lang))
        out.append(
            (
                _("{p:.0%} interval").format(p=float(interval.get("nominal", 0.8))),
                _(
                    "over outcomes, from the errors of the backtests inside the history; it "
                    "covered {c:.0%} of their realised values"
                ).format(c=float(interval["coverage_in_folds"])),
            )
        )
    return out
