"""The priority's reasons in words, Japanese or English, each naming its evidence.

A reason is a dict with ``code``, ``value`` and ``contribution`` (its share of the priority, in
percent) and, where it has them, its evidence: ``threshold`` (the strategy file's materiality
threshold the value passed), ``date`` (an NPS answer's day, ISO), ``ticket``, ``severity`` and
``more`` (further open severe tickets). Reasons stored by an earlier version lack the evidence
keys and are written without it::

    renewal in 1 day · severity-1 ticket T-00042 open 177 days · LTV ¥12.4M
    更新まで1日 · 重大度1のチケット T-00042 が177日未解決 · LTV ￥1240万
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tillage.i18n import check_language, format_money

SEPARATOR = " · "


def _days_en(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _threshold(reason: Mapping[str, Any]) -> float | None:
    value = reason.get("threshold")
    return None if value is None else float(value)


def _ja(reason: Mapping[str, Any], currency: str) -> str:
    code, value, limit = reason["code"], float(reason["value"]), _threshold(reason)
    if code == "value":
        return f"LTV {format_money(value, currency, 'ja', compact=True)}"
    if code == "growth":
        return f"拡大見込み {format_money(value, currency, 'ja', compact=True)}"
    if code == "churn_risk":
        return f"解約確率 {value:.0%}" + (f"（基準{limit:.0%}以上）" if limit is not None else "")
    if code == "renewal":
        return f"更新まで{max(round(value), 0)}日"
    if code == "competition":
        return f"競合あり（商談{round(value)}件）"
    if code == "silence":
        base = f"{round(value)}日間商談なし"
        return base + (f"（基準{round(limit)}日）" if limit is not None else "")
    if code == "usage_decline":
        base = f"利用 {-value:.0%}減"
        return base + (f"（変動幅{limit:.0%}超）" if limit is not None else "")
    if code == "detractor":
        when = reason.get("date")
        return f"NPS {round(value)}（批判者" + (f"、{when}回答）" if when else "）")
    if code == "tickets":
        more = int(reason.get("more", 0) or 0)
        text = (
            f"重大度{reason.get('severity', '')}のチケット {reason.get('ticket', '')} が"
            f"{round(value)}日未解決"
        )
        return text + (f"（他{more}件）" if more else "")
    raise ValueError(f"unknown reason code {code!r}")


def _en(reason: Mapping[str, Any], currency: str) -> str:
    code, value, limit = reason["code"], float(reason["value"]), _threshold(reason)
    if code == "value":
        return f"LTV {format_money(value, currency, 'en', compact=True)}"
    if code == "growth":
        return f"expansion potential {format_money(value, currency, 'en', compact=True)}"
    if code == "churn_risk":
        return f"churn risk {value:.0%}" + (f" (≥ {limit:.0%})" if limit is not None else "")
    if code == "renewal":
        return f"renewal in {_days_en(max(round(value), 0))}"
    if code == "competition":
        n = round(value)
        return f"competitor on {n} open deal" + "s" * (n != 1)
    if code == "silence":
        base = f"no meeting for {_days_en(round(value))}"
        return base + (f" (≥ {_days_en(round(limit))})" if limit is not None else "")
    if code == "usage_decline":
        base = f"usage down {-value:.0%}"
        return base + (f" (beyond the {limit:.0%} noise)" if limit is not None else "")
    if code == "detractor":
        when = reason.get("date")
        return f"detractor NPS {round(value)}" + (f" on {when}" if when else "")
    if code == "tickets":
        more = int(reason.get("more", 0) or 0)
        text = (
            f"severity-{reason.get('severity', '')} ticket {reason.get('ticket', '')} "
            f"open {_days_en(round(value))}"
        )
        return text + (f" (+{more} more)" if more else "")
    raise ValueError(f"unknown reason code {code!r}")


def reason_text(reason: Mapping[str, Any], lang: str, currency: str = "JPY") -> str:
    """One reason in ``lang`` (ja or en)."""
    return _ja(reason, currency) if check_language(lang) == "ja" else _en(reason, currency)


def render_reasons(reasons: Sequence[Mapping[str, Any]], lang: str, currency: str = "JPY") -> str:
    """The reasons as one line in ``lang`` (ja or en), in the order given."""
    check_language(lang)
    return SEPARATOR.join(reason_text(r, lang, currency) for r in reasons)
