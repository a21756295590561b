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


# One row per reason code: (text, suffix when a threshold is known) per language, as
# str.format templates over the fields that ``_fields`` prepares. A code's suffix is None where the
# reason has no threshold to state; "{when}" and "{more}" are empty when the evidence is missing.
_TEMPLATES: dict[str, dict[str, tuple[str, str | None]]] = {
    "value": {"ja": ("LTV {money}", None), "en": ("LTV {money}", None)},
    "growth": {
        "ja": ("拡大見込み {money}", None),
        "en": ("expansion potential {money}", None),
    },
    "churn_risk": {
        "ja": ("解約確率 {pct}", "（基準{limit_pct}以上）"),
        "en": ("churn risk {pct}", " (≥ {limit_pct})"),
    },
    "renewal": {"ja": ("更新まで{days_left}日", None), "en": ("renewal in {days_left_en}", None)},
    "competition": {
        "ja": ("競合あり（商談{n}件）", None),
        "en": ("competitor on {n} open deal{plural}", None),
    },
    "silence": {
        "ja": ("{n}日間商談なし", "（基準{limit_n}日）"),
        "en": ("no meeting for {days_en}", " (≥ {limit_days_en})"),
    },
    "usage_decline": {
        "ja": ("利用 {drop}減", "（変動幅{limit_pct}超）"),
        "en": ("usage down {drop}", " (beyond the {limit_pct} noise)"),
    },
    "detractor": {
        "ja": ("NPS {n}（批判者{when_ja}）", None),
        "en": ("detractor NPS {n}{when_en}", None),
    },
    "tickets": {
        "ja": ("重大度{severity}のチケット {ticket} が{n}日未解決{more_ja}", None),
        "en": ("severity-{severity} ticket {ticket} open {days_en}{more_en}", None),
    },
}


def _fields(reason: Mapping[str, Any], lang: str, currency: str) -> dict[str, Any]:
    """The values every template may name, formatted once."""
    value, limit = float(reason["value"]), _threshold(reason)
    n = round(value)
    when = reason.get("date")
    more = int(reason.get("more", 0) or 0)
    return {
        "money": format_money(value, currency, lang, compact=True),
        "pct": f"{value:.0%}",
        "drop": f"{-value:.0%}",
        "n": n,
        "plural": "s" * (n != 1),
        "days_en": _days_en(n),
        "days_left": max(n, 0),
        "days_left_en": _days_en(max(n, 0)),
        "limit_pct": "" if limit is None else f"{limit:.0%}",
        "limit_n": "" if limit is None else round(limit),
        "limit_days_en": "" if limit is None else _days_en(round(limit)),
        "when_ja": f"、{when}回答" if when else "",
        "when_en": f" on {when}" if when else "",
        "severity": reason.get("severity", ""),
        "ticket": reason.get("ticket", ""),
        "more_ja": f"（他{more}件）" if more else "",
        "more_en": f" (+{more} more)" if more else "",
    }


def reason_text(reason: Mapping[str, Any], lang: str, currency: str = "JPY") -> str:
    """One reason in ``lang`` (ja or en)."""
    lang = check_language(lang)
    code = reason["code"]
    if code not in _TEMPLATES:
        raise ValueError(f"unknown reason code {code!r}")
    text, suffix = _TEMPLATES[code][lang]
    fields = _fields(reason, lang, currency)
    with_limit = suffix is not None and _threshold(reason) is not None
    return text.format(**fields) + (suffix.format(**fields) if with_limit else "")


def render_reasons(reasons: Sequence[Mapping[str, Any]], lang: str, currency: str = "JPY") -> str:
    """The reasons as one line in ``lang`` (ja or en), in the order given."""
    check_language(lang)
    return SEPARATOR.join(reason_text(r, lang, currency) for r in reasons)
